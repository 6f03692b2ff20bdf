/**
 * Target-side sync state: the seed's sync-progress objects, one per source
 * shard, named from source site, source bucket id and source shard
 * (p!<site>!<bucketId>!<shard>), and one record per source bucket
 * (r!<site>!<bucketId>) that maps it to the local bucket.
 *
 * Called by the sync workers (node/sync/) and by the notice handler. Every
 * change to a progress object is a read-modify-write under a per-object
 * lock, so a notice appended while a worker advances its marker is never
 * overwritten; each change is one put.
 */
import { writeBatch, type Database } from './database'
import * as keys from './keys'
import { releaseSourceBucket } from './bucket-drop'

export type ShardSyncState = 'full' | 'incremental'

export interface ProgressRecord {
  site: string
  srcBucketId: string
  srcShard: number
  /** Local bucket name the source bucket syncs into. */
  bucket: string
  state: ShardSyncState
  /** Full sync: list the source shard after this key. */
  marker: string
  /** Source log position recorded before the first listing (null = not yet). */
  logStart: number | null
  /** Incremental sync: the last source log entry applied. */
  logCursor: number
  /** Seed format "bucketId:srcShard:newShard", appended from notices. */
  newShards: string[]
  /** New shards learned by pulling (QuerySplitState), beyond the seed. */
  pulledShards: number[]
  /** Entries listed and objects applied during full sync. */
  listed: number
  applied: number
  /** Rounds abandoned because the source shard was SPLITTING. */
  splittingRetries: number
  /** Times the source trimmed its log past this shard's cursor (LOG_TRIMMED), so it was full-synced again. */
  resyncs?: number
  /** How the shard was found: initial, notice or pull. */
  origin: 'initial' | 'notice' | 'pull'
  createdMs: number
  updatedMs: number
  fullSyncDoneMs?: number
  lastError?: string
  lastErrorAt?: number
}

export interface SourceBucketRecord {
  site: string
  srcBucketId: string
  srcName: string
  /** Local bucket the source bucket syncs into (same name). */
  bucket: string
  /** Its id: the sync state goes with that bucket (storage/bucket-drop.ts). */
  localBucketId?: string
  /** Source shard count when syncing of the bucket began. */
  initialShardCount: number
  /** Highest source shard count seen (ListShards, QuerySplitState, notices). */
  knownShardCount: number
  startedMs: number
}

/**
 * A run of a source shard's log that holds only this site's own changes,
 * which the tail leaves out (exclude_origin): entries from+1 .. to. A fact
 * about the source's log, which never changes, so it stays true; a cursor
 * at or past `from` may move to `to` without reading (skipPast).
 */
export interface SkipRange { from: number, to: number }

/** Where a cursor at `cursor` may move with `range` (itself if the range does not reach it). */
export function skipPast (cursor: number, range: SkipRange | undefined): number {
  return range !== undefined && range.from <= cursor && cursor < range.to ? range.to : cursor
}

/** Two ranges of one shard's log as one: their union if they touch, else the newer (higher) one. */
export function mergeSkipRanges (a: SkipRange, b: SkipRange): SkipRange {
  if (a.from <= b.to && b.from <= a.to) return { from: Math.min(a.from, b.from), to: Math.max(a.to, b.to) }
  return a.to >= b.to ? a : b
}

/** Adds `range` to a shard's range in `ranges` (mergeSkipRanges). */
export function addSkipRange (ranges: Map<number, SkipRange>, shard: number, range: SkipRange): void {
  const old = ranges.get(shard)
  ranges.set(shard, old === undefined ? range : mergeSkipRanges(old, range))
}

/** ts!<site>!<srcBucketId>: [shard, from, to] per source shard. */
interface TailSkipsRecord { skips: Array<[number, number, number]> }

export class ProgressStore {
  private readonly locks = new Map<string, Promise<unknown>>()

  constructor (private readonly db: Database) {}

