/**
 * Shard splits: the source side of the seed (claims 9-10, figure 5).
 *
 * Called by the node core (forced splits from AdminService.SplitShard, and
 * resumeSplits at start-up) and by itself on the store's 'index-grew' event
 * (auto-split at the bucket's threshold). Owns nothing on disk of its own:
 * it changes shard headers, index entries and the bucket record through the
 * bucket's writer lock.
 *
 * Dev docs: the steps, each one LevelDB batch
 *   1. header -> SPLITTING (with splitTo = n and splitDepth = d), new shard n
 *      = the bucket's shard count, created empty; shard count n+1.
 *   2. pages of the old shard's index: entries whose hash bit d is 1 move to
 *      shard n (del + put, counts adjusted), one batch per page.
 *   3. header -> SPLIT_DONE with n appended to children, plus whatever the
 *      caller adds to the same batch (the outbox notices for every peer).
 * Writes to the shard go on while it is SPLITTING (the writer applies a
 * moving key on the new shard; see bucket-writer.ts), and so do reads and
 * listings. A shard being filled by a split does not split itself until that
 * split is done. Object data and sync logs never move.
 * Crash safety: after kill -9 the header still says SPLITTING with splitTo
 * and splitDepth, so resumeSplits() re-runs steps 2 and 3. Step 2 is
 * idempotent (moved entries are no longer in the old shard), so no entry is
 * lost or duplicated.
 */
import { EventEmitter } from 'node:events'
import type { BatchOp, BucketState } from './bucket-writer'
import { writeBatch } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'
import { maxShardsOf, type ObjectStore } from './object-store'
import type { BucketRecord, IndexEntry, ShardHeader } from './records'
import { keyHash, MAX_SPLIT_DEPTH, splitBit } from './routing'

/** Index entries read per migration step (one batch, under the writer's lock). */
const MIGRATE_PAGE = 1000

export interface SplitResult { shard: number, newShard: number, moved: number }

export interface SplitterOptions {
  /** Extra operations for the SPLIT_DONE batch (the outbox notices). */
  splitDoneOps: (record: BucketRecord, shard: number, newShard: number) => BatchOp[]
  /** Testing fault knob: pause this long after each migration page, so a split stays SPLITTING long enough to be seen. */
  migratePauseMs?: number
  /** Testing knob: index entries per migration page (default MIGRATE_PAGE). */
  migratePage?: number
  /**
   * At most `limit` splits per bucket begin in any `intervalMs` (sliding
   * window); default none. A forced split beyond it is refused
   * (SPLIT_RATE_LIMITED); an automatic one waits for the window.
   */
  splitRate?: { limit: number, intervalMs: number }
}

/**
 * Events: 'split-started' (record, shard, newShard), 'split-done' (record,
 * shard, newShard, moved), 'error' is never emitted; auto-split failures go
 * to 'auto-split-failed' (err, record, shard); 'split-capped' (record) once
 * per bucket (and per process) when auto-split stops at the shard limit:
 * the shard just grows past its threshold.
 */
export class Splitter extends EventEmitter {
  private readonly running = new Set<string>()
  private closed = false
  /** Bucket id -> start times of its recent splits (within the rate window). */
  private readonly recent = new Map<string, number[]>()
  /** Bucket ids whose auto-splits wait for the rate window, with the timer. */
  private readonly deferred = new Map<string, NodeJS.Timeout>()
  private readonly capped = new Set<string>()
  /** Counters for metrics. */
  readonly counts = { cappedSkips: 0, rateLimited: 0 }

  private readonly migratePage: number

  constructor (private readonly store: ObjectStore, private readonly options: SplitterOptions) {
    super()
    this.migratePage = options.migratePage ?? MIGRATE_PAGE
    store.on('index-grew', (state: BucketState, shards: number[]) => this.checkThresholds(state, shards))
  }

  close (): void {
    this.closed = true
    for (const timer of this.deferred.values()) clearTimeout(timer)
    this.deferred.clear()
  }

  private get maxShards (): number { return maxShardsOf(this.store.options.defaults) }

