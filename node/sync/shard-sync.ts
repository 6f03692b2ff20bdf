/**
 * Full sync of one source shard: the seed's trigger (claims 1-5, figure 2),
 * made safe where the seed is not.
 *
 * Called by BucketSync (node/sync/bucket-sync.ts) once per round for each
 * progress object still in full sync. It owns the progress object of its
 * shard while it runs (the notice handler may append to newShards at any
 * time; every write is a locked read-modify-write, see ProgressStore).
 *
 * Dev docs: one round of fullSyncShard
 *   1. QuerySplitState(shard) before listing (claim 1).
 *      SPLITTING, or still being filled by its own split (shard-guard.ts)
 *                 -> abandon this round; BucketSync retries next cycle (claim 4).
 *      otherwise  -> record the log position before the first listing, so
 *                    incremental sync starts there (claim 5, beyond the seed).
 *   2. Start full sync of every new shard of this one that the source's own
 *      split history confirms: those recorded from notices in the progress
 *      object (claims 2, 6-8) and, beyond the seed, any other in the answer
 *      (a lost notice loses nothing; a forged one starts nothing).
 *   3. Stream the shard from the saved marker (stream-sync.ts, with --full-sync-path stream),
 *      or list pages from it (--full-sync-path list, a source without
 *      StreamShard, related-art mode), with their tombstones: copy what is
 *      newer, delete what a newer tombstone deleted, save the marker per
 *      batch or page (the next page is listed while one is copied, unless
 *      --sync-rate throttles). Between batches or pages, notices that
 *      arrived start their shards at once.
 *   4. Before declaring the shard done, ask again (beyond the seed): a split
 *      that began during the listing must finish, and its new shard be
 *      started, before this shard goes incremental.
 * New shards found by splits tail their log from its start (logStart 0): they
 * were created after this target began, so every change to a key that moved
 * there is in their log.
 *
 * In 'related-art' mode (negative control only) steps 1, 2 and 4 are skipped:
 * the shard is listed once and goes incremental, as in the related art.
 */
import type { Logger } from 'pino'
import type { ObjectStore } from '../../storage/object-store'
import type { ProgressRecord, ProgressStore } from '../../storage/progress-store'
import type { FullSyncPath, SyncMode } from '../config'
import { parseProgressEntry } from './notices'
import { prefetch } from './prefetch'
import { confirmedChildren, notListable } from './shard-guard'
import type { SourceClient, SourceIndexPage, SplitStateAnswer } from './source-client'
import { streamShardRange } from './stream-sync'
import type { ObjectTransfer } from './transfer'

export const LIST_PAGE = 1000

export type RoundOutcome = 'done' | 'splitting' | 'not-full'

/** How one peer's shards are fully synced: the node's choice, and what the peer turned out to serve. */
export interface FullSyncRoute { path: FullSyncPath, streamUnsupported: boolean }

export interface ShardSyncContext {
  /** The source's site (the peer), which progress objects are kept under. */
  site: string
  /** This node's site id. */
  localSite: string
  srcBucketId: string
  srcBucket: string
  localBucket: string
  mode: SyncMode
  /** --full-sync-path, and whether this peer turned out not to serve StreamShard (shared by the peer's buckets). */
  fullSync: FullSyncRoute
  client: SourceClient
  store: ObjectStore
  progress: ProgressStore
  transfer: ObjectTransfer
  log: Logger
  /** Source log position per shard, for related-art mode (from ListShards). */
  relatedArtLogSeq: (shard: number) => number
  /** A new shard's progress object was created. */
  onShardStarted: (shard: number) => void
  /** Counters for status and metrics. */
  onObjects: (applied: number, bytes: number) => void
  /** Local copies deleted by tombstones a listing carried. */
  onDeletes: (deleted: number) => void
}

