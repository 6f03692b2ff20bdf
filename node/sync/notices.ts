/**
 * Split-completion notices (seed claims 6-11, figure 3), both ends.
 *
 * - formatNotice / parseNotice: the seed's source-reshard-sync-info string
 *   "siteId:bucketId:srcShard:newShard", strictly validated.
 * - NoticeReceiver (target): validates a notice, confirms it with the
 *   source it names (a notice is a hint, never a fact: anyone holding a
 *   credential can send one), and if a progress object exists for the
 *   source shard, appends "bucketId:srcShard:newShard" to it; otherwise
 *   ignores it, as the seed says. Called by the SyncService handler.
 *
 * Invariant (docs/design.md, "notices are hints"): nothing durable changes
 * for a notice until the source's own QuerySplitState lists the new shard
 * among the source shard's finished splits (confirmsNotice). An unconfirmed
 * notice is refused with NOTICE_UNCONFIRMED and stores nothing; a source
 * that cannot be asked leaves the notice unacknowledged (the sender retries).
 * Proved by test/sync/forged-notice.test.ts (real processes) and by the
 * protocol model's forged notices (test/model/schedule.ts).
 * - NoticeSender (source): drains the durable outbox (storage/outbox.ts),
 *   one peer at a time in order, retrying with capped exponential backoff
 *   until the peer acknowledges. A notice the peer rejects as malformed or
 *   unconfirmed is dropped and logged: the target's pulling covers it.
 */
import type { Logger } from 'pino'
import { isShardsyncError, ShardsyncError } from '../../storage/errors'
import type { Outbox, OutboxEntry } from '../../storage/outbox'
import type { ProgressStore } from '../../storage/progress-store'
import { isValidSiteId } from '../../storage/validate'
import { confirmedChildren } from './shard-guard'
import { sleep, Waker } from './sleep'
import type { SourceClient, SplitStateAnswer } from './source-client'

export const MAX_NOTICE_LENGTH = 256
const BUCKET_ID = /^[A-Za-z0-9_-]{1,64}$/
const SHARD = /^(0|[1-9][0-9]{0,9})$/
const MAX_SHARD = 2 ** 31 - 1

export interface Notice { site: string, bucketId: string, srcShard: number, newShard: number }

export function formatNotice (n: Notice): string {
  return `${n.site}:${n.bucketId}:${n.srcShard}:${n.newShard}`
}

/** The seed's progress-object entry: "bucketId:srcShard:newShard". */
export function progressEntry (n: Notice): string {
  return `${n.bucketId}:${n.srcShard}:${n.newShard}`
}

export function parseProgressEntry (entry: string): number | undefined {
  const parts = entry.split(':')
  return parts.length === 3 && SHARD.test(parts[2]) ? Number(parts[2]) : undefined
}

export function parseNotice (info: unknown): Notice {
  if (typeof info !== 'string' || info.length === 0) throw ShardsyncError.invalidNotice('empty')
  if (info.length > MAX_NOTICE_LENGTH) throw ShardsyncError.invalidNotice(`longer than ${MAX_NOTICE_LENGTH} characters`)
  const parts = info.split(':')
  if (parts.length !== 4) throw ShardsyncError.invalidNotice(`expected 4 ':'-separated fields, got ${parts.length}`)
  const [site, bucketId, src, dst] = parts
  if (!isValidSiteId(site)) throw ShardsyncError.invalidNotice('bad site id')
  if (!BUCKET_ID.test(bucketId)) throw ShardsyncError.invalidNotice('bad bucket id')
  if (!SHARD.test(src) || !SHARD.test(dst)) throw ShardsyncError.invalidNotice('shards must be non-negative decimal integers')
  const srcShard = Number(src)
  const newShard = Number(dst)
  if (srcShard > MAX_SHARD || newShard > MAX_SHARD) throw ShardsyncError.invalidNotice('shard out of range')
  if (newShard <= srcShard) throw ShardsyncError.invalidNotice('new shard must be greater than the source shard')
  return { site, bucketId, srcShard, newShard }
}

/**
 * True when the source's own answer for the notice's source shard confirms
 * the notice: same bucket instance, and the new shard is one of the shard's
 * finished splits (a source appends a child to its split history only in
 * the batch that marks the split SPLIT_DONE, storage/split.ts).
 */
export function confirmsNotice (answer: SplitStateAnswer, n: Notice): boolean {
  return confirmedChildren(answer, n.bucketId).includes(n.newShard)
}

export interface NoticeReceiverDeps {
  progress: ProgressStore
  isPeer: (site: string) => boolean
  /**
   * Asks the notice's source site for its split state of `shard` of the
   * bucket named `bucket` (QuerySplitState over the peer's client).
   */
  querySource: (site: string, bucket: string, shard: number) => Promise<SplitStateAnswer>
  /** A notice was recorded: let the bucket's sync act at once. */
  onRecorded: (n: Notice) => void
  log: Logger
}

export class NoticeReceiver {
  received = 0
  recorded = 0
  ignored = 0
  rejected = 0

  constructor (private readonly deps: NoticeReceiverDeps) {}

