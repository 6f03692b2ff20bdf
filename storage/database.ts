/**
 * Opens the node's one LevelDB and turns open failures into clear, coded
 * errors (locked by another process, corrupt) instead of stack dumps.
 */
import { Level } from 'level'
import { ShardsyncError } from './errors'

export type Database = Level<string, unknown>

export async function openDatabase (dir: string): Promise<Database> {
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json' })
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
