/**
 * Tail cursors moved only past skipped entries, not saved yet.
 *
 * Used by BucketSync's tail (node/sync/bucket-sync.ts). A PullChanges
 * answer moves cursors past entries it leaves out (the requester's own
 * changes, excludeOrigin) as well as past those it carries. Cursors of
 * shards the answer carried changes for are saved at once, after those
 * changes; cursors moved only past skipped entries wait for the next
 * position report, which saves them first (or are saved at once where
 * positions are never reported).
 *
 * Why: while this site writes, every shard of the peer's log grows with
 * this site's own changes, and saving each skip cost the reverse direction
 * of a 10M full sync one progress object per target shard every poll
 * (issue 28). Saved later, a skip is only read past again after a crash
 * (runs of one origin are skipped unread), and the peer's trim waits for
 * the report either way (invariant 18: only durable positions are
 * reported).
 */
export class SkippedCursors {
  private pending = new Map<number, number>()

  /** lazy: skips wait for the position report (false: every cursor is saved at once). */
  constructor (private readonly lazy: boolean) {}

  /** Of a step's advanced cursors, those to save now; the rest are kept until take(). */
  toSaveNow (advanced: ReadonlyMap<number, number>, carried: ReadonlyArray<{ shard: number }>): Map<number, number> {
    if (!this.lazy) return new Map(advanced)
    const withChanges = new Set(carried.map(e => e.shard))
    const now = new Map<number, number>()
    for (const [shard, seq] of advanced) {
      if (withChanges.has(shard)) {
        now.set(shard, seq)
        this.pending.delete(shard)
      } else {
        this.pending.set(shard, seq)
      }
    }
    return now
  }

  /** Where the tail is in a shard's log whose saved cursor is `saved`. */
  position (shard: number, saved: number): number {
    return Math.max(saved, this.pending.get(shard) ?? 0)
  }

  /** The skips not saved yet, handed over to be saved. */
  take (): Map<number, number> {
    const taken = this.pending
    this.pending = new Map()
    return taken
  }

  /** The tail reloaded its cursors from the saved ones: skips still there are found again. */
  clear (): void {
    this.pending.clear()
  }
}
