/**
 * The source side of sync as a plain class: what SyncService answers.
 *
 * Called by the gRPC handlers (node/rpc/sync-service.ts) and by in-process
 * tests that connect a target to a source without a network. Reads only,
 * but for the peers' position reports (storage/position-store.ts), which it
 * validates and stores; it owns nothing but the waiters of long-polls.
 */
import type { BucketState } from '../storage/bucket-writer'
import type { ObjectStore } from '../storage/object-store'
import { clampLimit, isSmall, MAX_SHARDS_CEILING, withHeadroom } from '../storage/object-store'
import { ShardsyncError } from '../storage/errors'
import type { PositionStore } from '../storage/position-store'
import { isValidBucketId, isValidSiteId, validateSiteId } from '../storage/validate'
import type { ObjectHead } from '../storage/records'
import { openShardStream, type SourceStreamBatch, type StreamShardOptions } from './source-stream'
import { isFilling } from './sync/shard-guard'
import type { PositionReport, PullAnswer, PullOptions, SourceChange, SourceIndexPage, SourceObjectInfo, SourceShard, SplitStateAnswer } from './sync/source-client'

export const MAX_FETCH_KEYS = 1000
export const MAX_WAIT_MS = 30_000
/**
 * Most cursors of one PullChanges: the ceiling of --max-shards (a request
 * names each shard at most once). The server also holds a request to the
 * node's --max-shards before decoding it (rpc/request-check.ts), and
 * pullChanges to the bucket's own shard count.
 */
export const MAX_CURSORS = MAX_SHARDS_CEILING
/** PullChanges inlines the content of puts up to this size... */
export const INLINE_OBJECT_BYTES = 64 * 1024
/** ...and at most this much per answer, whatever the request asks. */
const MAX_INLINE_BYTES = 4 * 1024 * 1024

export interface FetchItem {
  key: string
  missing: boolean
  info?: SourceObjectInfo
  /** The content of a small object, already read (its chunks, in order). */
  parts?: Buffer[]
  /** The content chunk by chunk (reads it if `parts` is unset). */
  chunks: AsyncIterable<Buffer>
}

export class SourceApi {
  private readonly maxInlineBytes: number
  private readonly positions: PositionStore | undefined

  /** maxInlineBytes: the most content one PullChanges answer carries (message size). */
  constructor (private readonly store: ObjectStore, opts: { maxInlineBytes?: number, positions?: PositionStore } = {}) {
    this.positions = opts.positions
    this.maxInlineBytes = Math.min(opts.maxInlineBytes ?? MAX_INLINE_BYTES, MAX_INLINE_BYTES)
  }

  listShards (bucket: string): { bucketId: string, shards: SourceShard[] } {
    const state = this.store.bucketState(bucket)
    return { bucketId: state.record.id, shards: state.shards.map(toSourceShard) }
  }

  querySplitState (bucket: string, shard: number): SplitStateAnswer {
    const state = this.store.bucketState(bucket)
    const h = this.store.shard(bucket, shard)
    return { state: h.state, newShards: [...h.children], logSeq: h.logSeq, bucketId: state.record.id, shardCount: state.shards.length, filling: isFilling(state.shards, h) }
  }

  async listIndex (bucket: string, shard: number, marker: string, limit: number, includeDeleted = false): Promise<SourceIndexPage> {
    return await this.store.listIndex(bucket, shard, marker, limit, includeDeleted)
  }

  /**
   * StreamShard: the shard's split state now, and its index from `marker` in
   * batches (node/source-stream.ts). referenceOriginSite is empty or a site
   * id (INVALID_ARGUMENT before anything is read).
   */
  streamShard (bucket: string, shard: number, marker: string, opts: StreamShardOptions): { start: SplitStateAnswer, batches: AsyncGenerator<SourceStreamBatch> } {
    const own = opts.referenceOriginSite ?? ''
    if (own !== '') validateSiteId(own, 'reference_origin_site')
    return openShardStream(this.store, this.querySplitState(bucket, shard), bucket, shard, marker, opts)
  }

