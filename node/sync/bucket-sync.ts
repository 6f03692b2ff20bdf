/**
 * Sync of one source bucket from one peer into the local bucket of the same
 * name: the full-sync rounds and the incremental tail.
 *
 * Created by PeerSync when it finds a bucket on a peer. Owns the progress
 * objects of that source bucket (p!<site>!<bucketId>!*) and its source
 * bucket record (r!<site>!<bucketId>); shares them with the notice handler,
 * which only appends to newShards.
 *
 * Dev docs
 * - Rounds: at once when a notice is stored, a new shard's progress
 *   object is created, the tail sees the source's shard count pass what
 *   notices told, or the source trimmed past a cursor; every sync
 *   interval while a round left work (a shard still in full sync, one
 *   waiting on a split, an error); and once a sweep interval
 *   (ROUND_SWEEP_INTERVALS sync intervals) in any case, which covers a
 *   trigger that never came.
 *   A full pass first starts shards named by notices, then (split-aware
 *   mode) pulls ListShards and starts every source shard that has no
 *   progress object yet and whose creating split is done; then runs
 *   fullSyncShard on every shard still in full sync, several at a time,
 *   until none is runnable this round. It reads every progress object of
 *   the bucket three times and the source's whole shard list.
 *   A targeted pass does the same for the shards named since the last
 *   round only (`due`): the parent a notice was stored for, a shard just
 *   started, a shard a round left unfinished. It is what runs between
 *   sweeps unless something asked for a full pass (a trigger that names no
 *   shard: the shard count grew, a trim, an error, the first round).
 *   Why: a split of the source's shard costs the target a round, and a
 *   full pass per split made a sync's cost per object grow with its
 *   shard count (issue 28: the reverse direction of a 10M full sync, whose
 *   target split 20 times a second into 20,000 shards). A missed name
 *   costs at most a sweep: a full pass finds whatever a targeted one left.
 * - Tail: one long-poll (PullChanges) over all shards in incremental state,
 *   from their saved log cursors; changes are applied, then cursors saved.
 *   Polls for what follows go out as answers arrive, while earlier ones
 *   are applied (node/sync/polls-ahead.ts; answers are still applied in
 *   order), and are dropped if the cursors moved otherwise. A step's
 *   cursors are saved once its changes are durable, while the next answer
 *   is applied; the next step's save waits for that one.
 *   Changes that came from this site are left out by the source (no
 *   ping-pong); anything replayed is dropped by last-writer-wins.
 */
import type { Logger } from 'pino'
import { isShardsyncError } from '../../storage/errors'
import { bucketRef, type ObjectStore } from '../../storage/object-store'
import type { ProgressRecord, ProgressStore, SourceBucketRecord } from '../../storage/progress-store'
import type { SyncMode } from '../config'
import { firstContact } from './first-contact'
import { fullSyncShard, startNewShards, startShard, type FullSyncRoute, type ShardSyncContext } from './shard-sync'
import { positionReport, resetTrimmedShards } from './position-report'
import { PollsAhead, type TailCursor } from './polls-ahead'
import { SkippedCursors } from './skipped-cursors'
import { SourceView } from './source-view'
import { isFilling } from './shard-guard'
import type { PullAnswer, SourceBucket, SourceClient } from './source-client'
import { sleep, Waker } from './sleep'
import type { ObjectTransfer } from './transfer'

const PULL_LIMIT = 1000
/** A tail poll waits this long for changes, per PULL_WAIT_CURSORS cursors it carries, up to MAX_PULL_WAIT_MS. */
const PULL_WAIT_MS = 2000
const PULL_WAIT_CURSORS = 2000
const MAX_PULL_WAIT_MS = 10_000

/**
 * How long a tail poll over `cursors` shards waits for changes. A poll that
 * ends with nothing to apply still costs both sides work per cursor (the
 * request, every position and head in the answer, the cursors' update), so
 * the wait grows with the cursor count: idle tailing costs about the same
 * per second at 20,000 shards as at 2,000 (issue 28: at 10M objects both
 * directions tailed 15,000-20,000 idle shards every 2 s for the whole full
 * sync). Changes end a poll at once whatever the wait; a shard that enters
 * incremental sync waits for the poll under way, so at most this long.
 */
