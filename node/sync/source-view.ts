/**
 * What one bucket's sync last saw of its source, for status and metrics
 * (node/sync-status.ts, node/metrics.ts): the source's shard count and,
 * per shard, index count, newest log head, and how far the tail is behind.
 *
 * Written by BucketSync (node/sync/bucket-sync.ts) as ListShards and
 * PullChanges answers arrive and are applied; read only by status and
 * metrics. Nothing here is durable or used for a sync decision.
 */
export class SourceView {
  /**
   * The source's own shard count: from its ListShards, its PullChanges
   * answers, and shards its split history confirmed (0: not seen yet).
   * Status reports a bucket synced only against it: a shard a peer merely
   * named is not one, and a source shard with no progress object yet is
   * behind.
   */
  sourceShards = 0
  /** Per source shard: index count (from ListShards) and newest log seq. */
  readonly indexCount = new Map<number, number>()
  readonly logHead = new Map<number, number>()
  /** Per incremental shard: entries not yet applied after the last poll. */
  readonly behind = new Map<number, number>()
  /** Per incremental shard: when it was last seen with nothing behind. */
  readonly caughtUpAt = new Map<number, number>()
  lastPollAt = 0

  /** Log heads only grow: the newest known is kept (from every PullChanges answer as it arrives, and from ListShards). */
  noteLogHeads (heads: ReadonlyArray<{ shard: number, seq: number }>): void {
    for (const h of heads) this.logHead.set(h.shard, Math.max(h.seq, this.logHead.get(h.shard) ?? 0))
  }

  /**
   * An answer was applied up to `positions`. Behind counts against the
   * newest head known (noted as each answer arrived), not this answer's
   * own: with polls sent ahead, a later answer may already have seen the
   * log grow, and a tail that is still applying has not caught up
   * (caughtUpAt, the lag in seconds).
   */
  noteApplied (heads: ReadonlyArray<{ shard: number, seq: number }>, positions: ReadonlyArray<{ shard: number, seq: number }>): void {
    const now = Date.now()
    const pos = new Map(positions.map(p => [p.shard, p.seq]))
    for (const h of heads) {
      const head = this.logHead.get(h.shard) ?? h.seq
      const behind = Math.max(0, head - (pos.get(h.shard) ?? 0))
      this.behind.set(h.shard, behind)
      if (behind === 0 || !this.caughtUpAt.has(h.shard)) this.caughtUpAt.set(h.shard, now)
    }
    this.lastPollAt = now
  }
}