export async function fullSyncShard (ctx: ShardSyncContext, shard: number): Promise<RoundOutcome> {
  const { site, srcBucketId } = ctx
  let rec = await ctx.progress.get(site, srcBucketId, shard)
  if (rec === undefined || rec.state !== 'full') return 'not-full'
  const log = ctx.log.child({ shard })

  if (ctx.mode === 'split-aware') {
    const answer = await ctx.client.querySplitState(ctx.srcBucket, shard)
    const blocked = notListable(answer)
    if (blocked !== undefined) {
      await ctx.progress.update(site, srcBucketId, shard, r => r === undefined ? r : { ...r, splittingRetries: r.splittingRetries + 1 })
      if (blocked === 'SPLITTING') log.info('source shard is SPLITTING: full sync round abandoned, retry next cycle')
      else log.info('source shard is still being filled by its split: full sync round abandoned, retry next cycle')
      return 'splitting'
    }
    rec = await saveLogStart(ctx, shard, answer.logSeq) ?? rec
    rec = await startNewShards(ctx, shard, answer) ?? rec
  } else if (rec.logStart === null) {
    rec = await saveLogStart(ctx, shard, ctx.relatedArtLogSeq(shard)) ?? rec
  }
  if (rec.marker === '' && rec.listed === 0) log.info({ logStart: rec.logStart }, 'shard entering full sync')

  const streamed = await streamRound(ctx, shard, rec)
  if (streamed === 'splitting') {
    await ctx.progress.update(site, srcBucketId, shard, r => r === undefined ? r : { ...r, splittingRetries: r.splittingRetries + 1 })
    log.info('source shard is SPLITTING: full sync round abandoned, retry next cycle')
    return 'splitting'
  }
  if (streamed !== 'done') await listRound(ctx, shard)
  const path = streamed === 'done' ? 'stream' : 'list'

  if (ctx.mode === 'split-aware') {
    const again = await ctx.client.querySplitState(ctx.srcBucket, shard)
    if (notListable(again) !== undefined) {
      await ctx.progress.update(site, srcBucketId, shard, r => r === undefined ? r : { ...r, splittingRetries: r.splittingRetries + 1 })
      log.info('source shard began SPLITTING during the listing: not done yet, retry next cycle')
      return 'splitting'
    }
    await startNewShards(ctx, shard, again)
  }
  const final = await ctx.progress.update(site, srcBucketId, shard, r => r === undefined || r.state !== 'full'
    ? undefined
    : { ...r, state: 'incremental', logCursor: r.logStart ?? 0, fullSyncDoneMs: Date.now() })
  log.info({ listed: final?.listed, applied: final?.applied, logCursor: final?.logCursor, path }, 'shard entering incremental sync')
  return 'done'
}

/**
 * Step 3 on the streaming path (stream-sync.ts), where it applies: the
 * node's --full-sync-path is 'stream', the source serves StreamShard (an
 * older one answers UNIMPLEMENTED once; this peer is then synced listed)
 * and the mode is split-aware (related-art, the negative control, models
 * the related art's paged listing). 'list' when the listed path must run.
 */
async function streamRound (ctx: ShardSyncContext, shard: number, rec: ProgressRecord): Promise<'done' | 'splitting' | 'list'> {
  if (ctx.fullSync.path !== 'stream' || ctx.fullSync.streamUnsupported || ctx.mode !== 'split-aware') return 'list'
  const outcome = await streamShardRange({
    client: ctx.client,
    transfer: ctx.transfer,
    localSite: ctx.localSite,
    srcBucket: ctx.srcBucket,
    localBucket: ctx.localBucket,
    shard,
    marker: rec.marker,
    splitAware: true,
    afterBatch: async (marker, listed, applied, bytes, deleted) => {
      ctx.onObjects(applied, bytes)
      if (deleted > 0) ctx.onDeletes(deleted)
      await startNewShards(ctx, shard, undefined, await saveProgress(ctx, shard, marker, listed, applied))
    }
  })
  if (outcome === 'unsupported') {
    ctx.fullSync.streamUnsupported = true
    ctx.log.info({ shard }, 'source does not serve StreamShard: full sync falls back to the listed path')
    return 'list'
  }
  return outcome
}

/** Step 3 on the listed path: ListIndex pages from the saved marker, FetchObjects for what is newer. */
async function listRound (ctx: ShardSyncContext, shard: number): Promise<void> {
  const rec = await ctx.progress.get(ctx.site, ctx.srcBucketId, shard)
  if (rec === undefined) return
  let marker = rec.marker
  // The next page is listed while this one is copied (one page ahead),
  // unless copying is throttled: then listing ahead gains nothing and only
  // makes the page staler by the time its objects are fetched.
  const ahead = !ctx.transfer.throttled
  // Tombstones come with the listing (invariant 17): a delete older than
  // logStart is otherwise seen by neither the listing nor the log.
  const withTombstones = ctx.mode === 'split-aware'
  const list = (from: string): (() => Promise<SourceIndexPage>) => prefetch(ctx.client.listIndex(ctx.srcBucket, shard, from, LIST_PAGE, withTombstones))
  let next = list(marker)
  for (;;) {
    const page = await next()
    if (page.nextMarker !== '') next = ahead ? list(page.nextMarker) : async () => await list(page.nextMarker)()
    const [stats, deleted] = await Promise.all([
      ctx.transfer.copyNewer(ctx.localBucket, ctx.srcBucket, page.entries),
      ctx.transfer.applyTombstones(ctx.localBucket, page.tombstones)
    ])
    ctx.onObjects(stats.applied, stats.bytes)
    if (deleted > 0) ctx.onDeletes(deleted)
    marker = lastListedKey(page, marker)
    const saved = await saveProgress(ctx, shard, marker, page.entries.length, stats.applied)
    if (page.nextMarker === '') break
    if (ctx.mode === 'split-aware') await startNewShards(ctx, shard, undefined, saved)
  }
}

