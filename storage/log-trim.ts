/**
 * Log trimming and tombstone collection: the storage half of issue 26's
 * hole 4. Called by the node's trimmer (node/log-trimmer.ts), which decides
 * how far (node/trim-policy.ts); this file only carries it out.
 *
 * Dev docs
 * - trimLogs removes log entries up to a seq in each of several shards,
 *   TRIM_PAGE entries a batch across as many shards as fit. Each batch
 *   deletes the entries and raises the logFloor of every shard it touched
 *   to the last one deleted there, under the bucket's writer lock (so the
 *   in-memory headers and the disk never differ). After kill -9 the floors
 *   say how far it got; the next pass goes on from there. The log always
 *   holds exactly logFloor+1 .. logSeq (seqs are contiguous), so the keys to
 *   delete are known without reading them, and a reader that asks from
 *   below the floor is told (LOG_TRIMMED) instead of silently skipping
 *   entries (ObjectStore.readLog). Why many shards a batch: a pass trims
 *   every shard a little (a bucket of 6,000 shards, 44 entries each a
 *   minute in issue 28's 3M run), and a batch, a read and a turn of the
 *   writer lock per shard cost more than the deletes.
 * - queuedShards finds the shards whose tombstone queue is not empty with
 *   one seek per such shard, so that collection visits only those.
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

/**
 * Removes log entries up to a point in each of several shards ([shard,
 * point], inclusive; each shard once), TRIM_PAGE entries a batch. Returns
 * how many went.
 */
export async function trimLogs (db: Database, state: BucketState, points: ReadonlyArray<readonly [shard: number, point: number]>): Promise<number> {
  const id = state.record.id
  let removed = 0
  let next = 0
  while (next < points.length) {
    next = await state.writer.exclusive(async () => {
      const ops: BatchOp[] = []
      const raised: ShardHeader[] = []
      let budget = TRIM_PAGE
      let i = next
      while (i < points.length && budget > 0) {
        const [shard, point] = points[i]
        const header = state.shards[shard]
        const floor = header.logFloor ?? 0
        const end = Math.min(point, header.logSeq)
        const upTo = Math.min(end, floor + budget)
        if (upTo > floor) {
          for (let seq = floor + 1; seq <= upTo; seq++) ops.push({ type: 'del', key: keys.logKey(id, shard, seq) })
          budget -= upTo - floor
          const raisedHeader: ShardHeader = { ...header, logFloor: upTo }
          raised.push(raisedHeader)
          ops.push({ type: 'put', key: keys.shardKey(id, shard), value: raisedHeader })
        }
        if (upTo >= end) i++
      }
      if (raised.length > 0) {
        await writeBatch(db, ops)
        for (const h of raised) state.shards[h.shard] = h
        removed += TRIM_PAGE - budget
      }
      return i
    })
  }
  return removed
}

/** The shards of the bucket whose tombstone queue holds anything, ascending: one seek per such shard. */
export async function queuedShards (db: Database, bucketId: string): Promise<number[]> {
  const out: number[] = []
  const it = db.keys(keys.prefixRange(keys.bucketTombstoneQueuePrefix(bucketId)))
  try {
    for (;;) {
      const key = await it.next()
      if (key === undefined) return out
      const shard = keys.tombstoneQueueShard(bucketId, key)
      out.push(shard)
      it.seek(keys.tombstoneQueuePrefix(bucketId, shard + 1))
    }
  } finally {
    await it.close()
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