export function pullWaitMs (cursors: number): number {
  return Math.min(MAX_PULL_WAIT_MS, PULL_WAIT_MS * Math.max(1, Math.ceil(cursors / PULL_WAIT_CURSORS)))
}
/** Small objects' content rides with their log entries, up to this much per answer. */
const PULL_INLINE_BYTES = 4 * 1024 * 1024
const MAX_BACKOFF_MS = 10_000
/** With nothing to do, a round still runs once every this many sync intervals (a missed trigger costs at most that long). */
export const ROUND_SWEEP_INTERVALS = 30
/** A shard the tail saw, or a pull found still filling, that no notice has told of gets a full pass this many sync intervals later. */
export const PULL_GRACE_INTERVALS = 5

const LISTED: FullSyncRoute = { path: 'list', streamUnsupported: false }

export interface BucketSyncDeps {
  localSite: string
  client: SourceClient
  store: ObjectStore
  progress: ProgressStore
  transfer: ObjectTransfer
  mode: SyncMode
  /** --full-sync-path and what the peer serves (PeerSync's); absent: listed (in-process sources, the model). */
  fullSync?: FullSyncRoute
  intervalMs: number
  /** Source shards fully synced at once in a round (--sync-shard-concurrency). */
  shardConcurrency: number
  /** How often positions are reported to the source (ms); absent = never (in-memory tests). */
  positionReportMs?: number
  log: Logger
}

export interface BucketSyncCounters {
  objectsApplied: number
  bytesApplied: number
  deletesApplied: number
  changesApplied: number
  rounds: number
  /** Shards full-synced again because the source trimmed past them. */
  resyncs: number
  lastError?: string
  lastErrorAt?: number
  /** mtime of the newest change applied by the tail, for lag. */
  lastAppliedMtime: number
}

export class BucketSync {
  readonly view = new SourceView()
  readonly counters: BucketSyncCounters = { objectsApplied: 0, bytesApplied: 0, deletesApplied: 0, changesApplied: 0, rounds: 0, resyncs: 0, lastAppliedMtime: 0 }
  private record: SourceBucketRecord | undefined
  private stopped = false
  private readonly roundWaker = new Waker()
  /** A round has something to do (see Rounds above); the first one always does. */
  private roundDue = true
  /** What the next round looks at: the shards named since the last one, or 'all' (a full pass). */
  private due: Set<number> | 'all' = 'all'
  private lastFullPassAt = 0
  /** When a full pass is due although no shard was named (schedulePull); undefined = none. */
  private fullPassAt: number | undefined
  private readonly abort = new AbortController()
  private loops: Promise<void>[] = []
  private readonly log: Logger
  private relatedArtLogSeqs = new Map<number, number>()
  /** Incremental shards and their cursors; undefined = reload from progress objects. */
  private tailCursors: Map<number, number> | undefined
  /** Bumped whenever a shard enters incremental sync: cursors loaded before are stale. */
  private tailEpoch = 0
  /** Polls sent before the answers they follow were applied. */
  private readonly ahead = new PollsAhead()
  /** The last tail step's cursor save, still being written (pipelined tail). */
  private saving: Promise<void> | undefined
  /** Cursors moved past skipped entries only, not saved yet. */
  private readonly skipped: SkippedCursors

  /** Local bucket written into, by id (bucketRef): never a later bucket of the same name. */
  private localRef: string

  /**
   * localBucketId: the local bucket PeerSync chose. Without it (the protocol
   * model test's in-memory source), the bucket of the source's name is used,
   * created at first contact if missing.
   */
  constructor (private readonly deps: BucketSyncDeps, readonly source: SourceBucket, public localBucketId?: string) {
    this.localRef = localBucketId !== undefined ? bucketRef(localBucketId) : source.name
    this.log = deps.log.child({ bucket: source.name, srcBucketId: source.id })
    this.skipped = new SkippedCursors(deps.positionReportMs !== undefined)
  }