  /** Validates and records a notice; `callerSite` is the caller's claimed site, if any. */
  async receive (info: unknown, callerSite: string | undefined): Promise<{ recorded: boolean }> {
    this.received++
    try {
      const notice = parseNotice(info)
      if (!this.deps.isPeer(notice.site)) throw ShardsyncError.unknownPeer(notice.site)
      if (callerSite !== undefined && callerSite !== notice.site) throw ShardsyncError.unknownPeer(callerSite)
      return await this.record(notice)
    } catch (err) {
      if (isShardsyncError(err)) {
        this.rejected++
        this.deps.log.warn({ code: err.code }, 'split notice rejected')
      }
      throw err
    }
  }

  private async record (n: Notice): Promise<{ recorded: boolean }> {
    const { progress, log } = this.deps
    const bucket = await progress.getSourceBucket(n.site, n.bucketId)
    if (bucket === undefined) throw ShardsyncError.invalidNotice('unknown bucket')
    // The source shard must be one this target can know of: outboxes deliver
    // in split order, so its own creation was noticed or pulled first.
    if (n.srcShard >= bucket.knownShardCount) throw ShardsyncError.invalidNotice('source shard past the bucket\'s shard count')
    await this.confirm(n, bucket.srcName)
    await progress.updateSourceBucket(n.site, n.bucketId, (b) => n.newShard + 1 > b.knownShardCount ? { ...b, knownShardCount: n.newShard + 1 } : undefined)
    const entry = progressEntry(n)
    let existed = false
    await progress.update(n.site, n.bucketId, n.srcShard, (rec) => {
      if (rec === undefined) return undefined
      existed = true
      if (rec.newShards.includes(entry)) return undefined
      rec.newShards.push(entry)
      return rec
    })
    if (existed) {
      this.recorded++
      log.info({ peer: n.site, bucketId: n.bucketId, shard: n.srcShard, newShard: n.newShard }, 'split notice stored')
      this.deps.onRecorded(n)
    } else {
      this.ignored++
      log.info({ peer: n.site, bucketId: n.bucketId, shard: n.srcShard, newShard: n.newShard }, 'split notice ignored: no progress object for the source shard')
    }
    return { recorded: existed }
  }

  /**
   * Throws NOTICE_UNCONFIRMED unless the source confirms the notice. Errors
   * reaching the source (UPSTREAM_UNAVAILABLE...) propagate: the notice is
   * then not acknowledged, and its sender retries.
   */
  private async confirm (n: Notice, bucket: string): Promise<void> {
    let answer: SplitStateAnswer
    try {
      answer = await this.deps.querySource(n.site, bucket, n.srcShard)
    } catch (err) {
      if (isShardsyncError(err, 'SHARD_NOT_FOUND') || isShardsyncError(err, 'BUCKET_NOT_FOUND')) throw ShardsyncError.noticeUnconfirmed('the source has no such shard')
      throw err
    }
    if (!confirmsNotice(answer, n)) throw ShardsyncError.noticeUnconfirmed('the source has not split off that shard')
  }
}

export interface NoticeSenderDeps {
  outbox: Outbox
  client: SourceClient
  /** Testing fault switch: drop notices instead of sending them. */
  dropNotices: boolean
  log: Logger
}

const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 30_000

/** One per peer: sends that peer's outbox in order. */
export class NoticeSender {
  sent = 0
  retried = 0
  dropped = 0
  private readonly waker = new Waker()
  private readonly abort = new AbortController()
  private stopped = false
  private readonly loop: Promise<void>

  constructor (private readonly deps: NoticeSenderDeps) {
    this.loop = this.run()
  }

  /** A split finished: there is something new in the outbox. */
  poke (): void {
    this.waker.wake()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.abort.abort()
    await this.loop
  }

  private async run (): Promise<void> {
    const { outbox, client, log } = this.deps
    let backoff = MIN_BACKOFF_MS
    while (!this.stopped) {
      let entry: OutboxEntry | undefined
      try {
        entry = (await outbox.oldest(client.peerId, 1))[0]
      } catch (err) {
        if (this.stopped) return
        log.error({ err }, 'reading the outbox failed')
      }
      if (entry === undefined) {
        await sleep(MAX_BACKOFF_MS, this.abort.signal, this.waker)
        continue
      }
      if (this.deps.dropNotices) {
        await outbox.ack(entry)
        this.dropped++
        log.info({ notice: entry.notice }, 'split notice dropped by fault switch')
        continue
      }
      try {
        const { recorded } = await client.notifyReshardComplete(entry.notice)
        await outbox.ack(entry)
        this.sent++
        backoff = MIN_BACKOFF_MS
        log.info({ notice: entry.notice, recorded }, 'split notice sent')
      } catch (err) {
        if (this.stopped) return
        if (isShardsyncError(err, 'INVALID_NOTICE') || isShardsyncError(err, 'NOTICE_UNCONFIRMED')) {
          await outbox.ack(entry)
          this.dropped++
          log.warn({ notice: entry.notice, code: err.code }, 'split notice refused by peer; dropped (the peer pulls split history)')
          continue
        }
        this.retried++
        log.warn({ notice: entry.notice, code: (err as ShardsyncError).code, retryInMs: backoff }, 'split notice not acknowledged; will retry')
        await sleep(backoff, this.abort.signal)
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    }
  }
}
