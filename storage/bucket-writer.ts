/**
 * BucketWriter: the one place where a bucket's objects, index and sync log
 * change. Called by ObjectStore (client writes, replicated writes) and by
 * storage/split.ts (split steps, through `exclusive`).
 *
 * Dev docs
 * - Every state change is one LevelDB batch. Object writes are group-
 *   committed: all mutations queued while the previous batch was being
 *   written go into the next batch, together with the shard headers and
 *   the bucket record they change. Memory (headers, record) is updated only
 *   after the batch is durable, so a failed write leaves no trace.
 * - Batches of one bucket are written one at a time (a FIFO lock), which
 *   keeps the in-memory headers equal to what is on disk, in order.
 * - A mutation routed to a SPLITTING shard is parked and re-routed when the
 *   split ends (writes to a splitting shard wait; nothing else does).
 * - Invariants per applied mutation: head, index entry and log entry change
 *   together; the index entry lives on the shard the key routes to; the log
 *   entry goes to that same shard (where the change happened) and never
 *   moves; a shard's indexCount equals its number of index entries.
 * - Last writer wins by (mtime, site): a replicated mutation that is not
 *   newer than what is stored is dropped (and its uploaded chunks with it).
 *   Local writes take mtime = max(now, stored mtime + 1), so they always win
 *   locally and order consistently everywhere.
 */
import type { AbstractBatchOperation } from 'abstract-level'
import type { Database } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'
import { routeHash } from './routing'
import { compareVersions, type BucketRecord, type IndexEntry, type LogRecord, type ObjectHead, type ObjectVersion, type ShardHeader } from './records'

export type BatchOp = AbstractBatchOperation<Database, string, unknown>

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
  /** True if chunks were written ahead under an upload marker. */
  uploaded: boolean
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
}

const MAX_GROUP = 2048

export class BucketWriter {
  private readonly queue: Pending[] = []
  private readonly parked = new Map<number, Pending[]>()
  private lockTail: Promise<void> = Promise.resolve()
  private drainScheduled = false

  constructor (
    private readonly db: Database,
    private readonly state: () => BucketState,
    private readonly hooks: WriterHooks
  ) {}