  /** Forced or automatic split of one shard. */
  async splitShard (bucket: string, shard: number): Promise<SplitResult> {
    const state = this.store.bucketState(bucket)
    this.store.shard(bucket, shard)
    const id = `${state.record.id}/${shard}`
    if (this.running.has(id) || state.shards[shard].state === 'SPLITTING' || isFilling(state, shard)) throw ShardsyncError.shardSplitting(bucket, shard)
    if (state.shards.length >= this.maxShards) throw ShardsyncError.shardLimit(bucket, this.maxShards)
    if (!this.takeRate(state.record.id)) {
      this.counts.rateLimited++
      const r = this.options.splitRate as { limit: number, intervalMs: number }
      throw ShardsyncError.splitRateLimited(bucket, r.limit, r.intervalMs)
    }
    this.running.add(id)
    try {
      await this.beginSplit(state, shard)
      return await this.finishSplit(state, shard)
    } finally {
      this.running.delete(id)
    }
  }

  /** At start-up: finish every split a crash interrupted. */
  async resumeSplits (): Promise<SplitResult[]> {
    const done: SplitResult[] = []
    for (const record of this.store.listBuckets()) {
      const state = this.store.bucketState(record.name)
      for (const header of [...state.shards]) {
        if (header.state !== 'SPLITTING') continue
        const id = `${record.id}/${header.shard}`
        this.running.add(id)
        try {
          done.push(await this.finishSplit(state, header.shard))
        } finally {
          this.running.delete(id)
        }
      }
    }
    return done
  }

  /** True (and counted) if a split of this bucket may begin now under the rate limit. */
  private takeRate (bucketId: string): boolean {
    const rate = this.options.splitRate
    if (rate === undefined) return true
    const now = Date.now()
    const times = (this.recent.get(bucketId) ?? []).filter(t => now - t < rate.intervalMs)
    if (times.length >= rate.limit) { this.recent.set(bucketId, times); return false }
    times.push(now)
    this.recent.set(bucketId, times)
    return true
  }

  /** Whether the rate limit leaves room for one more split of this bucket now (not counted). */
  private rateRoom (bucketId: string): number {
    const rate = this.options.splitRate
    if (rate === undefined) return 0
    const now = Date.now()
    const times = (this.recent.get(bucketId) ?? []).filter(t => now - t < rate.intervalMs)
    return times.length < rate.limit ? 0 : rate.intervalMs - (now - times[0]) + 1
  }

  private checkThresholds (state: BucketState, shards: number[]): void {
    if (this.closed || !state.record.autoSplit) return
    for (const shard of shards) {
      const header = state.shards[shard]
      if (header === undefined || header.state === 'SPLITTING' || header.indexCount < state.record.splitThreshold) continue
      if (isFilling(state, shard)) continue
      if (header.baseDepth + header.children.length >= MAX_SPLIT_DEPTH) continue
      if (this.running.has(`${state.record.id}/${shard}`)) continue
      if (state.shards.length >= this.maxShards) {
        // At the cap auto-split stops; the shard grows past its threshold.
        this.counts.cappedSkips++
        if (!this.capped.has(state.record.id)) { this.capped.add(state.record.id); this.emit('split-capped', state.record) }
        continue
      }
      const wait = this.rateRoom(state.record.id)
      if (wait > 0) {
        // Over the rate: look at every shard of the bucket again when the window has room.
        this.counts.rateLimited++
        if (!this.deferred.has(state.record.id)) {
          const timer = setTimeout(() => {
            this.deferred.delete(state.record.id)
            this.checkThresholds(state, state.shards.map(h => h.shard))
          }, wait)
          timer.unref()
          this.deferred.set(state.record.id, timer)
        }
        return
      }
      this.splitShard(state.record.name, shard).then(
        (r) => this.checkThresholds(state, [r.shard, r.newShard]),
        (err) => { if (!this.closed) this.emit('auto-split-failed', err, state.record, shard) }
      )
    }
  }

  private async beginSplit (state: BucketState, shard: number): Promise<void> {
    const db = this.store.db
    await state.writer.exclusive(async () => {
      const header = state.shards[shard]
      if (header.state === 'SPLITTING') throw ShardsyncError.shardSplitting(state.record.name, shard)
      const depth = header.baseDepth + header.children.length
      if (depth >= MAX_SPLIT_DEPTH) throw ShardsyncError.splitDepthExhausted(state.record.name, shard)
      // Checked again under the lock: two splits may have passed the check in splitShard together.
      if (state.shards.length >= this.maxShards) throw ShardsyncError.shardLimit(state.record.name, this.maxShards)
      const n = state.shards.length
      const splitting: ShardHeader = { ...header, state: 'SPLITTING', splitTo: n, splitDepth: depth }
      const child: ShardHeader = { shard: n, state: 'UNSPLIT', parent: shard, children: [], baseDepth: depth + 1, indexCount: 0, logSeq: 0 }
      const record: BucketRecord = { ...state.record, shardCount: n + 1 }
      await writeBatch(db, [
        { type: 'put', key: keys.shardKey(record.id, shard), value: splitting },
        { type: 'put', key: keys.shardKey(record.id, n), value: child },
        { type: 'put', key: keys.bucketKey(record.name), value: record }
      ])
      state.shards[shard] = splitting
      state.shards[n] = child
      state.record = record
      this.emit('split-started', record, shard, n)
    })
  }

