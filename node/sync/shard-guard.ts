/**
 * The one guard on what a target may list of a source, shared by every path
 * that starts or lists a source shard (node/sync/shard-sync.ts,
 * bucket-sync.ts) and by the source's own answers (node/source-api.ts).
 *
 * Invariant (docs/design.md, "a shard still being filled is never listed"):
 * a split's migration writes no log entries, so a shard listed while its
 * creating split still moves entries into it would miss them for good. A
 * target therefore lists a shard only when the source itself says, in the
 * answer taken just before the listing, that the shard is neither SPLITTING
 * nor being filled; and it starts a shard found by a split only when the
 * source lists it among its parent's finished splits. What a peer merely
 * says (a notice) is never enough.
 */
import type { SplitStateAnswer } from './source-client'

/** A shard whose creating split is not done yet: its parent does not list it as a child. */
export function isFilling (shards: ReadonlyArray<{ children: readonly number[] }>, h: { shard: number, parent: number }): boolean {
  return h.parent >= 0 && !(shards[h.parent]?.children.includes(h.shard) ?? false)
}

/** Why a shard may not be listed now, from the source's answer; undefined = it may. */
export function notListable (answer: SplitStateAnswer): 'SPLITTING' | 'FILLING' | undefined {
  if (answer.state === 'SPLITTING') return 'SPLITTING'
  if (answer.filling) return 'FILLING'
  return undefined
}

/** The new shards of a source shard that its own answer confirms as finished splits. */
export function confirmedChildren (answer: SplitStateAnswer, srcBucketId: string): readonly number[] {
  return answer.bucketId === srcBucketId ? answer.newShards : []
}