  async get (site: string, srcBucketId: string, srcShard: number): Promise<ProgressRecord | undefined> {
    return await this.db.get(keys.progressKey(site, srcBucketId, srcShard)) as ProgressRecord | undefined
  }

  /** All progress objects of one source bucket, by shard. */
  async list (site: string, srcBucketId: string): Promise<ProgressRecord[]> {
    const out: ProgressRecord[] = []
    for await (const v of this.db.values(keys.prefixRange(keys.progressPrefix(site, srcBucketId)))) out.push(v as ProgressRecord)
    return out
  }

  /** All progress objects for one source site. */
  async * listSite (site: string): AsyncGenerator<ProgressRecord> {
    for await (const v of this.db.values(keys.prefixRange(keys.siteProgressPrefix(site)))) yield v as ProgressRecord
  }

  /** Creates the progress object if it does not exist; returns the stored one. */
  async ensure (init: Pick<ProgressRecord, 'site' | 'srcBucketId' | 'srcShard' | 'bucket' | 'origin' | 'logStart'>): Promise<{ record: ProgressRecord, created: boolean }> {
    const key = keys.progressKey(init.site, init.srcBucketId, init.srcShard)
    return await this.locked(key, async () => {
      const existing = await this.db.get(key) as ProgressRecord | undefined
      if (existing !== undefined) return { record: existing, created: false }
      const now = Date.now()
      const record: ProgressRecord = {
        ...init, state: 'full', marker: '', logCursor: 0, newShards: [], pulledShards: [], listed: 0, applied: 0, splittingRetries: 0, createdMs: now, updatedMs: now
      }
      await this.db.put(key, record)
      return { record, created: true }
    })
  }

  /**
   * Read-modify-write of one progress object. `change` gets the stored
   * record (or undefined) and returns the new one, or undefined to leave it.
   */
  async update (site: string, srcBucketId: string, srcShard: number, change: (r: ProgressRecord | undefined) => ProgressRecord | undefined): Promise<ProgressRecord | undefined> {
    const key = keys.progressKey(site, srcBucketId, srcShard)
    return await this.locked(key, async () => {
      const current = await this.db.get(key) as ProgressRecord | undefined
      const next = change(current === undefined ? undefined : structuredClone(current))
      if (next === undefined) return current
      next.updatedMs = Date.now()
      await this.db.put(key, next)
      return next
    })
  }

  /**
   * The same read-modify-write on several progress objects of one source
   * bucket, in one batch, holding every one's lock (the tail saves all its
   * cursors this way after each poll).
   */
  async updateMany (site: string, srcBucketId: string, shards: readonly number[], change: (shard: number, r: ProgressRecord | undefined) => ProgressRecord | undefined): Promise<void> {
    if (shards.length === 0) return
    const ks = shards.map(s => keys.progressKey(site, srcBucketId, s))
    const before = ks.map(k => this.locks.get(k) ?? Promise.resolve())
    const run = Promise.all(before.map(async p => await p.catch(noop))).then(async () => {
      const current = await this.db.getMany(ks) as Array<ProgressRecord | undefined>
      const ops: Array<{ type: 'put', key: string, value: ProgressRecord }> = []
      const now = Date.now()
      current.forEach((r, i) => {
        const next = change(shards[i], r === undefined ? undefined : structuredClone(r))
        if (next !== undefined) { next.updatedMs = now; ops.push({ type: 'put', key: ks[i], value: next }) }
      })
      if (ops.length > 0) await writeBatch(this.db, ops)
    })
    const tail = run.then(noop, noop)
    for (const k of ks) {
      this.locks.set(k, tail)
      void tail.then(() => { if (this.locks.get(k) === tail) this.locks.delete(k) })
    }
    await run
  }

