/**
 * Moves object versions from a source into the local store, used by full
 * sync (a listed page) and by incremental sync (a batch of log entries).
 *
 * Only versions newer than the local one (last writer wins by mtime, then
 * site) are fetched; many objects come over one FetchObjects stream, and
 * their commits are group-committed by the bucket writer. Replaying what the
 * target already holds is harmless: the writer drops versions that are not
 * newer, so a crash between applying objects and saving progress only
 * causes re-application.
 */
import type { ObjectStore } from '../../storage/object-store'
import { compareVersions } from '../../storage/records'
import type { RateLimiter } from './rate-limiter'
import type { SourceChange, SourceClient, SourceObjectInfo } from './source-client'

const FETCH_MAX_KEYS = 500
const FETCH_MAX_BYTES = 16 * 1024 * 1024

export interface TransferStats { fetched: number, applied: number, missing: number, bytes: number, deleted: number }

export class ObjectTransfer {
  constructor (
    private readonly store: ObjectStore,
    private readonly client: SourceClient,
    private readonly rate: RateLimiter
  ) {}

  /** Copies the candidates that are newer than what the local bucket holds. */
  async copyNewer (localBucket: string, srcBucket: string, candidates: SourceObjectInfo[]): Promise<TransferStats> {
    const stats: TransferStats = { fetched: 0, applied: 0, missing: 0, bytes: 0, deleted: 0 }
    if (candidates.length === 0) return stats
    const heads = await this.store.getHeads(localBucket, candidates.map(c => c.key))
    const needed = candidates.filter((c, i) => heads[i] === undefined || compareVersions(c, heads[i] as { mtime: number, site: string }) > 0)
    for (const batch of batches(needed, this.rate.maxBatch(FETCH_MAX_KEYS))) {
      await this.rate.take(batch.length)
      await this.fetchAndApply(localBucket, srcBucket, batch.map(c => c.key), stats)
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
    const deletes: Array<Promise<unknown>> = []
    let deleted = 0
    for (const c of newest.values()) {
      if (c.deleted) {
        deletes.push(this.store.applyReplicaDelete(localBucket, c.info.key, c.info).then(r => { if (r.applied) deleted++ }))
      } else {
        puts.push(c.info)
      }
    }
    const [stats] = await Promise.all([this.copyNewer(localBucket, srcBucket, puts), ...deletes])
    stats.deleted = deleted
    return stats
  }

  private async fetchAndApply (localBucket: string, srcBucket: string, keys: string[], stats: TransferStats): Promise<void> {
    const commits: Array<Promise<unknown>> = []
    try {
      for await (const obj of this.client.fetchObjects(srcBucket, keys)) {
        if (obj.missing || obj.info === undefined) { stats.missing++; continue }
        stats.fetched++
        stats.bytes += obj.data.length
        const upload = this.store.beginReplicaUpload(localBucket, obj.key, obj.info)
        commits.push((async () => {
          await upload.write(obj.data)
          const r = await upload.finish()
          if (r.applied) stats.applied++
        })())
      }
    } finally {
      // Wait for started commits even if the stream failed, so none is left
      // running behind the caller's back.
      const results = await Promise.allSettled(commits)
      const failed = results.find(r => r.status === 'rejected')
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    }
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