/** After a page or batch: its last key as the marker (a crash resumes after it), and the counts. Returns the saved record. */
async function saveProgress (ctx: ShardSyncContext, shard: number, marker: string, listed: number, applied: number): Promise<ProgressRecord | undefined> {
  return await ctx.progress.update(ctx.site, ctx.srcBucketId, shard, r => r === undefined ? r : { ...r, marker, listed: r.listed + listed, applied: r.applied + applied })
}

/** The last key a page covers: its next marker, else its greatest listed key, else where it began. */
function lastListedKey (page: SourceIndexPage, from: string): string {
  if (page.nextMarker !== '') return page.nextMarker
  const e = page.entries.at(-1)?.key ?? ''
  const t = page.tombstones.at(-1)?.key ?? ''
  // The index's order is UTF-8 byte order, not JavaScript's UTF-16 order.
  const last = Buffer.compare(Buffer.from(e), Buffer.from(t)) >= 0 ? e : t
  return last !== '' ? last : from
}

async function saveLogStart (ctx: ShardSyncContext, shard: number, logSeq: number): Promise<ProgressRecord | undefined> {
  return await ctx.progress.update(ctx.site, ctx.srcBucketId, shard, r => r === undefined || r.logStart !== null ? undefined : { ...r, logStart: logSeq })
}

/**
 * Starts full sync of the new shards of `shard` that the source confirms
 * (its split history in `answer`): those named by notices recorded in the
 * progress object, credited to the notice, and any other, credited to the
 * pull. Without an answer, the source is asked only if a recorded notice
 * names a shard not started yet (so the page loop costs nothing otherwise).
 * A notice-named shard the source does not confirm is never started.
 * `saved`: the progress object as the caller just saved it (it is not read
 * again).
 */
export async function startNewShards (ctx: ShardSyncContext, shard: number, answer: SplitStateAnswer | undefined, saved?: ProgressRecord): Promise<ProgressRecord | undefined> {
  const { site, srcBucketId } = ctx
  let rec = saved ?? await ctx.progress.get(site, srcBucketId, shard)
  if (rec === undefined) return undefined
  const fromNotices = new Set<number>()
  for (const entry of rec.newShards) {
    const n = parseProgressEntry(entry)
    if (n !== undefined) fromNotices.add(n)
  }
  if (answer === undefined) {
    if (!await anyUnstarted(ctx, fromNotices)) return rec
    answer = await ctx.client.querySplitState(ctx.srcBucket, shard)
  }
  const confirmed = confirmedChildren(answer, srcBucketId)
  const pulled = confirmed.filter(n => !(rec?.pulledShards.includes(n) ?? false))
  if (pulled.length > 0) {
    rec = await ctx.progress.update(site, srcBucketId, shard, r => r === undefined ? r : { ...r, pulledShards: [...r.pulledShards, ...pulled.filter(n => !r.pulledShards.includes(n))] }) ?? rec
  }
  for (const n of confirmed) await startShard(ctx, n, fromNotices.has(n) ? 'notice' : 'pull', shard)
  return rec
}

async function anyUnstarted (ctx: ShardSyncContext, shards: Set<number>): Promise<boolean> {
  for (const n of shards) if (await ctx.progress.get(ctx.site, ctx.srcBucketId, n) === undefined) return true
  return false
}

/** Creates the progress object of a shard split off after sync began. */
export async function startShard (ctx: ShardSyncContext, shard: number, origin: 'notice' | 'pull', parent: number): Promise<void> {
  const { created } = await ctx.progress.ensure({ site: ctx.site, srcBucketId: ctx.srcBucketId, srcShard: shard, bucket: ctx.localBucket, origin, logStart: 0 })
  if (created) {
    ctx.log.info({ shard, parent, foundBy: origin }, 'new source shard found: full sync started')
    ctx.onShardStarted(shard)
  }
}
