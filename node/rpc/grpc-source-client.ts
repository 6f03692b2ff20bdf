/**
 * SourceClient over gRPC: how a target node reaches a peer's SyncService.
 * Created by the node's connectPeer (see node/cli/run-node.ts). Every call
 * carries this node's site id ("shardsync-site") and a deadline; failures
 * come back as ShardsyncErrors with the peer's stable code.
 */
import * as grpc from '@grpc/grpc-js'
import type { PeerAddress } from '../config'
import type { FetchedObject, PositionReport, PullAnswer, PullOptions, ShardStreamBatch, ShardStreamEvent, ShardStreamOptions, SourceBucket, SourceClient, SourceIndexPage, SourceObjectInfo, SourceShard, SplitStateAnswer } from '../sync/source-client'
import { callUnary, createClients, type Clients } from './clients'
import type { FetchObjectsResponse__Output } from './generated/shardsync/v1/FetchObjectsResponse'
import type { ListBucketsResponse__Output } from './generated/shardsync/v1/ListBucketsResponse'
import type { ListIndexResponse__Output } from './generated/shardsync/v1/ListIndexResponse'
import type { ListShardsResponse__Output } from './generated/shardsync/v1/ListShardsResponse'
import type { NotifyReshardCompleteResponse__Output } from './generated/shardsync/v1/NotifyReshardCompleteResponse'
import type { PullChangesResponse__Output } from './generated/shardsync/v1/PullChangesResponse'
import type { QuerySplitStateResponse__Output } from './generated/shardsync/v1/QuerySplitStateResponse'
import type { StreamShardResponse__Output } from './generated/shardsync/v1/StreamShardResponse'
import { fromObjectInfo, fromShardMessage, fromSplitState } from './messages'
import { fromServiceError } from './status-map'
import { BUCKET_ID_METADATA_KEY, SITE_METADATA_KEY } from './sync-service'

/** Streams of object data may run long; they are bounded, not unbounded. */
const FETCH_DEADLINE_MS = 10 * 60_000
/**
 * A whole shard's stream: long, but bounded. Progress is saved per batch,
 * so a stream cut by it resumes from the last batch in the next round.
 */
const STREAM_DEADLINE_MS = 60 * 60_000
const EMPTY = Buffer.alloc(0)

export interface GrpcSourceClientOptions {
  localSite: string
  deadlineMs: number
  credentials?: grpc.ChannelCredentials
  metadata?: Record<string, string>
}

export class GrpcSourceClient implements SourceClient {
  private readonly clients: Clients
  private readonly bucketIds = new Map<string, string>()

  constructor (private readonly peer: PeerAddress, private readonly opts: GrpcSourceClientOptions) {
    this.clients = createClients(peer.address, {
      credentials: opts.credentials,
      metadata: { ...opts.metadata, [SITE_METADATA_KEY]: opts.localSite },
      perCall: (req) => {
        const bucket = (req as { bucket?: unknown } | undefined)?.bucket
        const id = typeof bucket === 'string' ? this.bucketIds.get(bucket) : undefined
        return id === undefined ? undefined : { [BUCKET_ID_METADATA_KEY]: id }
      }
    })
  }

  expectBucketId (name: string, id: string | undefined): void {
    if (id === undefined) this.bucketIds.delete(name)
    else this.bucketIds.set(name, id)
  }

  get peerId (): string { return this.peer.id }

  async listBuckets (): Promise<SourceBucket[]> {
    const res = await callUnary<object, ListBucketsResponse__Output>(this.clients.object, 'ListBuckets', { includeDeleted: true }, this.opts.deadlineMs)
    return res.buckets.map(b => {
      const out: SourceBucket = { name: b.name, id: b.id, shardCount: b.shardCount, deleted: b.deleted }
      // A peer from before generations sends none: its bucket is its own generation.
      out.gen = b.generationId !== '' ? { id: b.generationId, createdMs: Number(b.generationCreatedMs), site: b.generationSite } : { id: b.id, createdMs: Number(b.createdMs), site: this.peer.id }
      if (b.mergedGenerations.length > 0) out.merged = b.mergedGenerations
      if (b.floorSite !== '') out.floor = { mtime: Number(b.floorMs), site: b.floorSite }
      return out
    })
  }

  async listShards (bucket: string): Promise<{ bucketId: string, shards: SourceShard[] }> {
    const res = await callUnary<object, ListShardsResponse__Output>(this.clients.sync, 'ListShards', { bucket }, this.opts.deadlineMs)
    return { bucketId: res.bucketId, shards: res.shards.map(fromShardMessage) }
  }

  async querySplitState (bucket: string, shard: number): Promise<SplitStateAnswer> {
    const res = await callUnary<object, QuerySplitStateResponse__Output>(this.clients.sync, 'QuerySplitState', { bucket, shard }, this.opts.deadlineMs)
    return { state: fromSplitState(res.state), newShards: res.newShards, logSeq: Number(res.logSeq), bucketId: res.bucketId, shardCount: res.shardCount, filling: res.filling }
  }

  async listIndex (bucket: string, shard: number, marker: string, limit: number, includeDeleted = false): Promise<SourceIndexPage> {
    const res = await callUnary<object, ListIndexResponse__Output>(this.clients.sync, 'ListIndex', { bucket, shard, marker, limit, includeDeleted }, this.opts.deadlineMs)
    return { entries: res.entries.map(fromObjectInfo), tombstones: res.tombstones.map(fromObjectInfo), nextMarker: res.nextMarker }
  }

