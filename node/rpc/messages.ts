/**
 * Conversions between storage records and generated wire types. Pure; used
 * by the handlers (node records -> messages) and the gRPC source client
 * (messages -> node types).
 */
import { decodeObjectMeta, encodeObjectMeta, type ObjectMeta } from '../../storage/object-meta'
import type { BucketRecord, BucketTombstoneRecord, ObjectVersion, SplitStateName } from '../../storage/records'
import type { SourceObjectInfo, SourceShard } from '../sync/source-client'
import type { Bucket } from './generated/shardsync/v1/Bucket'
import type { ObjectInfo, ObjectInfo__Output } from './generated/shardsync/v1/ObjectInfo'
import type { ShardInfo, ShardInfo__Output } from './generated/shardsync/v1/ShardInfo'
import type { SplitState, SplitState__Output } from './generated/shardsync/v1/SplitState'

export function bucketMessage (r: BucketRecord): Bucket {
  return {
    name: r.name,
    id: r.id,
    initialShards: r.initialShards,
    shardCount: r.shardCount,
    splitThreshold: r.splitThreshold,
    autoSplit: r.autoSplit,
    createdMs: r.createdMs,
    objectCount: r.objectCount,
    generationId: r.gen?.id ?? r.id,
    generationCreatedMs: r.gen?.createdMs ?? r.createdMs,
    generationSite: r.gen?.site ?? '',
    mergedGenerations: r.merged ?? [],
    floorMs: r.floor?.mtime ?? 0,
    floorSite: r.floor?.site ?? '',
    deleted: false
  }
}

/** A bucket tombstone as ListBuckets(include_deleted) lists it. */
export function bucketTombstoneMessage (t: BucketTombstoneRecord): Bucket {
  return {
    name: t.name,
    generationId: t.gen.id,
    generationCreatedMs: t.gen.createdMs,
    generationSite: t.gen.site,
    mergedGenerations: t.merged,
    floorMs: t.version.mtime,
    floorSite: t.version.site,
    deleted: true
  }
}

/** An object's info; `crc32` where v has one (a head, or info with content). */
export function objectInfoMessage (key: string, v: ObjectVersion & { crc32?: number, meta?: ObjectMeta }): ObjectInfo {
  const m: ObjectInfo = { key, size: v.size, etag: v.etag, mtime: v.mtime, originSite: v.site }
  if (v.crc32 !== undefined) m.crc32 = v.crc32
  if (v.meta !== undefined) m.metadata = encodeObjectMeta(v.meta)
  return m
}

export function fromObjectInfo (m: ObjectInfo__Output): SourceObjectInfo {
  const info: SourceObjectInfo = { key: m.key, size: Number(m.size), etag: m.etag, mtime: Number(m.mtime), site: m.originSite }
  if (m.crc32 !== undefined) info.crc32 = m.crc32
  if (m.metadata !== undefined && m.metadata !== '') info.meta = decodeObjectMeta(m.metadata)
  return info
}

export function splitStateMessage (s: SplitStateName): SplitState {
  return `SPLIT_STATE_${s}`
}

export function fromSplitState (s: SplitState__Output): SplitStateName {
  switch (s) {
    case 'SPLIT_STATE_SPLITTING': return 'SPLITTING'
    case 'SPLIT_STATE_SPLIT_DONE': return 'SPLIT_DONE'
    default: return 'UNSPLIT'
  }
}

export function shardMessage (s: SourceShard): ShardInfo {
  return { shard: s.shard, state: splitStateMessage(s.state), parent: s.parent, children: s.children, indexCount: s.indexCount, logSeq: s.logSeq, logFloor: s.logFloor }
}

export function fromShardMessage (m: ShardInfo__Output): SourceShard {
  return { shard: m.shard, state: fromSplitState(m.state), parent: m.parent, children: m.children, indexCount: Number(m.indexCount), logSeq: Number(m.logSeq), logFloor: Number(m.logFloor ?? 0) }
}