  /**
   * For each key: its info and content, or missing. Heads are read in one go.
   * `headroom`: as in ObjectStore.readChunks, for every item's `chunks`.
   */
  async * fetchObjects (bucket: string, keys: string[], headroom = 0): AsyncGenerator<FetchItem> {
    if (keys.length > MAX_FETCH_KEYS) throw ShardsyncError.invalidArgument(`at most ${MAX_FETCH_KEYS} keys per FetchObjects call`)
    const heads = await this.store.getHeads(bucket, keys)
    // Small objects' data in one read for the whole call, not one per object.
    const small = await this.store.readSmallMany(heads)
    for (let i = 0; i < keys.length; i++) {
      const head = heads[i]
      if (head === undefined || head.deleted === true) {
        yield { key: keys[i], missing: true, chunks: empty() }
        continue
      }
      const data = small[i]
      if (data === undefined && isSmall(head)) {
        // Overwritten or deleted between the two reads: the newer change is
        // in the log, so this version is simply gone.
        yield { key: keys[i], missing: true, chunks: empty() }
        continue
      }
      yield { key: keys[i], missing: false, info: infoOf(keys[i], head), parts: data, chunks: data !== undefined ? fromArray(data, headroom) : this.store.readChunks(head, headroom) }
    }
  }

  /**
   * A peer's position report on a bucket (ReportPositions): validated in
   * full, then stored whole in one put, replacing its previous one. A
   * position cannot pass the shard's log head, and each shard is named once.
   */
  async reportPositions (bucket: string, site: string | undefined, report: PositionReport): Promise<void> {
    const state = this.store.bucketState(bucket)
    if (!isValidSiteId(site)) throw ShardsyncError.invalidArgument('ReportPositions needs the caller\'s site (its credential, or the shardsync-site header)')
    if (!isValidBucketId(report.reporterBucketId)) throw ShardsyncError.invalidArgument('reporter_bucket_id must be a bucket id')
    validateCursors(bucket, report.positions.map(p => ({ shard: p.shard, afterSeq: p.seq })), state.shards.length, 'ReportPositionsRequest.positions')
    for (const p of report.positions) {
      if (p.seq > state.shards[p.shard].logSeq) throw ShardsyncError.invalidArgument(`position of shard ${p.shard} must be between 0 and its log head`)
    }
    if (report.heads.length > MAX_CURSORS) throw ShardsyncError.tooManyItems('ReportPositionsRequest.heads', MAX_CURSORS)
    const heads = new Set<number>()
    for (const h of report.heads) {
      if (!Number.isInteger(h.shard) || h.shard < 0 || h.shard >= MAX_CURSORS) throw ShardsyncError.invalidArgument('heads: shard out of range')
      if (heads.has(h.shard)) throw ShardsyncError.duplicateCursor(h.shard)
      heads.add(h.shard)
      if (!Number.isSafeInteger(h.seq) || h.seq < 0) throw ShardsyncError.invalidArgument('heads: seq must be a non-negative integer')
    }
    if (this.positions === undefined) return
    await this.positions.put(state.record.id, site, {
      at: Date.now(),
      peerBucketId: report.reporterBucketId,
      positions: report.positions.map(p => [p.shard, p.seq, p.incremental ? 1 : 0]),
      heads: report.heads.map(h => [h.shard, h.seq])
    })
  }

  /**
   * Log entries after the cursors, waiting up to waitMs for the first one.
   * Entries from `excludeOrigin` are left out, but positions move past them.
   */
  async pullChanges (bucket: string, cursors: Array<{ shard: number, afterSeq: number }>, opts: PullOptions & { signal?: AbortSignal }): Promise<PullAnswer> {
    const answer = await this.pullEntries(bucket, cursors, opts)
    const maxInline = Math.min(opts.maxInlineBytes ?? 0, this.maxInlineBytes)
    if (maxInline > 0 && answer.entries.length > 0) await this.attachData(bucket, answer.entries, maxInline)
    return answer
  }

  /**
   * Puts the content of small puts into their entries, up to maxBytes in
   * all, where the entry is still the object's current version (an entry
   * overwritten since has a newer one later in some log; it is fetched or
   * superseded as usual). Saves the target a FetchObjects round trip.
   */
  private async attachData (bucket: string, entries: SourceChange[], maxBytes: number): Promise<void> {
    const wanted = entries.filter(e => !e.deleted && e.info.size <= INLINE_OBJECT_BYTES)
    if (wanted.length === 0) return
    const heads = await this.store.getHeads(bucket, wanted.map(e => e.info.key))
    let budget = maxBytes
    const current = heads.map((h, i) => {
      const e = wanted[i].info
      if (h === undefined || h.deleted === true || h.etag !== e.etag || h.mtime !== e.mtime || h.site !== e.site || h.size !== e.size || e.size > budget) return undefined
      budget -= e.size
      return h
    })
    const data = await this.store.readSmallMany(current)
    for (let i = 0; i < wanted.length; i++) {
      const parts = data[i]
      if (parts === undefined) continue
      wanted[i].data = parts.length === 1 ? parts[0] : Buffer.concat(parts)
      const crc32 = current[i]?.crc32
      if (crc32 !== undefined) wanted[i].info.crc32 = crc32
      const meta = current[i]?.meta
      if (meta !== undefined) wanted[i].info.meta = meta
    }
  }

