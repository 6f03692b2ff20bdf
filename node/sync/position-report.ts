/**
 * The target's half of log trimming (issue 26, hole 4), used by BucketSync:
 * what it reports to its source, and what it does when the source has
 * trimmed past it.
 *
 * - positionReport: per source shard, the durable position (an incremental
 *   cursor once saved; the log position taken before listing while in full
 *   sync), and the heads of this site's own copy of the bucket counting
 *   only changes that did not come from that source (trim-policy.ts,
 *   reportedHead): the source collects a tombstone only after pulling
 *   this site's logs up to them.
 * - resetTrimmedShards: a pull from below a shard's log floor failed with
 *   LOG_TRIMMED; every incremental shard whose cursor is below its floor
 *   goes back to full sync from scratch, one put each (ProgressStore).
 *   Safe: the listing carries tombstones (invariant 17), which the source
 *   keeps until this site has passed them incrementally, whatever the
 *   retention (invariant 18); the target's own newer writes win by LWW.
 */
import type { ProgressRecord, ProgressStore } from '../../storage/progress-store'
import type { ShardHeader } from '../../storage/records'
import { reportedHead } from '../trim-policy'
import type { PositionReport, SourceShard } from './source-client'

/** `cursorOf`: an incremental shard's durable cursor (its saved one moved by stored skips, skipped-cursors.ts). */
export function positionReport (progress: ProgressRecord[], localBucketId: string, localShards: readonly ShardHeader[], sourceSite: string, cursorOf: (r: ProgressRecord) => number = r => r.logCursor): PositionReport {
  return {
    positions: progress.map(r => r.state === 'incremental'
      ? { shard: r.srcShard, seq: cursorOf(r), incremental: true }
      : { shard: r.srcShard, seq: r.logStart ?? 0, incremental: false }),
    reporterBucketId: localBucketId,
    heads: localShards.map(h => ({ shard: h.shard, seq: reportedHead(h, sourceSite) }))
  }
}

/** Returns the shards sent back to full sync. `cursorOf`: where the tail is in an incremental shard (skips counted). */
export async function resetTrimmedShards (progress: ProgressStore, site: string, srcBucketId: string, shards: readonly SourceShard[], cursorOf: (r: ProgressRecord) => number = r => r.logCursor): Promise<number[]> {
  const floors = new Map(shards.map(s => [s.shard, s.logFloor]))
  const behind = (r: ProgressRecord | undefined): boolean => r !== undefined && r.state === 'incremental' && cursorOf(r) < (floors.get(r.srcShard) ?? 0)
  const stale = (await progress.list(site, srcBucketId)).filter(behind).map(r => r.srcShard)
  if (stale.length === 0) return []
  await progress.updateMany(site, srcBucketId, stale, (_shard, r) => r === undefined || !behind(r)
    ? undefined
    : { ...r, state: 'full', marker: '', logStart: null, listed: 0, applied: 0, resyncs: (r.resyncs ?? 0) + 1, fullSyncDoneMs: undefined })
  return stale
}
