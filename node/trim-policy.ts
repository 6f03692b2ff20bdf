/**
 * Trim policy (issue 26, hole 4): pure functions, no I/O. The source's
 * trimmer (node/log-trimmer.ts) calls them per shard with the positions its
 * peers reported (q! keys, storage/keys.ts), for every configured peer and
 * every site that has reported; the two-site model test uses the same ones.
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
 *   tombstone's index entry, as shown by a report that this site has
 *   drained the peer past (advanceDrain): this site tails every shard of
 *   the peer beyond the log heads the peer sent with that report. Else a
 *   put older than the delete, logged by the peer before it applied the
 *   delete, could reach this site after the tombstone is gone and stay
 *   live, while the peer's own log entry of the delete (origin: this site)
 *   is left out of this site's pulls by exclude_origin (the two-site model's
 *   'gc-no-drain' control finds it). Expiry releases log entries, never tombstones:
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

/** A tail position of this site on one of the peer's shards (its progress object there). */
export interface OwnTail { incremental: boolean, seq: number }

/**
 * Whether this site tails every shard of the peer past `heads` (the peer's
 * log heads, shard -> seq, sent with a report): incremental there with its
 * cursor at or beyond the head. A shard listed after the report counts too
 * (its cursor starts at a logStart taken later, so beyond the head).
 */
export function drainedPast (heads: ReadonlyArray<readonly [number, number]>, tailOf: (shard: number) => OwnTail | undefined): boolean {
  for (const [shard, head] of heads) {
    if (head === 0) continue
    const t = tailOf(shard)
    if (t === undefined || !t.incremental || t.seq < head) return false
  }
  return true
}

/**
 * The head a reporter sends to `source` for one of its shards: the newest
 * entry whose change did not come from the source. The source pulls with
 * exclude_origin = itself, so its own changes never come back and need no
 * draining; a pure replica (no writes of its own) reports 0 and is drained
 * at once. `originSeqs`: newest seq per origin site (ShardHeader.originSeqs;
 * an unknown origin is keyed '', which never equals a site id).
 */
export function foreignHead (originSeqs: ReadonlyMap<string, number> | Readonly<Record<string, number>> | undefined, source: string): number {
  if (originSeqs === undefined) return 0
  let head = 0
  const entries = originSeqs instanceof Map ? originSeqs.entries() : Object.entries(originSeqs)
  for (const [site, seq] of entries) if (site !== source && seq > head) head = seq
  return head
}

/**
 * foreignHead of a stored shard header: a header that has logged entries
 * but no originSeqs yet (written before they were kept) reports its whole
 * head, which only makes the source wait longer.
 */
export function reportedHead (h: { logSeq: number, originSeqs?: Readonly<Record<string, number>> }, source: string): number {
  if (h.originSeqs === undefined) return h.logSeq
  return foreignHead(h.originSeqs, source)
}

/** A report as the collector keeps it: the peer's positions on this site's shards, and its own heads then. */
export interface HeldReport { positions: ReadonlyArray<readonly [number, PeerPosition]>, heads: ReadonlyArray<readonly [number, number]> }

/**
 * The collector's basis per peer. `drained`: positions of the newest report
 * this site has drained the peer past (tombstones are judged by them);
 * `pending`: the report waiting to be drained past. One report waits at a
 * time, and the newest one takes its place once it is drained past, so
 * that under steady writes (heads always moving) the basis still advances.
 */
export interface DrainState { pending?: HeldReport, drained?: ReadonlyArray<readonly [number, PeerPosition]> }

export function advanceDrain (state: DrainState, latest: HeldReport | undefined, tailOf: (shard: number) => OwnTail | undefined): DrainState {
  let { pending, drained } = state
  for (let i = 0; i < 2; i++) {
    if (pending !== undefined && drainedPast(pending.heads, tailOf)) {
      drained = pending.positions
      pending = undefined
    }
    if (pending === undefined && latest !== undefined && latest.positions !== drained) pending = latest
  }
  return { pending, drained }
}
