/**
 * Bucket lifecycle in storage (docs/design.md, invariant 19): dropping a
 * bucket with its tombstone, raising a bucket's floor and sweeping what is
 * at or below it, adopting a generation, and the bucket tombstones.
 *
 * Called by ObjectStore (storage/object-store.ts), which keeps the bucket
 * table and hands this class the narrow view it needs (LifecycleHost); the
 * rule that decides what a peer's bucket list means is in
 * node/sync/bucket-rules.ts. Every change is one batch, made under the
 * bucket writer's exclusive lock where it touches a live bucket; a sweep a
 * crash interrupted resumes at open (ObjectStore.resumeSweeps).
 */
import { runDropJob } from './bucket-drop'
import type { BucketState, Mutation } from './bucket-writer'
import { writeBatch, type BatchOp, type Database } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'
import { compareVersions, type BucketGeneration, type BucketRecord, type BucketTombstoneRecord, type ObjectHead } from './records'
import { keyHash } from './routing'

const SWEEP_PAGE = 1000

export interface LifecycleHost {
  readonly db: Database
  readonly siteId: string
  /** The live state of the bucket with this storage id, if it is still live. */
  current: (id: string) => BucketState | undefined
  /** Removes a dropped bucket from the table. */
  forget: (state: BucketState) => void
  emit: (event: string, ...args: unknown[]) => void
}

/** The generation of a bucket (records from before generations: its own id, the local site). */
export function generationOf (record: BucketRecord, siteId: string): BucketGeneration {
  return record.gen ?? { id: record.id, createdMs: record.createdMs, site: siteId }
}

export class BucketLifecycle {
  constructor (private readonly host: LifecycleHost) {}

  /** Under the writer's exclusive lock: one batch drops the bucket and writes its tombstone and drop job; then its storage goes. */
  async dropLocked (state: BucketState, version: { mtime: number, site: string }): Promise<void> {
    const { db } = this.host
    const { name, id } = state.record
    const gen = generationOf(state.record, this.host.siteId)
    const merged = state.record.merged ?? []
    const tombstone: BucketTombstoneRecord = { name, gen, merged, version }
    const ops: BatchOp[] = [{ type: 'del', key: keys.bucketKey(name) }, { type: 'put', key: keys.bucketDropKey(id), value: { id, name } }]
    for (const g of [gen.id, ...merged]) ops.push({ type: 'put', key: keys.bucketTombstoneKey(name, g), value: tombstone })
    await writeBatch(db, ops)
    this.host.forget(state)
    state.writer.failAll(ShardsyncError.bucketNotFound(name))
    this.host.emit('bucket-dropped', name, id)
    void runDropJob(db, id).catch((err) => this.host.emit('bucket-error', err))
  }

  /** The bucket takes another generation and/or merged ids (it lost the name to a peer's). */
  async adoptGeneration (state: BucketState, gen: BucketGeneration | undefined, merged: string[] | undefined): Promise<void> {
    await state.writer.exclusive(async () => {
      const rec: BucketRecord = { ...state.record, gen: gen ?? generationOf(state.record, this.host.siteId) }
      if (merged !== undefined) rec.merged = [...merged]
      await this.host.db.put(keys.bucketKey(rec.name), rec)
      state.record = rec
    })
  }

  /**
   * Raises the bucket's floor to `version` (a bucket delete of its
   * generation) and deletes every live object at or below it, page by page.
   * With dropIfEmpty, the bucket is then dropped if it holds no live object
   * (the delete won); otherwise it stays (the delete lost). The floor and the
   * intent are saved first, so that a crash resumes the sweep at open.
   */
  async applyFloor (state: BucketState, version: { mtime: number, site: string }, dropIfEmpty: boolean): Promise<'dropped' | 'kept' | 'gone'> {
    await state.writer.exclusive(async () => {
      const floor = state.record.floor === undefined || compareVersions(version, state.record.floor) > 0 ? version : state.record.floor
      const rec: BucketRecord = { ...state.record, floor, sweeping: dropIfEmpty || state.record.sweeping === 'drop' ? 'drop' : 'keep' }
      await this.host.db.put(keys.bucketKey(rec.name), rec)
      state.record = rec
    })
    return await this.sweep(state)
  }

  /** Deletes the live objects at or below the floor, then drops the bucket if asked and empty. */
  async sweep (state: BucketState): Promise<'dropped' | 'kept' | 'gone'> {
    const { db } = this.host
    const { id } = state.record
    const base = keys.headPrefix(id)
    let after = ''
    for (;;) {
      const floor = state.record.floor
      if (floor === undefined || this.host.current(id) !== state) break
      const page = await db.iterator({ gt: base + after, lt: keys.prefixRange(base).lt, limit: SWEEP_PAGE }).all()
      if (page.length === 0) break
      after = page[page.length - 1][0].slice(base.length)
      const old: Mutation[] = []
      for (const [k, v] of page) {
        const h = v as ObjectHead
        if (h.deleted === true || compareVersions(h, floor) > 0) continue
        const key = k.slice(base.length)
        old.push({ kind: 'delete', key, hash: keyHash(key), mode: 'replica', mtime: floor.mtime, site: floor.site })
      }
      if (old.length > 0) await state.writer.submitMany(old)
    }
    if (this.host.current(id) !== state) return 'gone'
    return await state.writer.exclusive(async () => {
      if (this.host.current(id) !== state) return 'gone'
      const floor = state.record.floor
      if (state.record.sweeping === 'drop' && state.record.objectCount === 0 && floor !== undefined) {
        await this.dropLocked(state, floor)
        return 'dropped'
      }
      const rec: BucketRecord = { ...state.record }
      delete rec.sweeping
      await db.put(keys.bucketKey(rec.name), rec)
      state.record = rec
      return 'kept'
    })
  }

  /** Keeps a peer's bucket tombstone, if newer than the one held for its generation. */
  async putTombstone (t: BucketTombstoneRecord): Promise<void> {
    const key = keys.bucketTombstoneKey(t.name, t.gen.id)
    const had = await this.host.db.get(key) as BucketTombstoneRecord | undefined
    if (had !== undefined && compareVersions(t.version, had.version) <= 0) return
    await this.host.db.put(key, t)
  }

  async getTombstone (name: string, genId: string): Promise<BucketTombstoneRecord | undefined> {
    return await this.host.db.get(keys.bucketTombstoneKey(name, genId)) as BucketTombstoneRecord | undefined
  }

  /** Every bucket tombstone (one per deleted generation id; the merged ids' copies are left out). */
  async listTombstones (): Promise<BucketTombstoneRecord[]> {
    const out: BucketTombstoneRecord[] = []
    for await (const [k, v] of this.host.db.iterator(keys.prefixRange(keys.BUCKET_TOMBSTONES_PREFIX))) {
      const t = v as BucketTombstoneRecord
      if (k === keys.bucketTombstoneKey(t.name, t.gen.id)) out.push(t)
    }
    return out
  }
}
