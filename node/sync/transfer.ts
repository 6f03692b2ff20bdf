/**
 * Moves object versions from a source into the local store, used by full
 * sync (a listed page) and by incremental sync (a batch of log entries).
 *
 * Only versions newer than the local one (last writer wins by mtime, then
 * site) are fetched; many objects come over one FetchObjects stream, are
 * handed to the store in groups (checked against their etags there), and
 * group-committed by the bucket writer while the next fetch streams. Replaying what the
 * target already holds is harmless: the writer drops versions that are not
 * newer, so a crash between applying objects and saving progress only
 * causes re-application.
 */
import type { ObjectStore, ReplicaObject } from '../../storage/object-store'
import { compareVersions } from '../../storage/records'
import type { RateLimiter } from './rate-limiter'
import type { SourceChange, SourceClient, SourceObjectInfo } from './source-client'

const FETCH_MAX_KEYS = 500
const FETCH_MAX_BYTES = 16 * 1024 * 1024
/** Fetched objects are handed to the store in groups of about this size. */
const APPLY_GROUP_BYTES = 4 * 1024 * 1024
const APPLY_GROUP_OBJECTS = 500
/** Bytes fetched but not yet committed, at most (one group may exceed it). */
const MAX_UNCOMMITTED_BYTES = 32 * 1024 * 1024

export interface TransferStats { fetched: number, applied: number, missing: number, bytes: number, deleted: number }

export class ObjectTransfer {
  constructor (
    private readonly store: ObjectStore,
    private readonly client: SourceClient,
    private readonly rate: RateLimiter
  ) {}

  /** True under --sync-rate: copying, not listing, sets the pace. */
  get throttled (): boolean { return !this.rate.unlimited }

  /** Copies the candidates that are newer than what the local bucket holds. */
  async copyNewer (localBucket: string, srcBucket: string, candidates: SourceObjectInfo[]): Promise<TransferStats> {
    const stats: TransferStats = { fetched: 0, applied: 0, missing: 0, bytes: 0, deleted: 0 }
    if (candidates.length === 0) return stats
    const heads = await this.store.getHeads(localBucket, candidates.map(c => c.key))
    const needed = candidates.filter((c, i) => heads[i] === undefined || compareVersions(c, heads[i] as { mtime: number, site: string }) > 0)
    // Commits of one fetch run while the next fetch streams; all are
    // awaited before returning, so none is left running behind the caller.
    const commits = new CommitWindow(MAX_UNCOMMITTED_BYTES)
    try {
      for (const batch of batches(needed, this.rate.maxBatch(FETCH_MAX_KEYS))) {
        await this.rate.take(batch.length)
        await this.fetchAndApply(localBucket, srcBucket, batch.map(c => c.key), stats, commits)
      }
    } finally {
      await commits.settle()
    }
    return stats
  }

  /** Applies a batch of source log entries: per key, the newest wins. */
  async applyChanges (localBucket: string, srcBucket: string, changes: SourceChange[]): Promise<TransferStats> {
    const newest = new Map<string, SourceChange>()
    for (const c of changes) {
      const seen = newest.get(c.info.key)
      if (seen === undefined || compareVersions(c.info, seen.info) > 0) newest.set(c.info.key, c)
    }
    const puts: SourceObjectInfo[] = []
    const inline: ReplicaObject[] = []
    const deletes: Array<Promise<unknown>> = []
    let deleted = 0
    let inlineApplied = 0
    let inlineBytes = 0
    for (const c of newest.values()) {
      if (c.deleted) {
        deletes.push(this.store.applyReplicaDelete(localBucket, c.info.key, c.info).then(r => { if (r.applied) deleted++ }))
      } else if (c.data !== undefined) {
        // Content came with the entry: no fetch; the writer keeps it only
        // if it is newer than what is stored (last writer wins).
        inline.push({ key: c.info.key, version: c.info, data: c.data })
        inlineBytes += c.data.length
      } else {
        puts.push(c.info)
      }
    }
    if (inline.length > 0) await this.rate.take(inline.length)
    const applyInline = this.store.applyReplicaObjects(localBucket, inline).then(rs => { for (const r of rs) if (r.applied) inlineApplied++ })
    const [stats] = await Promise.all([this.copyNewer(localBucket, srcBucket, puts), applyInline, ...deletes])
    stats.deleted = deleted
    stats.applied += inlineApplied
    stats.fetched += inline.length
    stats.bytes += inlineBytes
    return stats
  }

  /** Streams one FetchObjects call; its objects are committed in groups of APPLY_GROUP_BYTES. */
  private async fetchAndApply (localBucket: string, srcBucket: string, keys: string[], stats: TransferStats, commits: CommitWindow): Promise<void> {
    let group: ReplicaObject[] = []
    let groupBytes = 0
    const apply = async (): Promise<void> => {
      const objects = group
      const bytes = groupBytes
      group = []
      groupBytes = 0
      await commits.add(this.store.applyReplicaObjects(localBucket, objects).then((results) => {
        for (const r of results) if (r.applied) stats.applied++
      }), bytes)
    }
    for await (const obj of this.client.fetchObjects(srcBucket, keys)) {
      if (obj.missing || obj.info === undefined) { stats.missing++; continue }
      stats.fetched++
      stats.bytes += obj.data.length
      group.push({ key: obj.key, version: obj.info, data: obj.data })
      groupBytes += obj.data.length
      if (groupBytes >= APPLY_GROUP_BYTES || group.length >= APPLY_GROUP_OBJECTS) await apply()
    }
    if (group.length > 0) await apply()
  }
}

/**
 * Commits in flight, oldest first, with a bound on the bytes they hold:
 * add() waits for the oldest to finish while the bound is exceeded, so a
 * target that writes slower than it fetches holds a window of data, not a
 * page. settle() waits for all, then throws the first failure.
 */
class CommitWindow {
  private readonly inflight: Array<{ done: Promise<unknown>, bytes: number }> = []
  private bytes = 0
  private readonly failures: unknown[] = []

  constructor (private readonly maxBytes: number) {}

  async add (commit: Promise<void>, bytes: number): Promise<void> {
    const done = commit.catch((err) => { this.failures.push(err) })
    this.inflight.push({ done, bytes })
    this.bytes += bytes
    while (this.bytes > this.maxBytes && this.inflight.length > 1) await this.waitOldest()
    if (this.failures.length > 0) throw this.failures[0]
  }

  private async waitOldest (): Promise<void> {
    const oldest = this.inflight.shift()
    if (oldest === undefined) return
    await oldest.done
    this.bytes -= oldest.bytes
  }

  async settle (): Promise<void> {
    while (this.inflight.length > 0) await this.waitOldest()
    if (this.failures.length > 0) throw this.failures[0]
  }
}

function * batches (items: SourceObjectInfo[], maxKeys: number): Generator<SourceObjectInfo[]> {
  let batch: SourceObjectInfo[] = []
  let bytes = 0
  for (const item of items) {
    if (batch.length > 0 && (batch.length >= maxKeys || bytes + item.size > FETCH_MAX_BYTES)) {
      yield batch
      batch = []
      bytes = 0
    }
    batch.push(item)
    bytes += item.size
  }
  if (batch.length > 0) yield batch
}
