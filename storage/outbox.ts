/**
 * Durable outbox of split-completion notices, one queue per peer.
 *
 * The splitter adds a notice for every peer in the same batch that marks the
 * split SPLIT_DONE (noticeOps), so a notice exists exactly when the split is
 * durable. The sender (node/sync/notice-sender.ts) reads the oldest notice
 * of a peer, sends it, and removes it only once the peer acknowledged it.
 * Sequence numbers only grow (seeded from the largest on disk at open), so
 * each peer receives its notices in split order.
 */
import type { BatchOp } from './bucket-writer'
import type { Database } from './database'
import * as keys from './keys'

export interface OutboxEntry { key: string, peerId: string, notice: string, createdMs: number }

export class Outbox {
  private seq = 0

  private constructor (private readonly db: Database) {}

  static async open (db: Database): Promise<Outbox> {
    const outbox = new Outbox(db)
    for await (const key of db.keys(keys.prefixRange(keys.OUTBOX_PREFIX))) {
      outbox.seq = Math.max(outbox.seq, keys.trailingHex(key))
    }
    return outbox
  }

  /** Batch operations that queue `notice` for each peer. */
  noticeOps (peerIds: readonly string[], notice: string): BatchOp[] {
    const createdMs = Date.now()
    return peerIds.map(peerId => ({ type: 'put' as const, key: keys.outboxKey(peerId, ++this.seq), value: { notice, createdMs } }))
  }

  async oldest (peerId: string, limit = 1): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = []
    for await (const [key, value] of this.db.iterator({ ...keys.prefixRange(keys.outboxPrefix(peerId)), limit })) {
      const v = value as { notice: string, createdMs: number }
      out.push({ key, peerId, notice: v.notice, createdMs: v.createdMs })
    }
    return out
  }

  async ack (entry: OutboxEntry): Promise<void> {
    await this.db.del(entry.key)
  }

  /** Number of unsent notices per peer. */
  async depth (): Promise<Map<string, number>> {
    const depth = new Map<string, number>()
    for await (const key of this.db.keys(keys.prefixRange(keys.OUTBOX_PREFIX))) {
      const peerId = key.slice(keys.OUTBOX_PREFIX.length, key.lastIndexOf('!'))
      depth.set(peerId, (depth.get(peerId) ?? 0) + 1)
    }
    return depth
  }

  async dropPeer (peerId: string): Promise<void> {
    await this.db.clear(keys.prefixRange(keys.outboxPrefix(peerId)))
  }
}
