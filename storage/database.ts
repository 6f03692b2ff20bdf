/**
 * Opens the node's one LevelDB and turns open failures into clear, coded
 * errors (locked by another process, corrupt) instead of stack dumps.
 */
import type { AbstractBatchOperation } from 'abstract-level'
import { Level } from 'level'
import { ShardsyncError } from './errors'

export type Database = Level<string, unknown>

/** One operation of an atomic batch (a 'put' may set valueEncoding: 'buffer'). */
export type BatchOp = AbstractBatchOperation<Database, string, unknown>

export interface DatabaseTuning {
  /**
   * Table files LevelDB keeps open (its table cache): file descriptors, and
   * each open table's index block in private memory. Tables are read with
   * pread, not mapped (scripts/build-leveldb.js), unless the process runs
   * with LEVELDB_MMAP_LIMIT set, or on the stock prebuilt binary; then each
   * open table is mapped and this also bounds the mapped pages in the RSS
   * (about maxOpenFiles × 2 MiB). LevelDB uses at least 74.
   */
  maxOpenFiles?: number
  /** LevelDB block cache, bytes (uncompressed blocks in private memory). */
  cacheBytes?: number
}

export async function openDatabase (dir: string, tuning: DatabaseTuning = {}): Promise<Database> {
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json', maxOpenFiles: tuning.maxOpenFiles, cacheSize: tuning.cacheBytes })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { message?: string, code?: string } }).cause
    const text = `${String((err as Error).message)} ${String(cause?.message ?? '')}`
    if (cause?.code === 'LEVEL_LOCKED' || /lock/i.test(text)) throw ShardsyncError.databaseLocked(dir, err)
    throw ShardsyncError.databaseCorrupt(dir, err)
  }
  return db
}

/**
 * Writes ops as one atomic LevelDB batch: the same as `db.batch(ops)`, and
 * what every multi-key state change goes through. It feeds a chained batch
 * instead of handing over the array, because classic-level reads each array
 * element's type, key and value through N-API property lookups after
 * abstract-level has copied every op: in full sync (four records per object)
 * that cost about 5 µs of main-thread CPU per object more than this.
 * The database must be open (openDatabase returns it so); per-op options
 * other than valueEncoding are not used here and not supported.
 */
export async function writeBatch (db: Database, ops: readonly BatchOp[]): Promise<void> {
  const batch = db.batch()
  try {
    for (const op of ops) {
      if (op.type === 'put') {
        if (op.valueEncoding === undefined) batch.put(op.key, op.value)
        else batch.put(op.key, op.value, { valueEncoding: op.valueEncoding })
      } else if (op.type === 'del') {
        batch.del(op.key)
      } else {
        throw new TypeError("A batch operation must have a type property that is 'put' or 'del'")
      }
    }
  } catch (err) {
    await batch.close()
    throw err
  }
  await batch.write()
}
