/**
 * Tail cursors moved only past skipped entries: kept as skip ranges, not
 * as progress objects.
 *
 * Used by BucketSync's tail (node/sync/bucket-sync.ts). A PullChanges
 * answer moves cursors past entries it leaves out (the requester's own
 * changes, excludeOrigin) as well as past those it carries. Cursors of
 * shards the answer carried changes for are saved at once in their
 * progress objects, after those changes. A cursor moved only past skipped
 * entries is noted as a skip range instead (storage/progress-store.ts
 * SkipRange: a run of the source's log holding only this site's changes);
 * the ranges not stored yet are stored with the next position report, all
 * of them in one record (ProgressStore.addTailSkips), before the report is
 * made, so that it reports only durable positions (invariant 18). Where
 * positions are never reported, every cursor is saved at once.
 *
 * A tail position is the saved cursor moved by the stored range, then by
 * the pending one (position). Ranges are facts about a log that never
 * changes, so they stay true across a reload, a reset of the shard or a
 * crash; one that does not reach a cursor simply does not move it.
 *
 * Why: while this site writes, every shard of the peer's log grows with
 * this site's own changes. Saving each skip cost the reverse direction of a
 * 10M full sync one progress object per target shard every poll; saving
 * them at each report still rewrote 20,000 progress objects (7 MB) every
 * report, work per shard per time that made the cost per object grow with
 * the bucket (issue 28). A kill -9 before the report loses only pending
 * skips, which are read past again (runs of one origin are skipped unread).
 */
import { addSkipRange, skipPast, type SkipRange } from '../../storage/progress-store'

export class SkippedCursors {
  private pending = new Map<number, SkipRange>()
  private stored = new Map<number, SkipRange>()

  /** lazy: skips wait for the position report (false: every cursor is saved at once). */
  constructor (private readonly lazy: boolean) {}

  /**
   * Of a step's advanced cursors (`before`: where each was when polled),
   * those to save now in progress objects; the rest are noted as pending
   * skip ranges.
   */
  toSaveNow (advanced: ReadonlyMap<number, number>, before: ReadonlyMap<number, number>, carried: ReadonlyArray<{ shard: number }>): Map<number, number> {
    if (!this.lazy) return new Map(advanced)
    const withChanges = new Set(carried.map(e => e.shard))
    const now = new Map<number, number>()
    for (const [shard, seq] of advanced) {
      if (withChanges.has(shard)) {
        now.set(shard, seq)
        this.pending.delete(shard)
      } else {
        addSkipRange(this.pending, shard, { from: before.get(shard) ?? 0, to: seq })
      }
    }
    return now
  }

  /** Where the tail is in a shard's log whose saved cursor is `saved`. */
  position (shard: number, saved: number): number {
    return skipPast(this.durablePosition(shard, saved), this.pending.get(shard))
  }

  /** The same, counting only stored ranges: what a position report may carry. */
  durablePosition (shard: number, saved: number): number {
    return skipPast(saved, this.stored.get(shard))
  }

  /** The ranges not stored yet, handed over to be stored (give them back with putBack if that fails). */
  take (): Map<number, SkipRange> {
    const taken = this.pending
    this.pending = new Map()
    return taken
  }

  /** A store of taken ranges failed: they are pending again. */
  putBack (taken: ReadonlyMap<number, SkipRange>): void {
    for (const [shard, r] of taken) addSkipRange(this.pending, shard, r)
  }

  /**
   * What is stored now (after a load, or a store of taken ranges), merged
   * with what was known stored: a load that read the record before a
   * store finished must not forget the newer ranges.
   */
  setStored (ranges: ReadonlyMap<number, SkipRange>): void {
    for (const [shard, r] of ranges) addSkipRange(this.stored, shard, r)
  }
}
