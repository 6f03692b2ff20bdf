/**
 * What a target needs from a source site, as plain TypeScript: the sync
 * engine (node/sync/) talks only to this interface. The rpc layer implements
 * it over gRPC (node/rpc/grpc-source-client.ts); tests implement it in
 * memory. Errors are ShardsyncErrors with the source's stable code, or
 * UPSTREAM_UNAVAILABLE when the source could not be reached.
 */
import type { ObjectMeta } from '../../storage/object-meta'
import type { SplitStateName } from '../../storage/records'

export interface SourceObjectInfo {
  key: string
  size: number
  etag: string
  mtime: number
  site: string
  /**
   * CRC-32 of the content (storage/checksum.ts), where the source has one;
   * set with content (FetchObjects, PullChanges data), never in listings.
   */
  crc32?: number
  /** Content-Type, user metadata, S3 ETag (storage/object-meta.ts); with content only, like crc32. */
  meta?: ObjectMeta
}

/**
 * A peer's bucket as its list shows it: a live bucket (id: its storage id
 * at the peer), or with deleted a tombstone of a generation (id empty,
 * floor: the delete's version). See node/sync/bucket-rules.ts.
 */
export interface SourceBucket {
  name: string
  id: string
  shardCount: number
  gen?: { id: string, createdMs: number, site: string }
  merged?: string[]
  floor?: { mtime: number, site: string }
  deleted?: boolean
}

export interface SourceShard {
  shard: number
  state: SplitStateName
  parent: number
  children: number[]
  indexCount: number
  logSeq: number
  /** Entries up to it are trimmed (0 from sources that predate trimming). */
  logFloor: number
}

export interface SplitStateAnswer {
  state: SplitStateName
  newShards: number[]
  logSeq: number
  bucketId: string
  shardCount: number
  /**
   * The shard is still being filled by the split that creates it: it must
   * not be listed yet (false from sources that predate the field, which
   * the start-time checks cover).
   */
  filling: boolean
}

export interface FetchedObject {
  key: string
  /** Deleted since it was listed or logged. */
  missing: boolean
  info?: SourceObjectInfo
  /** The content: one buffer, or a large object's pieces as they arrived (not joined: no copy). */
  data: Buffer | Buffer[]
}

export interface SourceChange {
  shard: number
  seq: number
  deleted: boolean
  info: SourceObjectInfo
  /** The content of a small put, sent inline (absent: fetch it). */
  data?: Buffer
}

/** A target's position report on one source bucket (SourceApi.reportPositions). */
export interface PositionReport {
  positions: Array<{ shard: number, seq: number, incremental: boolean }>
  /** The target's own copy of the bucket, as the source tails it. */
  reporterBucketId: string
  /** Per shard of that copy: newest log entry not from the source (foreignHead). */
  heads: Array<{ shard: number, seq: number }>
}

export interface PullOptions {
  limit: number
  waitMs: number
  excludeOrigin: string
  /** Inline content of small puts, up to this many bytes per answer (0/absent: none). */
  maxInlineBytes?: number
}

export interface PullAnswer {
  entries: SourceChange[]
  positions: Array<{ shard: number, seq: number }>
  /** Newest log entry of each requested shard at the source, now (absent from old peers). */
  heads?: Array<{ shard: number, seq: number }>
  shardCount: number
}

/** A page of a source shard's index: live entries, tombstones of the same key range, next marker. */
export interface SourceIndexPage { entries: SourceObjectInfo[], tombstones: SourceObjectInfo[], nextMarker: string }

/** What a target asks of StreamShard. */
export interface ShardStreamOptions {
  /** Also the tombstones of the range (invariant 17). */
  includeDeleted: boolean
  /** Content of small objects inlined per batch, about (0: none). */
  inlineMaxBytes: number
  /**
   * Live entries of this origin come as references, never inline: the
   * target's own site (its own writes, which it normally holds; copyNewer
   * fetches those it lacks). Absent or '': no such rule.
   */
  referenceOriginSite?: string
}

/** A small object that came with its whole content. */
export interface StreamedObject { key: string, info: SourceObjectInfo, data: Buffer }

/** One batch of a shard stream: everything of the key range (previous marker, resumeMarker]. */
export interface ShardStreamBatch {
  objects: StreamedObject[]
  /** Live entries without content (large objects, those of referenceOriginSite): fetch what is newer. */
  references: SourceObjectInfo[]
  tombstones: SourceObjectInfo[]
  /** Save it; a new stream resumes after it. */
  resumeMarker: string
  /** The shard has no key after resumeMarker. */
  done: boolean
}

/**
 * What a shard stream yields: first the shard's split state when the stream
 * began, then batches in key order. A source that does not serve the call
 * (an older peer) yields only 'unsupported'.
 */
export type ShardStreamEvent =
  | { kind: 'start', state: SplitStateAnswer }
  | { kind: 'batch', batch: ShardStreamBatch }
  | { kind: 'unsupported' }

export interface SourceClient {
  readonly peerId: string
  listBuckets (): Promise<SourceBucket[]>
  listShards (bucket: string): Promise<{ bucketId: string, shards: SourceShard[] }>
  querySplitState (bucket: string, shard: number): Promise<SplitStateAnswer>
  /**
   * One page of a shard's index. With includeDeleted, also the tombstones of
   * the page's key range (older peers send none: tombstones is then empty).
   */
  listIndex (bucket: string, shard: number, marker: string, limit: number, includeDeleted?: boolean): Promise<SourceIndexPage>
  fetchObjects (bucket: string, keys: string[]): AsyncIterable<FetchedObject>
  /**
   * One shard's index from `marker` as one stream of batches (streaming
   * full sync, node/sync/stream-sync.ts). Optional: a client without it is
   * synced on the listed path.
   */
  streamShard?: (bucket: string, shard: number, marker: string, opts: ShardStreamOptions) => AsyncIterable<ShardStreamEvent>
  pullChanges (bucket: string, cursors: Array<{ shard: number, afterSeq: number }>, opts: PullOptions): Promise<PullAnswer>
  notifyReshardComplete (info: string): Promise<{ recorded: boolean }>
  /** ReportPositions: this target's durable positions on the source's bucket (node/sync/position-report.ts). */
  reportPositions (bucket: string, report: PositionReport): Promise<void>
  /**
   * From now on, calls on bucket `name` name the peer's bucket `id` and fail
   * with BUCKET_NOT_FOUND if the peer's bucket of that name is another one
   * (deleted and re-created); undefined forgets it. Optional: in-memory
   * sources answer for one bucket only.
   */
  expectBucketId?: (name: string, id: string | undefined) => void
  close (): void
}
