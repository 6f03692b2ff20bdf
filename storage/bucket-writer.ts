/**
 * BucketWriter: the one place where a bucket's objects, index and sync log
 * change. Called by ObjectStore (client writes, replicated writes) and by
 * storage/split.ts (split steps, through `exclusive`).
 *
 * Dev docs
 * - Every state change is one LevelDB batch in the main database. Object
 *   content goes to the content database (storage/content-store.ts): new
 *   chunks ahead of the batch with an intent, dropped ones after it.
 *   Object writes are group-
 *   committed: all mutations queued while the previous batch was being
 *   written go into the next batch, together with the shard headers and
 *   the bucket record they change. Memory (headers, record) is updated only
 *   after the batch is durable, so a failed write leaves no trace.
 * - Batches of one bucket are written one at a time (a FIFO lock), which
 *   keeps the in-memory headers equal to what is on disk, in order.
 * - Writes never wait for a split. A mutation routed to a SPLITTING shard
 *   whose key stays there (hash bit splitDepth = 0) is applied as usual. One
 *   whose key moves (bit 1) is applied on the new shard (splitTo): its index
 *   entry is put there, and if the migration has not reached it yet, the
 *   old shard's entry is removed in the same batch (counts moved with it);
 *   its log entry goes to the new shard. Migration pages are read and moved
 *   under the same lock as group commits (storage/split.ts), so the two
 *   never see each other half done.
 * - Invariants per applied mutation: head, index entry and log entry change
 *   together; the index entry lives on the shard the key routes to; the log
 *   entry goes to that same shard (where the change happened) and never
 *   moves; a shard's indexCount equals its number of live index entries,
 *   and its tombstones its number of tombstone entries (a delete leaves a
 *   tombstone entry in the index beside its head tombstone, so that a full
 *   sync's listing carries it: docs/design.md, invariant 17).
 * - Last writer wins by (mtime, site): a replicated mutation that is not
 *   newer than what is stored is dropped (and its uploaded chunks with it).
 *   Local writes take mtime = max(now, stored mtime + 1), so they always win
 *   locally and order consistently everywhere.
 */
import type { ContentRef, ContentStore, Intent } from './content-store'
import { writeBatch, type BatchOp, type Database } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'
import type { ObjectMeta } from './object-meta'
import type { OriginRuns } from './origin-runs'
import { routeHash, splitBit } from './routing'
import { compareVersions, type BucketRecord, type IndexEntry, type LogRecord, type ObjectHead, type ObjectVersion, type ShardHeader } from './records'

export type { BatchOp } from './database'

/** How the version of a mutation is decided. */
export type WriteMode = 'local' | 'replica'

export interface PutMutation {
  kind: 'put'
  key: string
  hash: Buffer
  mode: WriteMode
  /** For replica writes: the origin's mtime and site. Local writes get theirs at commit. */
  mtime: number
  site: string
  size: number
  etag: string
  dataId: string
  chunks: number
  /** Chunks not yet written (small objects): written in the commit batch. */
  inlineChunks: Buffer[]
  /** True if chunks (or the blob file) were written ahead under an upload marker. */
  uploaded: boolean
  /** The content is a blob file written ahead (uploaded is then true, chunks 0). */
  blob: boolean
  /** CRC-32 of the content (storage/checksum.ts), kept in the head. */
  crc32: number
  /** Content-Type, user metadata, S3 ETag (storage/object-meta.ts), kept in the head. */
  meta?: ObjectMeta
}

export interface DeleteMutation {
  kind: 'delete'
  key: string
  hash: Buffer
  mode: WriteMode
  mtime: number
  site: string
}

export type Mutation = PutMutation | DeleteMutation

export interface MutationResult {
  applied: boolean
  version: ObjectVersion
  shard: number
  /** True if a live object existed before (for delete: what was deleted). */
  existed: boolean
}

export interface BucketState {
  record: BucketRecord
  shards: ShardHeader[]
  writer: BucketWriter
  /** Origin site of recent log entries (a cache for PullChanges). */
  origins: OriginRuns
}

interface Pending {
  mutation: Mutation
  resolve: (r: MutationResult) => void
  reject: (err: unknown) => void
}

