/**
 * Trim policy (issue 26, hole 4): pure functions, no I/O. The source's
 * trimmer (not merged yet) calls them per shard with the positions its peers
 * reported (q! keys, storage/keys.ts) and the configured peers.
 *
 * Rules
 * - Log: a shard's log is trimmed up to the lowest durable position over
 *   every configured peer that is not expired; a peer with no report holds
 *   from 0. A peer is expired on a shard when its last report is older than
 *   retention.ageMs, or it is more than retention.entries behind the head;
 *   the log is then trimmed past it and its next PullChanges from below the
 *   floor gets LOG_TRIMMED (it resyncs the shard).
 * - Tombstones: collected only once EVERY configured peer, expired or not,
 *   has passed the delete while incremental on the shard that holds the
 *   tombstone's index entry. Expiry releases log entries, never tombstones:
 *   a peer that missed a delete and resyncs must find the tombstone in the
 *   listing, or its stale copy comes back. A peer that will never return is
 *   released by RemovePeer, and must be wiped before it is added again.
 */

export interface PeerPosition {
  /** Durable position: logCursor once saved (incremental), logStart (full sync). */
  seq: number
  /** True when seq is an incremental cursor (the peer has applied every entry up to it). */
  incremental: boolean
  /** When the peer last reported it (ms). */
  at: number
}

export interface Retention {
  /** 0: a peer never expires by age. */
  ageMs: number
  /** 0: a peer never expires by distance to the head. */
  entries: number
}

export function isExpired (pos: PeerPosition, head: number, now: number, r: Retention): boolean {
  if (r.ageMs > 0 && now - pos.at > r.ageMs) return true
  if (r.entries > 0 && head - pos.seq > r.entries) return true
  return false
}

/**
 * The seq up to which the shard's log may be trimmed (entries <= it go).
 * `firstSeenMs`: when the trimmer first knew a peer that has not reported
 * (its age clock; reset by a restart, which only keeps more).
 */
export function trimPoint (head: number, floor: number, peers: string[], reports: ReadonlyMap<string, PeerPosition>, now: number, r: Retention, firstSeenMs: (peer: string) => number): number {
  let point = head
  for (const p of peers) {
    const pos = reports.get(p) ?? { seq: 0, incremental: false, at: firstSeenMs(p) }
    if (isExpired(pos, head, now, r)) continue
    point = Math.min(point, pos.seq)
  }
  return Math.max(floor, Math.min(point, head))
}

/**
 * Whether a tombstone whose delete is entry `seq` of the shard that now
 * holds its index entry may be collected: every configured peer passed it
 * incrementally. For a tombstone moved by a split to another shard, the
 * caller passes seq 0 and that shard's reports: any incremental peer there
 * listed it after the split that moved it (a filling shard is never listed).
 */
export function tombstoneCollectable (seq: number, peers: string[], reports: ReadonlyMap<string, PeerPosition>): boolean {
  for (const p of peers) {
    const pos = reports.get(p)
    if (pos === undefined || !pos.incremental || pos.seq < seq) return false
  }
  return true
}
