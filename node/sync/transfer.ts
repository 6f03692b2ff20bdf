/**
 * Moves object versions from a source into the local store, used by full
 * sync (a listed page, or a streamed batch) and by incremental sync (a
 * batch of log entries).
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
import { ByteBudget } from './byte-budget'
import type { RateLimiter } from './rate-limiter'
import type { SourceChange, SourceClient, SourceObjectInfo, StreamedObject } from './source-client'

const FETCH_MAX_KEYS = 500
const FETCH_MAX_BYTES = 16 * 1024 * 1024
/** Fetched objects are handed to the store in groups of about this size. */
const APPLY_GROUP_BYTES = 4 * 1024 * 1024
export const APPLY_GROUP_OBJECTS = 250
/**
 * Groups of one copy committing at once, besides the one being filled.
 *
 * Invariant: a copy holds at most (COMMIT_WINDOW + 1) groups of objects
 * between fetch and commit, so the objects a target has in flight do not
 * grow with how full the source's listing pages are (a bucket of 100,000
 * objects in 256 shards lists about 390 a page, one of 1,000,000 a full
 * page). Without it a full page's four groups could all be waiting on the
 * writer at once.
 */
export const COMMIT_WINDOW = 1
/**
 * Bytes fetched but not yet committed, at most, over all the copies of one
 * peer at once (shards sync in parallel): the target's memory for object
 * data in flight does not grow with the number of shards being copied.
 * One object larger than this is still let through, alone.
 */
const MAX_UNCOMMITTED_BYTES = 64 * 1024 * 1024

export interface TransferStats { fetched: number, applied: number, missing: number, bytes: number, deleted: number }

export class ObjectTransfer {
  private readonly budget = new ByteBudget(MAX_UNCOMMITTED_BYTES)

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
    const commits = new CommitWindow(this.budget)
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

  /**
   * Applies objects that came with their whole content (a shard stream's
   * inline objects, node/sync/stream-sync.ts) through the same store path
   * as fetched ones: checked against crc32 or etag, kept only where newer
   * (the writer decides, last writer wins). In groups, under the same
   * --sync-rate, byte budget and commit window as copyNewer.
   */
  async applyObjects (localBucket: string, objects: StreamedObject[]): Promise<TransferStats> {
    const stats: TransferStats = { fetched: 0, applied: 0, missing: 0, bytes: 0, deleted: 0 }
    if (objects.length === 0) return stats
    const step = this.rate.maxBatch(APPLY_GROUP_OBJECTS)
    const commits = new CommitWindow(this.budget)
    try {
      for (let i = 0; i < objects.length;) {
        const group: ReplicaObject[] = []
        let bytes = 0
        while (i < objects.length && group.length < step && (group.length === 0 || bytes + objects[i].info.size <= APPLY_GROUP_BYTES)) {
          const o = objects[i++]
          group.push({ key: o.key, version: o.info, crc32: o.info.crc32, meta: o.info.meta, data: o.data })
          bytes += o.info.size
        }
        await this.rate.take(group.length)
        await this.budget.take(bytes)
        stats.fetched += group.length
        stats.bytes += bytes
        commits.add(this.store.applyReplicaObjects(localBucket, group).then((results) => {
          for (const r of results) if (r.applied) stats.applied++
        }), bytes)
        await commits.waitAtMost(COMMIT_WINDOW)
        commits.throwIfFailed()
      }
    } finally {
      await commits.settle()
    }
    return stats
  }

  /**
   * Applies the tombstones a full sync listed, each where it is newer than
   * what is stored (last writer wins), and also where nothing is stored:
   * a local write made later is then stamped above the delete, and once
   * this site reports the shard passed, the source may collect the
   * tombstone (docs/design.md, invariant 18), so this site must hold it.
   * Returns how many live local copies were deleted.
   */
  async applyTombstones (localBucket: string, tombstones: SourceObjectInfo[]): Promise<number> {
    if (tombstones.length === 0) return 0
    const heads = await this.store.getHeads(localBucket, tombstones.map(t => t.key))
    const newer: Array<{ t: SourceObjectInfo, live: boolean }> = []
    for (let i = 0; i < tombstones.length; i++) {
      const h = heads[i]
      if (h === undefined || compareVersions(tombstones[i], h) > 0) newer.push({ t: tombstones[i], live: h !== undefined && h.deleted !== true })
    }
    const results = await Promise.all(newer.map(async n => await this.store.applyReplicaDelete(localBucket, n.t.key, n.t)))
    return results.filter((r, i) => r.applied && newer[i].live).length
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
        inline.push({ key: c.info.key, version: c.info, crc32: c.info.crc32, meta: c.info.meta, data: c.data })
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
    // Hands the group to the writer, then waits while the window is full.
    // The stream is not read meanwhile: gRPC flow control holds the source back.
    const apply = async (): Promise<void> => {
      const objects = group
      const bytes = groupBytes
      group = []
      groupBytes = 0
      commits.add(this.store.applyReplicaObjects(localBucket, objects).then((results) => {
        for (const r of results) if (r.applied) stats.applied++
      }), bytes)
      await commits.waitAtMost(COMMIT_WINDOW)
    }
    try {
      for await (const obj of this.client.fetchObjects(srcBucket, keys)) {
        if (obj.missing || obj.info === undefined) { stats.missing++; continue }
        stats.fetched++
        const bytes = obj.info.size
        stats.bytes += bytes
        // Over budget: hand what this call holds to the writer first (so
        // that every byte waited on is in a commit that will finish), then
        // wait for commits, of any copy, to give bytes back. The stream is
        // not read meanwhile, so gRPC flow control holds the source back.
        if (!this.budget.tryTake(bytes)) {
          if (group.length > 0) await apply()
          await this.budget.take(bytes)
        }
        group.push({ key: obj.key, version: obj.info, crc32: obj.info.crc32, meta: obj.info.meta, data: obj.data })
        groupBytes += bytes
        if (groupBytes >= APPLY_GROUP_BYTES || group.length >= APPLY_GROUP_OBJECTS) await apply()
        commits.throwIfFailed()
      }
    } catch (err) {
      // The objects of the group not handed over are dropped: their bytes go back.
      this.budget.give(groupBytes)
      group = []
      groupBytes = 0
      throw err
    }
    if (group.length > 0) await apply()
  }
}

/**
 * The commits one copy started: each gives its bytes back to the shared
 * budget when it ends, whatever the outcome. A target that writes slower
 * than it fetches thus holds at most the budget in data, and at most
 * COMMIT_WINDOW + 1 groups per copy, not a page per shard. settle() waits
 * for all, then throws the first failure.
 */
class CommitWindow {
  private readonly inflight = new Set<Promise<void>>()
  private readonly failures: unknown[] = []

  constructor (private readonly budget: ByteBudget) {}

  add (commit: Promise<void>, bytes: number): void {
    const done = commit.catch((err) => { this.failures.push(err) }).finally(() => {
      this.budget.give(bytes)
      this.inflight.delete(done)
    })
    this.inflight.add(done)
  }

  /** Waits until at most `n` commits are in flight (failures are kept for throwIfFailed). */
  async waitAtMost (n: number): Promise<void> {
    while (this.inflight.size > n) await Promise.race(this.inflight)
  }

  throwIfFailed (): void {
    if (this.failures.length > 0) throw this.failures[0]
  }

  async settle (): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight])
    this.throwIfFailed()
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
