/**
 * Shapes of the values stored under the keys of storage/keys.ts. All are
 * JSON except data chunks (raw bytes).
 */
import type { ObjectMeta } from './object-meta'

export type SplitStateName = 'UNSPLIT' | 'SPLITTING' | 'SPLIT_DONE'

export interface BucketRecord {
  name: string
  id: string
  initialShards: number
  shardCount: number
  splitThreshold: number
  autoSplit: boolean
  createdMs: number
  objectCount: number
  /**
   * The bucket's generation: its identity on every site (node/sync/bucket-rules.ts).
   * Absent in records written before generations: {id, createdMs, local site}.
   */
  gen?: BucketGeneration
  /** Generation ids merged into this one (concurrent creates of the name). */
  merged?: string[]
  /** Newest bucket delete applied to this bucket that it survived or is sweeping. */
  floor?: { mtime: number, site: string }
  /** A floor sweep is under way (resumed at open); 'drop': drop the bucket if it ends empty. */
  sweeping?: 'drop' | 'keep'
}

export interface BucketGeneration { id: string, createdMs: number, site: string }

/** A deleted bucket generation (bt!<name>!<genId>). */
export interface BucketTombstoneRecord {
  name: string
  gen: BucketGeneration
  merged: string[]
  /** The delete's version (mtime, site). */
  version: { mtime: number, site: string }
}

export interface ShardHeader {
  shard: number
  state: SplitStateName
  /** -1 for an initial shard. */
  parent: number
  /** Shards split off from this one, oldest first. */
  children: number[]
  /** Split depth at which this shard was created (0 for initial shards). */
  baseDepth: number
  indexCount: number
  /** Tombstone index entries (deleted keys); absent = 0. Not in indexCount. */
  tombstones?: number
  /** Sequence number of the newest log entry of this shard (0 = none). */
  logSeq: number
  /**
   * Entries up to this seq are trimmed (node/log-trimmer.ts); absent = 0.
   * The log holds exactly the entries logFloor+1 .. logSeq.
   */
  logFloor?: number
  /**
   * Newest log seq per origin site of the change, for position reports
   * (node/trim-policy.ts, foreignHead). Entries logged before it was kept
   * are under '' (an unknown origin, never equal to a site id).
   */
  originSeqs?: Record<string, number>
  /** While SPLITTING: the shard being split off, and the hash bit that decides. */
  splitTo?: number
  splitDepth?: number
}

/** Version metadata shared by heads, index entries and log entries. */
export interface ObjectVersion {
  size: number
  etag: string
  mtime: number
  site: string
}

export interface IndexEntry extends ObjectVersion {
  /** A tombstone: the key was deleted at this version (listed only with includeDeleted). */
  deleted?: boolean
}

export interface ObjectHead extends ObjectVersion {
  /** Content-Type, user metadata and S3 ETag (storage/object-meta.ts); absent when none was given. */
  meta?: ObjectMeta
  /** Data chunks live under d!<dataId>! (or, with blob, in a file); absent for tombstones. */
  dataId?: string
  chunks: number
  /** The content is a file of the blob store (storage/blob-store.ts), not chunks; chunks is 0. */
  blob?: boolean
  deleted?: boolean
  /**
   * CRC-32 of the content (storage/checksum.ts); absent for tombstones and
   * for objects stored before checksums were kept.
   */
  crc32?: number
}

/**
 * A delete waiting to be collected (t!<bucketId>!<shard>!<seq>, keyed by its
 * log entry): written in the delete's batch, removed when its tombstone is
 * collected or was overwritten (storage/log-trim.ts).
 */
export interface TombstoneQueueRecord { key: string, mtime: number, site: string }

/**
 * A peer's newest position report on one of this site's buckets
 * (q!<bucketId>!<peerId>): its durable position per shard, its own log
 * heads of changes that did not come from this site, and its bucket id.
 */
export interface PositionReportRecord {
  at: number
  peerBucketId: string
  /** [shard, seq, 1 = incremental / 0 = full sync (seq = logStart)] */
  positions: Array<[number, number, number]>
  /** [shard of the peer's bucket, seq] */
  heads: Array<[number, number]>
}

export interface LogRecord extends ObjectVersion {
  key: string
  deleted: boolean
}

/** Last writer wins by (mtime, site). Returns > 0 when a is newer than b. */
export function compareVersions (a: { mtime: number, site: string }, b: { mtime: number, site: string }): number {
  if (a.mtime !== b.mtime) return a.mtime - b.mtime
  return a.site < b.site ? -1 : a.site > b.site ? 1 : 0
}
