/**
 * OriginRuns: which site each recent sync-log entry of a bucket's shards
 * came from, held in memory as runs of consecutive sequence numbers that
 * share one origin site.
 *
 * Written by BucketWriter right after each durable batch (with the shard
 * headers, so a run never reaches past a shard's logSeq). Read by SourceApi
 * (PullChanges), which skips whole runs of the requester's own changes
 * (exclude_origin) instead of reading them from LevelDB only to drop them:
 * during a full sync the target's log fills with changes from its source,
 * and the source's sync back from the target would otherwise read every one.
 *
 * It is a cache, never the truth: after a restart it knows nothing, and at
 * most MAX_RUNS runs per shard are kept (oldest forgotten), and at most
 * MAX_BUCKET_RUNS per bucket (past it, the shard noted first loses all its
 * runs), so memory does not grow with the shard count. Wherever it has no
 * run, readers read the log and filter as before.
 */

/** Runs kept per shard: alternating origins cost a run each. */
const MAX_RUNS = 256
/** Runs kept per bucket, over all its shards (about 80 bytes each). */
const MAX_BUCKET_RUNS = 65_536

export interface OriginRun {
  /** First and last sequence number of the run, inclusive. */
  from: number
  to: number
  site: string
}

export class OriginRuns {
  private readonly shards = new Map<number, OriginRun[]>()
  private total = 0

  constructor (private readonly maxBucketRuns = MAX_BUCKET_RUNS) {}

  /** Runs held, over all shards. */
  get size (): number { return this.total }

  /** Log entry `seq` of `shard` came from `site`; seqs are noted in order. */
  note (shard: number, seq: number, site: string): void {
    let runs = this.shards.get(shard)
    if (runs === undefined) this.shards.set(shard, runs = [])
    const last = runs[runs.length - 1]
    if (last !== undefined && last.site === site && last.to === seq - 1) {
      last.to = seq
      return
    }
    // A gap (entries from before a restart) simply starts a new run.
    runs.push({ from: seq, to: seq, site })
    this.total++
    if (runs.length > MAX_RUNS) {
      runs.shift()
      this.total--
    }
    while (this.total > this.maxBucketRuns) {
      // Map order: the shard noted first since it was (re)created goes.
      const [oldest, dropped] = this.shards.entries().next().value as [number, OriginRun[]]
      this.shards.delete(oldest)
      this.total -= dropped.length
    }
  }

  /** The run holding entry `seq` of `shard`, or undefined if not known. */
  runAt (shard: number, seq: number): OriginRun | undefined {
    const runs = this.shards.get(shard)
    if (runs === undefined) return undefined
    let lo = 0
    let hi = runs.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const r = runs[mid]
      if (seq < r.from) hi = mid - 1
      else if (seq > r.to) lo = mid + 1
      else return r
    }
    return undefined
  }
}