  submit (mutation: Mutation): Promise<MutationResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ mutation, resolve, reject })
      this.scheduleDrain()
    })
  }

  /** Runs fn while no group commit runs; used by split steps. */
  exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.lockTail.then(fn)
    this.lockTail = run.then(noop, noop)
    return run
  }

  /** Mutations parked on a shard: re-queued when its split is over. */
  releaseParked (shard: number): void {
    const parked = this.parked.get(shard)
    if (parked === undefined) return
    this.parked.delete(shard)
    this.queue.push(...parked)
    this.scheduleDrain()
  }

  parkedCount (): number {
    let n = 0
    for (const p of this.parked.values()) n += p.length
    return n
  }

  /** Rejects everything waiting; used on close. */
  failAll (err: unknown): void {
    for (const p of this.queue.splice(0)) p.reject(err)
    for (const list of this.parked.values()) for (const p of list) p.reject(err)
    this.parked.clear()
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
    const ready: Array<{ p: Pending, shard: number }> = []
    for (const p of group) {
      const shard = routeHash(p.mutation.hash, record.initialShards, bucket.shards)
      if (bucket.shards[shard].state === 'SPLITTING') {
        let list = this.parked.get(shard)
        if (list === undefined) this.parked.set(shard, list = [])
        list.push(p)
      } else {
        ready.push({ p, shard })
      }
    }
    if (ready.length === 0) return

    let stored: Array<unknown>
    try {
      stored = await this.db.getMany(ready.map(r => keys.headKey(record.id, r.p.mutation.key)))
    } catch (err) {
      for (const r of ready) r.p.reject(err)
      return
    }

    const headers = new Map<number, ShardHeader>()
    const latest = new Map<string, ObjectHead | undefined>()
    const ops: BatchOp[] = []
    const outcomes: Array<{ p: Pending, result?: MutationResult, error?: unknown }> = []
    const logged = new Set<number>()
    const grew = new Set<number>()
    let objectDelta = 0
    const now = Date.now()

    for (let i = 0; i < ready.length; i++) {
      const { p, shard } = ready[i]
      const m = p.mutation
      const old = latest.has(m.key) ? latest.get(m.key) : stored[i] as ObjectHead | undefined
      const live = old !== undefined && old.deleted !== true
      let header = headers.get(shard)
      if (header === undefined) headers.set(shard, header = { ...bucket.shards[shard] })

      if (m.mode === 'local') {
        m.mtime = Math.max(now, (old?.mtime ?? 0) + 1)
      } else if (old !== undefined && compareVersions(m, old) <= 0) {
        // Not newer than what we hold: drop it, and any chunks it uploaded.
        if (m.kind === 'put' && m.uploaded) dropChunks(ops, m.dataId, m.chunks, true)
        outcomes.push({ p, result: { applied: false, version: versionOf(old), shard, existed: live } })
        continue
      }
      if (m.kind === 'delete' && m.mode === 'local' && !live) {
        outcomes.push({ p, error: ShardsyncError.objectNotFound(record.name, m.key) })
        continue
      }

      if (live && old.dataId !== undefined) dropChunks(ops, old.dataId, old.chunks, false)
      let head: ObjectHead
      if (m.kind === 'put') {
        head = { size: m.size, etag: m.etag, mtime: m.mtime, site: m.site, dataId: m.dataId, chunks: m.chunks }
        for (let c = 0; c < m.inlineChunks.length; c++) {
          // Inline chunks are the last ones: earlier chunks were written ahead.
          ops.push({ type: 'put', key: keys.chunkKey(m.dataId, m.chunks - m.inlineChunks.length + c), value: m.inlineChunks[c], valueEncoding: 'buffer' } as BatchOp)
        }
        if (m.uploaded) ops.push({ type: 'del', key: keys.uploadKey(m.dataId) })
        const entry: IndexEntry = { size: m.size, etag: m.etag, mtime: m.mtime, site: m.site }
        ops.push({ type: 'put', key: keys.indexKey(record.id, shard, m.key), value: entry })
        if (!live) { header.indexCount++; objectDelta++; grew.add(shard) }
      } else {
        head = { size: 0, etag: '', mtime: m.mtime, site: m.site, chunks: 0, deleted: true }
        if (live) {
          ops.push({ type: 'del', key: keys.indexKey(record.id, shard, m.key) })
          header.indexCount--
          objectDelta--
        }
      }
      ops.push({ type: 'put', key: keys.headKey(record.id, m.key), value: head })
      header.logSeq++
      const log: LogRecord = { key: m.key, deleted: m.kind === 'delete', size: head.size, etag: head.etag, mtime: head.mtime, site: head.site }
      ops.push({ type: 'put', key: keys.logKey(record.id, shard, header.logSeq), value: log })
      logged.add(shard)
      latest.set(m.key, head)
      outcomes.push({ p, result: { applied: true, version: versionOf(head), shard, existed: live } })
    }

    const newRecord = objectDelta !== 0 ? { ...record, objectCount: record.objectCount + objectDelta } : record
    if (ops.length > 0) {
      for (const shard of logged) ops.push({ type: 'put', key: keys.shardKey(record.id, shard), value: headers.get(shard) })
      if (newRecord !== record) ops.push({ type: 'put', key: keys.bucketKey(record.name), value: newRecord })
      try {
        await this.db.batch(ops)
      } catch (err) {
        for (const o of outcomes) o.p.reject(err)
        return
      }
      for (const shard of logged) bucket.shards[shard] = headers.get(shard) as ShardHeader
      bucket.record = newRecord
    }
    for (const o of outcomes) {
      if (o.result !== undefined) o.p.resolve(o.result)
      else o.p.reject(o.error)
    }
    if (logged.size > 0) this.hooks.onLogAppended(bucket, [...logged])
    if (grew.size > 0) this.hooks.onIndexGrew(bucket, [...grew])
  }
}

function versionOf (head: ObjectHead): ObjectVersion {
  return { size: head.size, etag: head.etag, mtime: head.mtime, site: head.site }
}

function dropChunks (ops: BatchOp[], dataId: string, chunks: number, withMarker: boolean): void {
  for (let c = 0; c < chunks; c++) ops.push({ type: 'del', key: keys.chunkKey(dataId, c) })
  if (withMarker) ops.push({ type: 'del', key: keys.uploadKey(dataId) })
}

function noop (): void {}