  get srcBucketId (): string { return this.source.id }

  start (): void {
    this.loops = [this.roundLoop(), this.tailLoop(), this.reportLoop()]
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.abort.abort()
    this.ahead.close()
    await Promise.allSettled(this.loops)
    await this.saving?.catch(noop)
    await this.storeSkips().catch(noop)
  }

  /**
   * Something changed: run a round now. `shard`: a shard whose progress
   * object the change was to (a notice stored for it, it was just
   * started); without one, the next round is a full pass.
   */
  requestRound (shard?: number): void {
    if (shard === undefined) this.due = 'all'
    else if (this.due !== 'all') this.due.add(shard)
    this.roundDue = true
    this.roundWaker.wake()
  }

  /**
   * The source has a shard no notice told of yet (the tail saw the count
   * grow, or a pull found it still being filled): a full pass, which pulls
   * the shard list, PULL_GRACE_INTERVALS from now, unless one is due
   * sooner. A notice usually comes first and starts it; with its notice
   * lost, the shard is found all the same.
   */
  private schedulePull (): void {
    const at = Date.now() + PULL_GRACE_INTERVALS * this.deps.intervalMs
    if (this.fullPassAt === undefined || at < this.fullPassAt) this.fullPassAt = at
  }

  private async roundLoop (): Promise<void> {
    let backoff = this.deps.intervalMs
    const sweepMs = this.deps.intervalMs * ROUND_SWEEP_INTERVALS
    while (!this.stopped) {
      const now = Date.now()
      const sweep = now - this.lastFullPassAt >= sweepMs || (this.fullPassAt !== undefined && now >= this.fullPassAt)
      if (this.roundDue || sweep) {
        try {
          await this.round(sweep ? 'all' : 'due')
          backoff = this.deps.intervalMs
        } catch (err) {
          if (this.stopped) return
          this.requestRound()
          this.noteError(err, 'full sync round failed')
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
        }
      }
      await sleep(backoff, this.abort.signal, this.roundWaker)
    }
  }

  /**
   * One full-sync round over this bucket: a full pass ('all'), or ('due')
   * a targeted pass over the shards named since the last round, unless
   * something asked for a full one (see Rounds above). It leaves roundDue
   * set if it left work for the next interval: a shard still in full sync
   * (SPLITTING, failed, or found too late to run; the next round looks at
   * those), or a source shard not started because its split is still
   * filling it (the next round is a full pass, which pulls the shard list).
   */
  async round (scope: 'all' | 'due' = 'all'): Promise<void> {
    this.counters.rounds++
    this.roundDue = false
    const due = scope === 'all' || this.record === undefined ? 'all' : this.due
    this.due = new Set()
    if (due === 'all') {
      this.lastFullPassAt = Date.now()
      this.fullPassAt = undefined
    }
    if (this.record === undefined) this.record = await this.init()
    const ctx = this.context()
    const left = due === 'all' ? await this.fullPass(ctx) : await this.targetedPass(ctx, due)
    for (const shard of left) this.requestRound(shard)
  }