export interface WriterHooks {
  /** After a batch with log entries is durable. */
  onLogAppended: (bucket: BucketState, shards: number[]) => void
  /** After a commit, for shards whose index grew. */
  onIndexGrew: (bucket: BucketState, shards: number[]) => void
  /** After a batch that marked blob files garbage (g!<dataId>) is durable: remove them. */
  onGarbage: (dataIds: string[]) => void
}

const MAX_GROUP = 2048

export class BucketWriter {
  private readonly queue: Pending[] = []
  private lockTail: Promise<void> = Promise.resolve()
  private drainScheduled = false

  constructor (
    private readonly db: Database,
    private readonly content: ContentStore,
    private readonly state: () => BucketState,
    private readonly hooks: WriterHooks
  ) {}

  submit (mutation: Mutation): Promise<MutationResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ mutation, resolve, reject })
      this.scheduleDrain()
    })
  }

  /**
   * Submits many mutations at once (sync applies whole pages): one promise
   * for all, resolved with their results in order, or rejected with the
   * first error (the others still commit or fail on their own).
   */
  submitMany (mutations: Mutation[]): Promise<MutationResult[]> {
    if (mutations.length === 0) return Promise.resolve([])
    return new Promise((resolve, reject) => {
      const results: MutationResult[] = new Array(mutations.length)
      let left = mutations.length
      let failed = false
      const fail = (err: unknown): void => {
        if (failed) return
        failed = true
        reject(err)
      }
      for (let i = 0; i < mutations.length; i++) {
        this.queue.push({
          mutation: mutations[i],
          resolve: (r) => {
            results[i] = r
            if (--left === 0 && !failed) resolve(results)
          },
          reject: fail
        })
      }
      this.scheduleDrain()
    })
  }

  /** Runs fn while no group commit runs; used by split steps. */
  exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.lockTail.then(fn)
    this.lockTail = run.then(noop, noop)
    return run
  }

  /** Rejects everything waiting; used on close. */
  failAll (err: unknown): void {
    for (const p of this.queue.splice(0)) p.reject(err)
  }

  private scheduleDrain (): void {
    if (this.drainScheduled) return
    this.drainScheduled = true
    void this.exclusive(async () => {
      this.drainScheduled = false
      const group = this.queue.splice(0, MAX_GROUP)
      if (group.length > 0) await this.commitGroup(group)
      if (this.queue.length > 0) this.scheduleDrain()
    })
  }

  private async commitGroup (group: Pending[]): Promise<void> {
    const bucket = this.state()
    const { record } = bucket
    // shard: where the key's index entry belongs; from: the SPLITTING shard
    // it may still sit in (moving keys only), else -1.
    const ready: Array<{ p: Pending, shard: number, from: number }> = []
    let moving = 0
    for (const p of group) {
      const shard = routeHash(p.mutation.hash, record.initialShards, bucket.shards)
      const h = bucket.shards[shard]
      if (h.state === 'SPLITTING' && h.splitTo !== undefined && h.splitDepth !== undefined && splitBit(p.mutation.hash, h.splitDepth) === 1) {
        ready.push({ p, shard: h.splitTo, from: shard })
        moving++
      } else {
        ready.push({ p, shard, from: -1 })
      }
    }
    if (ready.length === 0) return

    // Heads of every key, then (moving keys only) their entries in the old shard.
    let stored: unknown[]
    try {
      const want = ready.map(r => keys.headKey(record.id, r.p.mutation.key))
      if (moving > 0) for (const r of ready) if (r.from >= 0) want.push(keys.indexKey(record.id, r.from, r.p.mutation.key))
      stored = await this.db.getMany(want)
    } catch (err) {
      for (const r of ready) r.p.reject(err)
      return
    }
    const inOldShard = new Set<string>()
    for (let i = 0, j = ready.length; i < ready.length; i++) {
      if (ready[i].from >= 0 && stored[j++] !== undefined) inOldShard.add(ready[i].p.mutation.key)
    }

    const headers = new Map<number, ShardHeader>()
    const latest = new Map<string, ObjectHead | undefined>()
    const ops: BatchOp[] = []
    const outcomes: Array<{ p: Pending, result?: MutationResult, error?: unknown }> = []
    const logged = new Set<number>()
    const appended: Array<{ shard: number, seq: number, site: string }> = []
    const grew = new Set<number>()
    const garbage: string[] = []
    /** Chunks for the content database, and the versions they belong to. */
    const chunkPuts: BatchOp[] = []
    const added: ContentRef[] = []
    const dropped: ContentRef[] = []
    let objectDelta = 0
    const now = Date.now()

    const headerOf = (shard: number): ShardHeader => {
      let h = headers.get(shard)
      if (h === undefined) {
        const from = bucket.shards[shard]
        headers.set(shard, h = { ...from, originSeqs: { ...(from.originSeqs ?? (from.logSeq > (from.logFloor ?? 0) ? { '': from.logSeq } : undefined)) } })
      }
      return h
    }
    const changed = new Set<number>()

    for (let i = 0; i < ready.length; i++) {
      const { p, shard, from } = ready[i]
      const m = p.mutation
      const old = latest.has(m.key) ? latest.get(m.key) : stored[i] as ObjectHead | undefined
      const live = old !== undefined && old.deleted !== true
      const header = headerOf(shard)

      if (m.mode === 'local') {
        // Above the bucket's floor (its newest applied bucket delete, see
        // node/sync/bucket-rules.ts), so that no delete of it can sweep it.
        m.mtime = Math.max(now, (old?.mtime ?? 0) + 1, (record.floor?.mtime ?? 0) + 1)
      } else if ((old !== undefined && compareVersions(m, old) <= 0) || (m.kind === 'put' && record.floor !== undefined && compareVersions(m, record.floor) <= 0)) {
        // A replicated put at or below the floor belongs to a deleted past of
        // the bucket: dropped like a version that is not newer.
        // Not newer than what we hold: drop it, and any chunks it uploaded.
        if (m.kind === 'put' && m.uploaded) dropData(ops, dropped, garbage, m.dataId, m.chunks, m.blob, true)
        outcomes.push({ p, result: { applied: false, version: old !== undefined ? versionOf(old) : { size: 0, etag: '', mtime: m.mtime, site: m.site }, shard, existed: live } })
        continue
      }
      if (m.kind === 'delete' && m.mode === 'local' && !live) {
        outcomes.push({ p, error: ShardsyncError.objectNotFound(record.name, m.key) })
        continue
      }

      if (live && old.dataId !== undefined) dropData(ops, dropped, garbage, old.dataId, old.chunks, old.blob === true, false)
      if (from >= 0 && inOldShard.delete(m.key)) {
        // A moving key the migration has not reached: move its entry now.
        const fromHeader = headerOf(from)
        ops.push({ type: 'del', key: keys.indexKey(record.id, from, m.key) })
        if (old?.deleted === true) {
          fromHeader.tombstones = countDown(fromHeader.tombstones)
          header.tombstones = (header.tombstones ?? 0) + 1
        } else {
          fromHeader.indexCount--
          header.indexCount++
        }
        changed.add(from)
        changed.add(shard)
      }
      let head: ObjectHead
      if (m.kind === 'put') {
        head = { size: m.size, etag: m.etag, mtime: m.mtime, site: m.site, dataId: m.dataId, chunks: m.chunks, crc32: m.crc32 }
        if (m.blob) head.blob = true
        if (m.meta !== undefined) head.meta = m.meta
        for (let c = 0; c < m.inlineChunks.length; c++) {
          // Inline chunks are the last ones: earlier chunks were written ahead.
          chunkPuts.push({ type: 'put', key: keys.chunkKey(m.dataId, m.chunks - m.inlineChunks.length + c), value: m.inlineChunks[c], valueEncoding: 'buffer' } as BatchOp)
        }
        if (m.chunks > 0 && !m.blob) added.push([m.dataId, m.chunks])
        if (m.uploaded) ops.push({ type: 'del', key: keys.uploadKey(m.dataId) })
        const entry: IndexEntry = { size: m.size, etag: m.etag, mtime: m.mtime, site: m.site }
        ops.push({ type: 'put', key: keys.indexKey(record.id, shard, m.key), value: entry })
        if (!live) { header.indexCount++; objectDelta++; grew.add(shard) }
        if (old?.deleted === true) header.tombstones = countDown(header.tombstones)
      } else {
        head = { size: 0, etag: '', mtime: m.mtime, site: m.site, chunks: 0, deleted: true }
        // The index keeps a tombstone entry, so that a full sync's listing
        // carries the delete (docs/design.md, invariant 17).
        const entry: IndexEntry = { size: 0, etag: '', mtime: m.mtime, site: m.site, deleted: true }
        ops.push({ type: 'put', key: keys.indexKey(record.id, shard, m.key), value: entry })
        if (live) { header.indexCount--; objectDelta-- }
        if (old?.deleted !== true) header.tombstones = (header.tombstones ?? 0) + 1
      }
      ops.push({ type: 'put', key: keys.headKey(record.id, m.key), value: head })
      header.logSeq++
      const log: LogRecord = { key: m.key, deleted: m.kind === 'delete', size: head.size, etag: head.etag, mtime: head.mtime, site: head.site }
      ops.push({ type: 'put', key: keys.logKey(record.id, shard, header.logSeq), value: log })
      ;(header.originSeqs as Record<string, number>)[head.site] = header.logSeq
      // A delete joins the tombstone queue of its log shard, to be
      // collected once no peer can need it (storage/log-trim.ts).
      if (m.kind === 'delete') ops.push({ type: 'put', key: keys.tombstoneQueueKey(record.id, shard, header.logSeq), value: { key: m.key, mtime: head.mtime, site: head.site } })
      logged.add(shard)
      changed.add(shard)
      appended.push({ shard, seq: header.logSeq, site: head.site })
      latest.set(m.key, head)
      outcomes.push({ p, result: { applied: true, version: versionOf(head), shard, existed: live } })
    }

    let intent: Intent | undefined
    const newRecord = objectDelta !== 0 ? { ...record, objectCount: record.objectCount + objectDelta } : record
    if (ops.length > 0) {
      for (const shard of changed) ops.push({ type: 'put', key: keys.shardKey(record.id, shard), value: headers.get(shard) })
      if (newRecord !== record) ops.push({ type: 'put', key: keys.bucketKey(record.name), value: newRecord })
      try {
        if (added.length > 0 || dropped.length > 0) intent = await this.content.writeAhead(added, dropped, chunkPuts)
      } catch (err) {
        for (const o of outcomes) o.p.reject(err)
        return
      }
      if (intent !== undefined) for (const op of this.content.commitOps(intent)) ops.push(op)
      try {
        await writeBatch(this.db, ops)
      } catch (err) {
        // The intent stays: whether the batch reached LevelDB's log is not
        // known here, and the next open settles it by what is on disk.
        for (const o of outcomes) o.p.reject(err)
        return
      }
      for (const shard of changed) bucket.shards[shard] = headers.get(shard) as ShardHeader
      for (const a of appended) bucket.origins.note(a.shard, a.seq, a.site)
      bucket.record = newRecord
    }
    for (const o of outcomes) {
      if (o.result !== undefined) o.p.resolve(o.result)
      else o.p.reject(o.error)
    }
    if (garbage.length > 0 && ops.length > 0) this.hooks.onGarbage(garbage)
    if (logged.size > 0) this.hooks.onLogAppended(bucket, [...logged])
    if (grew.size > 0) this.hooks.onIndexGrew(bucket, [...grew])
    // Dropped versions' chunks, once no head names them (a failure leaves
    // the intent for the next open to settle).
    if (intent !== undefined) await this.content.settle(intent).catch(noop)
  }
}

function versionOf (head: ObjectHead): ObjectVersion {
  return { size: head.size, etag: head.etag, mtime: head.mtime, site: head.site }
}

/**
 * Removes a version's content: its chunks once the batch is durable (named
 * in the commit's intent, storage/content-store.ts); a blob file gets a
 * garbage marker in the batch and is removed once the batch is durable.
 */
function dropData (ops: BatchOp[], dropped: ContentRef[], garbage: string[], dataId: string, chunks: number, blob: boolean, withMarker: boolean): void {
  if (chunks > 0 && !blob) dropped.push([dataId, chunks])
  if (withMarker) ops.push({ type: 'del', key: keys.uploadKey(dataId) })
  if (blob) {
    ops.push({ type: 'put', key: keys.garbageKey(dataId), value: {} })
    garbage.push(dataId)
  }
}

function noop (): void {}

/** One less, never below 0 (tombstones deleted before index tombstones were kept have no entry). */
function countDown (n: number | undefined): number {
  return Math.max(0, (n ?? 0) - 1)
}
