/**
 * Opens the node's one LevelDB and turns open failures into clear, coded
 * errors (locked by another process, corrupt) instead of stack dumps.
 */
import { Level } from 'level'
import { ShardsyncError } from './errors'

export type Database = Level<string, unknown>

export interface DatabaseTuning {
  /**
   * Table files LevelDB keeps open (its table cache). Each open table is
   * memory-mapped for reads, so this bounds the mapped pages that count in
   * the node's RSS: about maxOpenFiles × 2 MiB at most. LevelDB uses at
   * least 74.
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