  /** The tail skips stored for one source bucket, by source shard (empty when none). */
  async getTailSkips (site: string, srcBucketId: string): Promise<Map<number, SkipRange>> {
    const rec = await this.db.get(keys.tailSkipsKey(site, srcBucketId)) as TailSkipsRecord | undefined
    return new Map((rec?.skips ?? []).map(([shard, from, to]) => [shard, { from, to }]))
  }

  /**
   * Merges `ranges` into the tail skips of one source bucket: one record
   * and one put for every shard, however many moved (the tail saves its
   * skips this way with each position report, instead of one progress
   * object per shard). Returns what is stored now.
   */
  async addTailSkips (site: string, srcBucketId: string, ranges: ReadonlyMap<number, SkipRange>): Promise<Map<number, SkipRange>> {
    const key = keys.tailSkipsKey(site, srcBucketId)
    return await this.locked(key, async () => {
      const stored = await this.getTailSkips(site, srcBucketId)
      if (ranges.size === 0) return stored
      for (const [shard, r] of ranges) addSkipRange(stored, shard, r)
      const rec: TailSkipsRecord = { skips: [...stored].map(([shard, r]) => [shard, r.from, r.to]) }
      // writeBatch: synced under --durability fsync, like the cursors it stands for (a report follows).
      await writeBatch(this.db, [{ type: 'put', key, value: rec }])
      return stored
    })
  }

  async getSourceBucket (site: string, srcBucketId: string): Promise<SourceBucketRecord | undefined> {
    return await this.db.get(keys.sourceBucketKey(site, srcBucketId)) as SourceBucketRecord | undefined
  }

  async listSourceBuckets (site: string): Promise<SourceBucketRecord[]> {
    const out: SourceBucketRecord[] = []
    for await (const v of this.db.values(keys.prefixRange(keys.sourceBucketsPrefix(site)))) out.push(v as SourceBucketRecord)
    return out
  }

  /**
   * Records a source bucket and creates the progress objects of every shard
   * it has now, in one batch (seed: "at the start of syncing, an object for
   * each initial source shard").
   */
  async startSourceBucket (record: SourceBucketRecord, skip: readonly number[] = []): Promise<void> {
    const now = Date.now()
    const ops: Array<{ type: 'put', key: string, value: unknown }> = [{ type: 'put', key: keys.sourceBucketKey(record.site, record.srcBucketId), value: record }]
    for (let shard = 0; shard < record.initialShardCount; shard++) {
      if (skip.includes(shard)) continue
      const p: ProgressRecord = {
        site: record.site, srcBucketId: record.srcBucketId, srcShard: shard, bucket: record.bucket, state: 'full', marker: '', logStart: null, logCursor: 0,
        newShards: [], pulledShards: [], listed: 0, applied: 0, splittingRetries: 0, origin: 'initial', createdMs: now, updatedMs: now
      }
      ops.push({ type: 'put', key: keys.progressKey(record.site, record.srcBucketId, shard), value: p })
    }
    await writeBatch(this.db, ops)
  }

  /**
   * Forgets a source bucket: its record, then its progress objects. A crash
   * in between leaves progress objects without a record; startSourceBucket
   * callers release first, so none of them is ever resumed.
   */
  async release (site: string, srcBucketId: string): Promise<void> {
    await releaseSourceBucket(this.db, site, srcBucketId)
  }

  async updateSourceBucket (site: string, srcBucketId: string, change: (r: SourceBucketRecord) => SourceBucketRecord | undefined): Promise<SourceBucketRecord | undefined> {
    const key = keys.sourceBucketKey(site, srcBucketId)
    return await this.locked(key, async () => {
      const current = await this.db.get(key) as SourceBucketRecord | undefined
      if (current === undefined) return undefined
      const next = change({ ...current })
      if (next === undefined) return current
      await this.db.put(key, next)
      return next
    })
  }

  private async locked<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.then(noop, noop)
    this.locks.set(key, tail)
    void tail.then(() => { if (this.locks.get(key) === tail) this.locks.delete(key) })
    return await run
  }
}

function noop (): void {}