  /**
   * Dev docs: one long-poll. The first look reads every cursor; while
   * nothing but the requester's own changes (skipped) turned up, it waits
   * for appends and looks again at the shards appended to since its last
   * look only, so that a poll over 20,000 shards costs per append what the
   * append touched, not a pass over every cursor (issue 28: at 10M objects
   * the reverse direction of a full sync waited this way through every
   * group commit of the target). The listener is on for the whole poll, so
   * an append between two looks is never missed.
   */
  private async pullEntries (bucket: string, cursors: Array<{ shard: number, afterSeq: number }>, opts: PullOptions & { signal?: AbortSignal }): Promise<PullAnswer> {
    const state = this.store.bucketState(bucket)
    validateCursors(bucket, cursors, state.shards.length)
    const limit = clampLimit(opts.limit)
    const waitMs = Math.max(0, Math.min(opts.waitMs, MAX_WAIT_MS))
    const deadline = Date.now() + waitMs
    const at = cursors.map(c => ({ shard: c.shard, afterSeq: c.afterSeq }))
    const index = new Map(at.map((c, i) => [c.shard, i]))
    const watch = new LogWatch(this.store, state.record.id, opts.signal)
    try {
      let only: number[] | undefined
      for (;;) {
        watch.appended.clear()
        const got = await this.collect(bucket, state, at, index, limit, opts.excludeOrigin, only)
        if (got.entries.length > 0 || Date.now() >= deadline || opts.signal?.aborted === true) return this.answer(state, at, got.entries)
        // Budget spent on skipped entries with more to read: look again now, at all of them.
        if (got.advanced && got.behind) {
          only = undefined
          continue
        }
        if (watch.appended.size === 0) await watch.next(deadline - Date.now())
        only = [...watch.appended]
      }
    } finally {
      watch.close()
    }
  }

  private answer (state: BucketState, at: ReadonlyArray<{ shard: number, afterSeq: number }>, entries: SourceChange[]): PullAnswer {
    return {
      entries,
      positions: at.map(c => ({ shard: c.shard, seq: c.afterSeq })),
      heads: at.map(c => ({ shard: c.shard, seq: state.shards[c.shard].logSeq })),
      shardCount: state.shards.length
    }
  }

  /**
   * One look at the logs after the cursors in `at` (all of them, or those
   * of the shards in `only`), moving each past what it reads: at most
   * `limit` entries in all. Which ranges to read is decided first, in
   * memory (a shard's log is contiguous up to its logSeq, so the n entries
   * after a position below it are all there, or LOG_TRIMMED); then they are
   * read at once (ObjectStore.readLogRanges: short ranges by key in one
   * getMany, long ones with an iterator each). Read one shard after
   * another, an answer over 256 shards waited for 256 LevelDB round trips,
   * each behind whatever else the event loop had queued (on a busy source,
   * most of the incremental lag).
   */
  private async collect (bucket: string, state: BucketState, at: Array<{ shard: number, afterSeq: number }>, index: ReadonlyMap<number, number>, limit: number, excludeOrigin: string, only?: readonly number[]): Promise<{ entries: SourceChange[], advanced: boolean, behind: boolean }> {
    const reads: Array<{ shard: number, afterSeq: number, n: number }> = []
    let budget = limit
    let advanced = false
    let behind = false
    const look = only !== undefined ? only.map(s => index.get(s)).filter((i): i is number => i !== undefined) : at.map((_, i) => i)
    // Start at a rotating offset so one busy shard cannot starve the rest.
    const start = look.length > 0 ? Math.floor(Math.random() * look.length) : 0
    for (let n = 0; n < look.length; n++) {
      const c = at[look[(start + n) % look.length]]
      const head = state.shards[c.shard].logSeq
      let pos = c.afterSeq
      while (budget > 0 && head > pos) {
        // Runs of the requester's own changes are skipped unread; entries
        // of other origins, or not known to the cache, are read.
        const run = excludeOrigin !== '' ? state.origins.runAt(c.shard, pos + 1) : undefined
        if (run !== undefined && run.site === excludeOrigin) {
          pos = Math.min(run.to, head)
          continue
        }
        const count = Math.min(budget, head - pos, run !== undefined ? run.to - pos : Infinity)
        reads.push({ shard: c.shard, afterSeq: pos, n: count })
        pos += count
        budget -= count
      }
      if (pos > c.afterSeq) advanced = true
      if (pos < head) behind = true
      c.afterSeq = pos
    }
    const entries: SourceChange[] = []
    for (const log of await this.store.readLogRanges(bucket, reads)) {
      for (const e of log) {
        if (e.site === excludeOrigin) continue
        entries.push({ shard: e.shard, seq: e.seq, deleted: e.deleted, info: { key: e.key, size: e.size, etag: e.etag, mtime: e.mtime, site: e.site } })
      }
    }
    return { entries, advanced, behind }
  }
}