  /** Every progress object of the bucket, and (split-aware) the source's shard list. Returns the shards left in full sync. */
  private async fullPass (ctx: ShardSyncContext): Promise<number[]> {
    const { progress, client } = this.deps
    const site = client.peerId

    if (this.deps.mode === 'split-aware') {
      // Notices first, so that shards they name are credited to them.
      for (const rec of await progress.list(site, this.source.id)) {
        if (rec.newShards.length > 0) await startNewShards(ctx, rec.srcShard, undefined)
      }
      // A shard still being filled: its split's notice starts it when done,
      // or else a full pass's pull, a little later.
      if (await this.pullShards(ctx)) this.schedulePull()
    } else {
      // The negative control lists the source every round, as the related art polls.
      this.requestRound()
      const { shards } = await client.listShards(this.source.name)
      this.relatedArtLogSeqs = new Map(shards.map(s => [s.shard, s.logSeq]))
      this.view.sourceShards = shards.length
      for (const s of shards) this.view.indexCount.set(s.shard, s.indexCount)
    }

    const attempted = new Set<number>()
    for (;;) {
      // Shard numbers only: the first pass runs the whole full sync, and
      // 15,000 progress objects held through it were heap every collection marked.
      const full = (await progress.list(site, this.source.id)).filter(r => r.state === 'full').map(r => r.srcShard)
      const runnable = full.filter(shard => !attempted.has(shard))
      if (runnable.length === 0 || this.stopped) return full
      for (const shard of runnable) attempted.add(shard)
      // Shards started meanwhile are in this pass's next listing.
      if (this.due !== 'all') for (const shard of runnable) this.due.delete(shard)
      await this.runShards(ctx, runnable)
    }
  }

  /**
   * The shards named since the last round (and the shards they start, in
   * turn): notices recorded in their progress objects start their new
   * shards, and those still in full sync are run. Returns the shards left
   * in full sync.
   */
  private async targetedPass (ctx: ShardSyncContext, due: Set<number>): Promise<number[]> {
    const { progress, client } = this.deps
    const attempted = new Set<number>()
    const left: number[] = []
    let look = [...due]
    while (look.length > 0 && !this.stopped) {
      for (const s of look) attempted.add(s)
      const recs = (await Promise.all(look.map(async s => await progress.get(client.peerId, this.source.id, s)))).filter((r): r is ProgressRecord => r !== undefined)
      // Notices first, so that shards they name are credited to them.
      if (this.deps.mode === 'split-aware') for (const r of recs) if (r.newShards.length > 0) await startNewShards(ctx, r.srcShard, undefined)
      left.push(...await this.runShards(ctx, recs.filter(r => r.state === 'full').map(r => r.srcShard)))
      // Shards started by this pass (onShardStarted named them) run in it too.
      look = this.due === 'all' ? [] : [...this.due].filter(s => !attempted.has(s))
      if (this.due !== 'all') for (const s of look) this.due.delete(s)
    }
    return left
  }

  /** fullSyncShard on each, several at a time (--sync-shard-concurrency). Returns those left in full sync (SPLITTING, failed). */
  private async runShards (ctx: ShardSyncContext, shards: number[]): Promise<number[]> {
    const left: number[] = []
    await runLimited(shards, this.deps.shardConcurrency, async (shard) => {
      if (this.stopped) return
      try {
        const outcome = await fullSyncShard(ctx, shard)
        if (outcome === 'done') await this.enterTail(shard)
        else if (outcome === 'splitting') left.push(shard)
      } catch (err) {
        if (this.stopped) return
        left.push(shard)
        await this.noteShardError(shard, err)
      }
    })
    return left
  }

  /** First contact with this source bucket (first-contact.ts): its record, and the local bucket it syncs into. */
  private async init (): Promise<SourceBucketRecord> {
    const { record, localBucketId } = await firstContact(this.deps, this.source, this.localBucketId, this.log)
    if (localBucketId !== undefined) {
      this.localBucketId = localBucketId
      this.localRef = bucketRef(localBucketId)
    }
    return record
  }

  /** Beyond the seed: learn new shards from the source's shard list. True if one was left for later (still being filled by its split). */
  private async pullShards (ctx: ShardSyncContext): Promise<boolean> {
    const { progress, client } = this.deps
    const { shards } = await client.listShards(this.source.name)
    this.view.sourceShards = shards.length
    for (const s of shards) this.view.indexCount.set(s.shard, s.indexCount)
    this.view.noteLogHeads(shards.map(s => ({ shard: s.shard, seq: s.logSeq })))
    const known = new Set((await progress.list(client.peerId, this.source.id)).map(r => r.srcShard))
    let waiting = false
    for (const s of shards) {
      if (known.has(s.shard)) continue
      // Skip a shard still being filled by its split; it is started when
      // the split is done (its parent then lists it as a child).
      if (isFilling(shards, s)) {
        waiting = true
        continue
      }
      await startShard(ctx, s.shard, 'pull', s.parent)
    }
    this.record = await progress.updateSourceBucket(client.peerId, this.source.id, b => shards.length > b.knownShardCount ? { ...b, knownShardCount: shards.length } : undefined) ?? this.record
    return waiting
  }