  private async finishSplit (state: BucketState, shard: number): Promise<SplitResult> {
    const db = this.store.db
    const { splitTo, splitDepth } = state.shards[shard]
    if (splitTo === undefined || splitDepth === undefined) throw new ShardsyncError('INTERNAL', `shard ${shard} is SPLITTING without a target`)
    const id = state.record.id
    const prefix = keys.indexPrefix(id, shard)
    let moved = 0
    let after = prefix
    for (;;) {
      // Read and move one page under the writer's lock: writes to the
      // shard go on during the split (see bucket-writer.ts), so a page read
      // outside it could move an entry a write has just replaced. Values
      // are moved as stored (raw JSON text), not decoded and re-encoded.
      // The page is read in one native call (iterator.all), not an awaited
      // next() per entry: the lock is held, and PUTs wait, for less time.
      const page = await state.writer.exclusive(async () => {
        const read = await db.iterator<string, string>({ gt: after, lt: keys.prefixRange(prefix).lt, limit: this.migratePage, valueEncoding: 'utf8' }).all()
        if (read.length === 0) return 0
        after = read[read.length - 1][0]
        const moving: Array<[string, string]> = []
        for (const [k, raw] of read) {
          const key = k.slice(prefix.length)
          if (splitBit(keyHash(key), splitDepth) === 1) moving.push([key, raw])
        }
        if (moving.length === 0) return read.length
        // Tombstone entries move too, counted apart from live ones.
        let dead = 0
        for (const [, raw] of moving) if ((JSON.parse(raw) as IndexEntry).deleted === true) dead++
        const live = moving.length - dead
        const from = state.shards[shard]
        const to = state.shards[splitTo]
        const src: ShardHeader = { ...from, indexCount: from.indexCount - live, tombstones: Math.max(0, (from.tombstones ?? 0) - dead) }
        const dst: ShardHeader = { ...to, indexCount: to.indexCount + live, tombstones: (to.tombstones ?? 0) + dead }
        const ops: BatchOp[] = []
        for (const [key, raw] of moving) {
          ops.push({ type: 'del', key: keys.indexKey(id, shard, key) })
          ops.push({ type: 'put', key: keys.indexKey(id, splitTo, key), value: raw, valueEncoding: 'utf8' } as BatchOp)
        }
        ops.push({ type: 'put', key: keys.shardKey(id, shard), value: src })
        ops.push({ type: 'put', key: keys.shardKey(id, splitTo), value: dst })
        await writeBatch(db, ops)
        state.shards[shard] = src
        state.shards[splitTo] = dst
        moved += live
        return read.length
      })
      if (page === 0) break
      if ((this.options.migratePauseMs ?? 0) > 0) await new Promise(resolve => setTimeout(resolve, this.options.migratePauseMs))
    }
    if ((this.options.migratePauseMs ?? 0) > 0 && moved === 0) await new Promise(resolve => setTimeout(resolve, this.options.migratePauseMs))
    await state.writer.exclusive(async () => {
      const { splitTo: _t, splitDepth: _d, ...rest } = state.shards[shard]
      const done: ShardHeader = { ...rest, state: 'SPLIT_DONE', children: [...rest.children, splitTo] }
      const ops: BatchOp[] = [
        { type: 'put', key: keys.shardKey(id, shard), value: done },
        ...this.options.splitDoneOps(state.record, shard, splitTo)
      ]
      await writeBatch(db, ops)
      state.shards[shard] = done
    })
    this.emit('split-done', state.record, shard, splitTo, moved)
    return { shard, newShard: splitTo, moved }
  }
}

/**
 * A shard still being filled by the split that created it. It must not split
 * itself before that split is done: the migration would keep moving entries
 * into it that its own split had meant to route further.
 */
function isFilling (state: BucketState, shard: number): boolean {
  const parent = state.shards[state.shards[shard].parent]
  return parent !== undefined && parent.state === 'SPLITTING' && parent.splitTo === shard
}