  async * fetchObjects (bucket: string, keys: string[]): AsyncGenerator<FetchedObject> {
    const call = this.clients.sync.FetchObjects({ bucket, keys }, { deadline: Date.now() + FETCH_DEADLINE_MS })
    let current: { info: SourceObjectInfo, parts: Buffer[], got: number } | undefined
    let complete = false
    try {
      for await (const msg of call as AsyncIterable<FetchObjectsResponse__Output>) {
        if (msg.objects.length > 0) {
          if (current !== undefined) throw new Error('FetchObjects: object cut short')
          for (const o of msg.objects) {
            const info = fromObjectInfo(o.info ?? { key: '', size: 0, etag: '', mtime: 0, originSite: '' })
            yield o.missing ? { key: info.key, missing: true, data: EMPTY } : { key: info.key, missing: false, info, data: o.data }
          }
          continue
        }
        if (msg.info !== null && msg.info !== undefined) {
          if (current !== undefined) throw new Error('FetchObjects: object cut short')
          const info = fromObjectInfo(msg.info)
          if (msg.missing) { yield { key: info.key, missing: true, data: EMPTY }; continue }
          current = { info, parts: [], got: 0 }
        } else if (current === undefined) {
          throw new Error('FetchObjects: data without an object')
        }
        // Data may ride with the info message or follow in its own messages.
        if (msg.data.length > 0) {
          current.parts.push(msg.data)
          current.got += msg.data.length
        }
        if (current.got >= current.info.size) {
          const done = current
          current = undefined
          yield { key: done.info.key, missing: false, info: done.info, data: done.parts.length === 1 ? done.parts[0] : done.parts }
        }
      }
      complete = true
    } catch (err) {
      throw fromServiceError(err, 'FetchObjects')
    } finally {
      if (!complete) call.cancel()
    }
  }

  async * streamShard (bucket: string, shard: number, marker: string, opts: ShardStreamOptions): AsyncGenerator<ShardStreamEvent> {
    const call = this.clients.sync.StreamShard({ bucket, shard, marker, includeDeleted: opts.includeDeleted, inlineMaxBytes: opts.inlineMaxBytes, referenceOriginSite: opts.referenceOriginSite ?? '' }, { deadline: Date.now() + STREAM_DEADLINE_MS })
    const empty = (): ShardStreamBatch => ({ objects: [], references: [], tombstones: [], resumeMarker: '', done: false })
    let batch = empty()
    let received = false
    let complete = false
    try {
      for await (const msg of call as AsyncIterable<StreamShardResponse__Output>) {
        received = true
        const s = msg.start
        if (s !== null) yield { kind: 'start', state: { state: fromSplitState(s.state), newShards: s.newShards, logSeq: Number(s.logSeq), bucketId: s.bucketId, shardCount: s.shardCount, filling: s.filling } }
        for (const o of msg.objects) {
          if (o.missing || o.info === null) continue
          const info = fromObjectInfo(o.info)
          batch.objects.push({ key: info.key, info, data: o.data })
        }
        for (const r of msg.references) batch.references.push(fromObjectInfo(r))
        for (const t of msg.tombstones) batch.tombstones.push(fromObjectInfo(t))
        if (!msg.endOfBatch) continue
        batch.resumeMarker = msg.resumeMarker
        batch.done = msg.done
        const full = batch
        batch = empty()
        yield { kind: 'batch', batch: full }
        if (full.done) break
      }
      complete = true
    } catch (err) {
      // An older source: the method is not there (nothing was streamed).
      if (!received && (err as { code?: unknown }).code === grpc.status.UNIMPLEMENTED) { complete = true; yield { kind: 'unsupported' }; return }
      throw fromServiceError(err, 'StreamShard')
    } finally {
      if (!complete) call.cancel()
    }
  }

  async pullChanges (bucket: string, cursors: Array<{ shard: number, afterSeq: number }>, opts: PullOptions): Promise<PullAnswer> {
    const res = await callUnary<object, PullChangesResponse__Output>(this.clients.sync, 'PullChanges', {
      bucket, cursors, limit: opts.limit, waitMs: opts.waitMs, excludeOrigin: opts.excludeOrigin, maxInlineBytes: opts.maxInlineBytes ?? 0
    }, this.opts.deadlineMs + opts.waitMs)
    return {
      entries: res.entries.map(e => ({
        shard: e.shard,
        seq: Number(e.seq),
        deleted: e.deleted,
        info: fromObjectInfo(e.info ?? { key: '', size: 0, etag: '', mtime: 0, originSite: '' }),
        data: e.hasData ? e.data : undefined
      })),
      positions: res.positions.map(p => ({ shard: p.shard, seq: Number(p.afterSeq) })),
      heads: res.heads.map(p => ({ shard: p.shard, seq: Number(p.afterSeq) })),
      shardCount: res.shardCount
    }
  }

  async notifyReshardComplete (info: string): Promise<{ recorded: boolean }> {
    const res = await callUnary<object, NotifyReshardCompleteResponse__Output>(this.clients.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: info }, this.opts.deadlineMs)
    return { recorded: res.recorded }
  }

  async reportPositions (bucket: string, report: PositionReport): Promise<void> {
    await callUnary<object, object>(this.clients.sync, 'ReportPositions', {
      bucket,
      positions: report.positions,
      reporterBucketId: report.reporterBucketId,
      heads: report.heads.map(h => ({ shard: h.shard, afterSeq: h.seq }))
    }, this.opts.deadlineMs)
  }

  close (): void {
    this.clients.close()
  }
}