/**
 * The appends to one bucket's log while a poll waits (ObjectStore's 'log'
 * event names the shards a durable batch appended to): the shards
 * appended to, and a wait for the next append, the deadline or the abort.
 */
class LogWatch {
  readonly appended = new Set<number>()
  private wake: (() => void) | undefined
  private readonly onLog = (id: string, shards: readonly number[]): void => {
    if (id !== this.bucketId) return
    for (const s of shards) this.appended.add(s)
    this.wake?.()
  }

  private readonly onAbort = (): void => this.wake?.()

  constructor (private readonly store: ObjectStore, private readonly bucketId: string, private readonly signal?: AbortSignal) {
    store.on('log', this.onLog)
    signal?.addEventListener('abort', this.onAbort)
  }

  async next (waitMs: number): Promise<void> {
    if (this.signal?.aborted === true) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, Math.max(0, waitMs))
      const self = this
      function done (): void {
        clearTimeout(timer)
        self.wake = undefined
        resolve()
      }
      this.wake = done
    })
  }

  close (): void {
    this.store.off('log', this.onLog)
    this.signal?.removeEventListener('abort', this.onAbort)
    this.wake?.()
  }
}

/**
 * One pass, no allocation but a bit per shard: at most one cursor per shard
 * of the bucket, each naming one of its shards, with a sane after_seq.
 */
export function validateCursors (bucket: string, cursors: ReadonlyArray<{ shard: number, afterSeq: number }>, shardCount: number, what = 'PullChangesRequest.cursors'): void {
  if (cursors.length > Math.min(shardCount, MAX_CURSORS)) throw ShardsyncError.tooManyItems(`${what} (one per shard of the bucket)`, Math.min(shardCount, MAX_CURSORS))
  const seen = new Uint8Array(shardCount)
  for (const c of cursors) {
    if (!Number.isInteger(c.shard) || c.shard < 0 || c.shard >= shardCount) throw ShardsyncError.shardNotFound(bucket, c.shard)
    if (seen[c.shard] === 1) throw ShardsyncError.duplicateCursor(c.shard)
    seen[c.shard] = 1
    if (!Number.isSafeInteger(c.afterSeq) || c.afterSeq < 0) throw ShardsyncError.invalidArgument('after_seq must be a non-negative integer')
  }
}

export function toSourceShard (h: { shard: number, state: SourceShard['state'], parent: number, children: number[], indexCount: number, logSeq: number, logFloor?: number }): SourceShard {
  return { shard: h.shard, state: h.state, parent: h.parent, children: [...h.children], indexCount: h.indexCount, logSeq: h.logSeq, logFloor: h.logFloor ?? 0 }
}

export function infoOf (key: string, head: ObjectHead): SourceObjectInfo {
  const info: SourceObjectInfo = { key, size: head.size, etag: head.etag, mtime: head.mtime, site: head.site }
  if (head.crc32 !== undefined) info.crc32 = head.crc32
  if (head.meta !== undefined) info.meta = head.meta
  return info
}

async function * empty (): AsyncGenerator<Buffer> {}

async function * fromArray (parts: Buffer[], headroom: number): AsyncGenerator<Buffer> {
  for (const part of parts) yield withHeadroom(part, headroom)
}
