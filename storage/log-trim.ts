/**
 * Log trimming and tombstone collection: the storage half of issue 26's
 * hole 4. Called by the node's trimmer (node/log-trimmer.ts), which decides
 * how far (node/trim-policy.ts); this file only carries it out.
 *
 * Dev docs
 * - trimLog removes a shard's log entries up to a seq, page by page. Each
 *   page is one batch that deletes the entries and raises the header's
 *   logFloor to the last one deleted, under the bucket's writer lock (so
 *   the in-memory header and the disk never differ). After kill -9 the
 *   floor says how far it got; the next pass goes on from there. The log
 *   always holds exactly logFloor+1 .. logSeq (seqs are contiguous), so a
 *   reader that asks from below the floor is told (LOG_TRIMMED) instead of
 *   silently skipping entries (ObjectStore.readLog).
 * - Every delete's batch also queues it in its log shard's tombstone queue
 *   (t!<bucketId>!<shard>!<seq>, bucket-writer.ts). collectTombstones walks
 *   a queue in seq order up to a bound and, for each entry the caller
 *   allows, removes in one batch per page: the head tombstone and the index
 *   tombstone entry if they still are that delete's version (a later put
 *   replaced them otherwise), the count in the header of the shard that
 *   holds the entry, and the queue entry. A tombstone a split moved lives
 *   on the shard its key routes to now; a key routed to a shard that is
 *   SPLITTING is left for a later pass.
 */
import type { BatchOp, BucketState } from './bucket-writer'
import { writeBatch, type Database } from './database'
import * as keys from './keys'
import { compareVersions, type IndexEntry, type ObjectHead, type ShardHeader, type TombstoneQueueRecord } from './records'
import { keyHash, routeHash } from './routing'

const TRIM_PAGE = 1000
const COLLECT_PAGE = 500

/** A queued delete as the collector sees it: where it was logged, where its entry is now. */
export interface QueuedTombstone { key: string, mtime: number, site: string, logShard: number, seq: number, indexShard: number }

/** Removes log entries of `shard` up to `point` (inclusive). Returns how many went. */
export async function trimLog (db: Database, state: BucketState, shard: number, point: number): Promise<number> {
  const id = state.record.id
  let removed = 0
  for (;;) {
    const n = await state.writer.exclusive(async () => {
      const header = state.shards[shard]
      const floor = header.logFloor ?? 0
      const upTo = Math.min(point, header.logSeq)
      if (upTo <= floor) return 0
      const page = await db.keys({ gt: keys.logKey(id, shard, floor), lte: keys.logKey(id, shard, upTo), limit: TRIM_PAGE }).all()
      const last = page.length < TRIM_PAGE ? upTo : keys.trailingHex(page[page.length - 1])
      const next: ShardHeader = { ...header, logFloor: last }
      const ops: BatchOp[] = page.map(key => ({ type: 'del' as const, key }))
      ops.push({ type: 'put', key: keys.shardKey(id, shard), value: next })
      await writeBatch(db, ops)
      state.shards[shard] = next
      return page.length === 0 ? -1 : page.length
    })
    if (n <= 0) return removed
    removed += n
  }
}

/**
 * Collects queued tombstones of log shard `shard` with seq <= upTo that
 * `may` allows; others stay queued. Returns how many tombstones went.
 */
export async function collectTombstones (db: Database, state: BucketState, shard: number, upTo: number, may: (t: QueuedTombstone) => boolean): Promise<number> {
  const id = state.record.id
  const prefix = keys.tombstoneQueuePrefix(id, shard)
  let after = prefix
  let collected = 0
  for (;;) {
    const result = await state.writer.exclusive(async () => {
      const page = await db.iterator({ gt: after, lte: keys.tombstoneQueueKey(id, shard, upTo), limit: COLLECT_PAGE }).all()
      if (page.length === 0) return undefined
      after = page[page.length - 1][0]
      const items: QueuedTombstone[] = []
      const queueKeys: string[] = []
      for (const [k, v] of page) {
        const r = v as TombstoneQueueRecord
        const indexShard = routeHash(keyHash(r.key), state.record.initialShards, state.shards)
        const t: QueuedTombstone = { ...r, logShard: shard, seq: keys.trailingHex(k), indexShard }
        if (state.shards[indexShard].state === 'SPLITTING' || !may(t)) continue
        items.push(t)
        queueKeys.push(k)
      }
      if (items.length === 0) return 0
      const stored = await db.getMany([
        ...items.map(t => keys.headKey(id, t.key)),
        ...items.map(t => keys.indexKey(id, t.indexShard, t.key))
      ])
      const headers = new Map<number, ShardHeader>()
      const ops: BatchOp[] = queueKeys.map(key => ({ type: 'del' as const, key }))
      let n = 0
      for (let i = 0; i < items.length; i++) {
        const t = items[i]
        const head = stored[i] as ObjectHead | undefined
        const entry = stored[items.length + i] as IndexEntry | undefined
        if (head !== undefined && head.deleted === true && compareVersions(head, t) === 0) {
          ops.push({ type: 'del', key: keys.headKey(id, t.key) })
          n++
        }
        if (entry !== undefined && entry.deleted === true && compareVersions(entry, t) === 0) {
          ops.push({ type: 'del', key: keys.indexKey(id, t.indexShard, t.key) })
          const h = headers.get(t.indexShard) ?? { ...state.shards[t.indexShard] }
          h.tombstones = Math.max(0, (h.tombstones ?? 0) - 1)
          headers.set(t.indexShard, h)
        }
      }
      for (const [s, h] of headers) ops.push({ type: 'put', key: keys.shardKey(id, s), value: h })
      await writeBatch(db, ops)
      for (const [s, h] of headers) state.shards[s] = h
      return n
    })
    if (result === undefined) return collected
    collected += result
  }
}