  private context (): ShardSyncContext {
    const d = this.deps
    return {
      site: d.client.peerId,
      localSite: d.localSite,
      srcBucketId: this.source.id,
      srcBucket: this.source.name,
      localBucket: this.localRef,
      mode: d.mode,
      fullSync: d.fullSync ?? LISTED,
      client: d.client,
      store: d.store,
      progress: d.progress,
      transfer: d.transfer,
      log: this.log,
      relatedArtLogSeq: (shard) => this.relatedArtLogSeqs.get(shard) ?? 0,
      onShardStarted: (shard) => {
        // Confirmed by the source's split history: a shard of it, listed or not yet.
        this.view.sourceShards = Math.max(this.view.sourceShards, shard + 1)
        this.requestRound(shard)
      },
      onObjects: (applied, bytes) => { this.counters.objectsApplied += applied; this.counters.bytesApplied += bytes },
      onDeletes: (deleted) => { this.counters.deletesApplied += deleted }
    }
  }

  private async tailLoop (): Promise<void> {
    let backoff = 100
    while (!this.stopped) {
      try {
        const idle = !(await this.tailStep(undefined, { pipeline: true }))
        if (idle) await sleep(this.deps.intervalMs, this.abort.signal)
        backoff = 100
      } catch (err) {
        if (this.stopped) return
        if (isShardsyncError(err, 'LOG_TRIMMED')) {
          await this.resyncTrimmed().catch((e: unknown) => this.noteError(e, 'resync after LOG_TRIMMED failed'))
          await sleep(backoff, this.abort.signal)
          continue
        }
        this.noteError(err, 'incremental sync failed')
        await sleep(backoff, this.abort.signal)
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    }
  }

  /**
   * One long-poll over every shard in incremental sync: apply what came,
   * then save the cursors. Returns false if no shard is incremental yet.
   * waitMs: how long the poll waits for changes (undefined: pullWaitMs of
   * the cursor count).
   * With pipeline (the tail loop), the polls for what follows are sent
   * before this answer is applied, so that a busy source is tailed
   * without a round trip between answers; and the cursors' save is left
   * running while the next answer is applied (the next step waits for it
   * before its own, and reports its failure).
   */
  async tailStep (waitMs: number | undefined, opts: { pipeline?: boolean } = {}): Promise<boolean> {
    const { progress, client, transfer, localSite } = this.deps
    if (this.record === undefined) return false
    // Cursors live in memory between polls (the progress objects are the
    // durable copy); reloaded whenever a shard enters incremental sync.
    // Rounds run beside the tail, so a shard may enter it while they load:
    // that load is stale and is done again (kept, it would leave the shard
    // out of every poll until another shard entered incremental sync).
    while (this.tailCursors === undefined) {
      // The last save first, so that the reload sees it.
      await this.settleSave()
      const epoch = this.tailEpoch
      const recs = (await progress.list(client.peerId, this.source.id)).filter(r => r.state === 'incremental')
      const skips = await progress.getTailSkips(client.peerId, this.source.id)
      if (epoch === this.tailEpoch) {
        this.skipped.setStored(skips)
        this.tailCursors = new Map(recs.map(r => [r.srcShard, this.skipped.position(r.srcShard, r.logCursor)]))
      }
    }
    const tail = this.tailCursors
    if (tail.size === 0) return false
    const wait = waitMs ?? pullWaitMs(tail.size)
    const cursors: TailCursor[] = [...tail].map(([shard, afterSeq]) => ({ shard, afterSeq }))
    // Every answer's heads are noted as it arrives, also one sent ahead and
    // not applied yet: how far behind the tail is counts against them.
    const pull = async (from: TailCursor[]): Promise<PullAnswer> => {
      const a = await client.pullChanges(this.source.name, from, { limit: PULL_LIMIT, waitMs: wait, excludeOrigin: localSite, maxInlineBytes: PULL_INLINE_BYTES })
      this.view.noteLogHeads(a.heads ?? a.positions)
      return a
    }
    // A poll sent ahead is used if it asked for exactly these cursors.
    const ahead = this.ahead.take(cursors)
    const answer = ahead !== undefined ? await ahead() : await pull(cursors)
    // Ask for what follows while this answer is applied: answers are
    // still applied one after another, in order.
    if (opts.pipeline === true) this.ahead.follow(cursors, answer, pull)
    if (answer.entries.length > 0) {
      const stats = await transfer.applyChanges(this.localRef, this.source.name, answer.entries)
      this.counters.objectsApplied += stats.applied
      this.counters.bytesApplied += stats.bytes
      this.counters.deletesApplied += stats.deleted
      this.counters.changesApplied += answer.entries.length
      for (const e of answer.entries) this.counters.lastAppliedMtime = Math.max(this.counters.lastAppliedMtime, e.info.mtime)
    }
    this.view.noteApplied(answer.heads ?? answer.positions, answer.positions)
    const before = new Map(cursors.map(c => [c.shard, c.afterSeq]))
    const advanced = new Map(answer.positions.filter(p => p.seq > (before.get(p.shard) ?? 0)).map(p => [p.shard, p.seq]))
    // This step's changes are durable: its cursors may be saved, after the last step's.
    await this.settleSave()
    const save = this.saveCursors(this.skipped.toSaveNow(advanced, before, answer.entries))
    if (opts.pipeline === true) {
      save.catch(noop)
      this.saving = save
    } else {
      await save
    }
    for (const [shard, seq] of advanced) if ((tail.get(shard) ?? 0) < seq) tail.set(shard, seq)
    // The source's own count: status counts a shard not started yet as behind.
    this.view.sourceShards = Math.max(this.view.sourceShards, answer.shardCount)
    if (this.deps.mode === 'split-aware' && answer.shardCount > this.record.knownShardCount) {
      // Notices raise the stored count as they are recorded, and the round
      // each asks for starts its shard: only a count past theirs needs a
      // full pass, which pulls the shard list.
      const known = (await progress.getSourceBucket(client.peerId, this.source.id))?.knownShardCount ?? this.record.knownShardCount
      this.record = { ...this.record, knownShardCount: Math.max(known, answer.shardCount) }
      if (answer.shardCount > known) this.schedulePull()
    }
    return true
  }

  /**
   * The source trimmed its log past some of our cursors (LOG_TRIMMED): those
   * shards are full-synced again (node/sync/position-report.ts).
   */
  private async resyncTrimmed (): Promise<void> {
    const { shards } = await this.deps.client.listShards(this.source.name)
    await this.settleSave().catch(noop)
    const reset = await resetTrimmedShards(this.deps.progress, this.deps.client.peerId, this.source.id, shards, r => this.skipped.position(r.srcShard, r.logCursor))
    this.ahead.clear()
    this.resetTail()
    if (reset.length > 0) {
      this.counters.resyncs += reset.length
      this.log.warn({ shards: reset }, 'the source trimmed its log past our position (LOG_TRIMMED): shards are full-synced again')
      this.requestRound()
    }
  }

  /** Reports our durable positions to the source now and then, so that it can trim (invariant 18). */
  private async reportLoop (): Promise<void> {
    const every = this.deps.positionReportMs
    if (every === undefined) return
    while (!this.stopped) {
      await sleep(every, this.abort.signal)
      if (this.stopped || this.record === undefined || this.localBucketId === undefined) continue
      try {
        await this.reportPositions()
      } catch (err) {
        if (this.stopped) return
        // Not a sync error: a missed report only makes the source keep more
        // (and a source from before trimming refuses it, keeping everything).
        this.log.debug({ code: isShardsyncError(err) ? err.code : 'INTERNAL' }, 'position report failed; the next one retries')
      }
    }
  }

  async reportPositions (): Promise<void> {
    const { progress, client, store } = this.deps
    if (this.localBucketId === undefined) return
    // Skips not stored yet first, so that the report carries them.
    await this.storeSkips()
    const recs = await progress.list(client.peerId, this.source.id)
    const local = store.bucketState(this.localRef)
    const cursorOf = (r: ProgressRecord): number => this.skipped.durablePosition(r.srcShard, r.logCursor)
    await client.reportPositions(this.source.name, positionReport(recs, this.localBucketId, local.shards, client.peerId, cursorOf))
  }

  /** Stores the pending skip ranges, all in one record (skipped-cursors.ts). */
  private async storeSkips (): Promise<void> {
    const taken = this.skipped.take()
    if (taken.size === 0) return
    try {
      this.skipped.setStored(await this.deps.progress.addTailSkips(this.deps.client.peerId, this.source.id, taken))
    } catch (err) {
      this.skipped.putBack(taken)
      throw err
    }
  }

  /** Where the tail is in a shard's log whose saved cursor is `saved` (a skip not saved yet counts). */
  tailPosition (shard: number, saved: number): number {
    return this.skipped.position(shard, saved)
  }

  /** Saves incremental cursors in one batch; never moves one back. */
  private async saveCursors (cursors: ReadonlyMap<number, number>): Promise<void> {
    await this.deps.progress.updateMany(this.deps.client.peerId, this.source.id, [...cursors.keys()], (shard, r) => {
      const seq = cursors.get(shard) ?? 0
      return r === undefined || r.state !== 'incremental' || r.logCursor >= seq ? undefined : { ...r, logCursor: seq }
    })
  }

  /** Waits for the last tail step's cursor save; throws if it failed. */
  private async settleSave (): Promise<void> {
    const save = this.saving
    this.saving = undefined
    await save
  }

  /**
   * A shard finished its full sync: the tail polls it from its saved
   * cursor too. Added to the cursors in memory, not by reloading every
   * progress object (at 15,000 shards, a reload per shard done was 8 % of
   * a 10M full sync's target CPU, issue 28); a reload under way is done
   * again, since it may have read the shard before it was incremental.
   */
  private async enterTail (shard: number): Promise<void> {
    const rec = await this.deps.progress.get(this.deps.client.peerId, this.source.id, shard)
    if (rec?.state !== 'incremental') return this.resetTail()
    if (this.tailCursors !== undefined && !this.tailCursors.has(shard)) this.tailCursors.set(shard, this.skipped.position(shard, rec.logCursor))
    this.tailEpoch++
  }

  /** The tail reloads its cursors from the progress objects. */
  private resetTail (): void {
    this.tailCursors = undefined
    this.tailEpoch++
  }

  private async noteShardError (shard: number, err: unknown): Promise<void> {
    this.noteError(err, 'full sync of shard failed', shard)
    const code = isShardsyncError(err) ? err.code : 'INTERNAL'
    await this.deps.progress.update(this.deps.client.peerId, this.source.id, shard, r => r === undefined ? r : { ...r, lastError: code, lastErrorAt: Date.now() }).catch(() => {})
  }

  private noteError (err: unknown, msg: string, shard?: number): void {
    const code = isShardsyncError(err) ? err.code : 'INTERNAL'
    this.counters.lastError = code
    this.counters.lastErrorAt = Date.now()
    if (isShardsyncError(err)) this.log.warn({ code, shard, detail: err.message }, msg)
    else this.log.error({ err, shard }, msg)
  }
}

async function runLimited<T> (items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++])
  })
  await Promise.all(workers)
}

function noop (): void {}
