/**
 * The incremental tail's polls sent ahead: PullChanges calls for what
 * follows answers not yet applied.
 *
 * Used by BucketSync's tail (node/sync/bucket-sync.ts), which applies
 * answers one after another, in order. Owns nothing but the calls in
 * flight and the answers received and not yet taken.
 *
 * Dev docs
 * - A chain of polls, each for the cursors its predecessor's answer
 *   reached. When an answer with entries arrives, the poll for what follows
 *   it is sent at once, not when the tail gets round to taking it: the
 *   source's round trip then overlaps the tail's applying instead of
 *   following it. At most MAX_WAITING answers are held untaken; past that
 *   the chain goes on when the tail takes one (`follow`).
 * - The tail takes an answer only if it was asked for exactly the tail's
 *   cursors (`take`); otherwise (a shard entered incremental sync, a
 *   resync moved cursors, a poll failed and was taken) the whole chain is
 *   dropped and the tail polls afresh. A dropped call's answer or error is
 *   ignored (prefetch). Answers never go anywhere else, so nothing is
 *   applied out of order or twice from here.
 */
import { prefetch } from './prefetch'
import type { PullAnswer } from './source-client'

export interface TailCursor { shard: number, afterSeq: number }
export type Pull = (cursors: TailCursor[]) => Promise<PullAnswer>

/** Answers received and not yet taken, at most, before the chain waits for the tail. */
const MAX_WAITING = 2

interface Poll {
  key: string
  cursors: TailCursor[]
  pull: Pull
  answer: () => Promise<PullAnswer>
  /** Set once the answer came (not on failure). */
  settled?: PullAnswer
  next?: Poll
}

export class PollsAhead {
  private head: Poll | undefined
  private closed = false

  /** The answer to a poll sent ahead for exactly these cursors (what follows it stays queued); else undefined, and the chain is dropped. */
  take (cursors: TailCursor[]): (() => Promise<PullAnswer>) | undefined {
    const h = this.head
    if (h === undefined) return undefined
    if (h.key !== cursorsKey(cursors)) {
      this.head = undefined
      return undefined
    }
    this.head = h.next
    return h.answer
  }

  /** `answer` (to a poll for `cursors`) was taken: keeps a poll in flight for what follows, if it had entries. */
  follow (cursors: TailCursor[], answer: PullAnswer, pull: Pull): void {
    if (this.closed || answer.entries.length === 0) return
    if (this.head === undefined) {
      this.head = this.send(advanceCursors(cursors, answer), pull)
      return
    }
    let last = this.head
    while (last.next !== undefined) last = last.next
    this.extend(last)
  }

  /** Drops every poll ahead (their answers are ignored). */
  clear (): void {
    this.head = undefined
  }

  /** As clear, and no poll is sent any more. */
  close (): void {
    this.closed = true
    this.head = undefined
  }

  private send (cursors: TailCursor[], pull: Pull): Poll {
    const p = pull(cursors)
    const poll: Poll = { key: cursorsKey(cursors), cursors, pull, answer: prefetch(p) }
    p.then((a) => {
      poll.settled = a
      this.extend(poll)
    }, () => {})
    return poll
  }

  /** Sends the poll after `poll` if its answer had entries, it is still queued, and few enough answers wait. */
  private extend (poll: Poll): void {
    const a = poll.settled
    if (this.closed || a === undefined || a.entries.length === 0 || poll.next !== undefined) return
    let queued = false
    let waiting = 0
    for (let p = this.head; p !== undefined; p = p.next) {
      if (p === poll) queued = true
      if (p.settled !== undefined) waiting++
    }
    if (!queued || waiting >= MAX_WAITING) return
    poll.next = this.send(advanceCursors(poll.cursors, a), poll.pull)
  }
}

/** The cursors after an answer: each where the answer reached, never back. */
export function advanceCursors (cursors: TailCursor[], answer: PullAnswer): TailCursor[] {
  const reached = new Map(answer.positions.map(p => [p.shard, p.seq]))
  return cursors.map(c => ({ shard: c.shard, afterSeq: Math.max(c.afterSeq, reached.get(c.shard) ?? 0) }))
}

function cursorsKey (cursors: TailCursor[]): string {
  return cursors.map(c => `${c.shard}:${c.afterSeq}`).join(',')
}
