/**
 * Opens a node's LevelDBs (the main one and the content database) and turns
 * open failures into clear, coded errors (locked by another process,
 * corrupt) instead of stack dumps.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { AbstractBatchOperation } from 'abstract-level'
import { Level } from 'level'
import { ShardsyncError } from './errors'

export type Database = Level<string, unknown>

/** One operation of an atomic batch (a 'put' may set valueEncoding: 'buffer'). */
export type BatchOp = AbstractBatchOperation<Database, string, unknown>

export interface DatabaseTuning {
  /**
   * Table files LevelDB keeps open (its table cache): file descriptors, and
   * each open table's index block and Bloom filter (see keyFilter) in
   * private memory. Tables are read with
   * pread, not mapped (scripts/build-leveldb.js), unless the process runs
   * with LEVELDB_MMAP_LIMIT set, or on the stock prebuilt binary; then each
   * open table is mapped and this also bounds the mapped pages in the RSS
   * (about maxOpenFiles × 2 MiB). LevelDB uses at least 74.
   */
  maxOpenFiles?: number
  /** LevelDB block cache, bytes (uncompressed blocks in private memory). */
  cacheBytes?: number
  /** LevelDB write buffer (memtable), bytes; LevelDB's default 4 MiB if unset. */
  writeBufferBytes?: number
  /**
   * Which keys the tables' Bloom filters cover (in memory while a table is
   * open, 10 bits a key; they spare point reads of absent keys only):
   * 'all' (LevelDB's default), 'none', or every key but those whose first
   * character is in `skipFirstChars` (ASCII). Needs the LevelDB build of
   * scripts/build-leveldb.js (change 5); the stock binary filters all keys.
   * Results never depend on it.
   */
  keyFilter?: KeyFilter
}

export type KeyFilter = 'all' | 'none' | { skipFirstChars: string }

export async function openDatabase (dir: string, tuning: DatabaseTuning = {}): Promise<Database> {
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json', ...levelOptions(tuning) })
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
 * classic-level's options for `tuning`, with only the values that are set:
 * its binding reads a present option with napi_get_value_uint32 and does not
 * check the result, so an option present as `undefined` becomes whatever was
 * on the stack instead of LevelDB's default.
 */
export function levelOptions (tuning: DatabaseTuning): LevelOptions {
  const out: LevelOptions = {}
  if (tuning.maxOpenFiles !== undefined) out.maxOpenFiles = tuning.maxOpenFiles
  if (tuning.cacheBytes !== undefined) out.cacheSize = tuning.cacheBytes
  if (tuning.writeBufferBytes !== undefined) out.writeBufferSize = tuning.writeBufferBytes
  if (tuning.keyFilter !== undefined && tuning.keyFilter !== 'all') out.shardsyncKeyFilter = keyFilterSpec(tuning.keyFilter)
  return out
}

interface LevelOptions { maxOpenFiles?: number, cacheSize?: number, writeBufferSize?: number, shardsyncKeyFilter?: string }

/** The patched binding's `shardsyncKeyFilter` option for `filter`. */
function keyFilterSpec (filter: Exclude<KeyFilter, 'all'>): string {
  if (filter === 'none') return 'none'
  const skip = filter.skipFirstChars
  // One byte a character: the binding compares each key's first byte.
  if (!/^[\x21-\x7e]+$/.test(skip)) throw new TypeError('keyFilter.skipFirstChars must be printable ASCII characters')
  return `skip:${skip}`
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
/**
 * Whether an error says the disk (or quota) is full: a file system's
 * ENOSPC/EDQUOT, or LevelDB's IO error for it (also the one it repeats for
 * every write after a failed background compaction).
 */
export function isNoSpace (err: unknown): boolean {
  for (let e = err as { code?: unknown, message?: unknown, cause?: unknown } | undefined, depth = 0; e !== undefined && e !== null && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return true
    if (typeof e.message === 'string' && /No space left on device|Disk quota exceeded/i.test(e.message)) return true
  }
  return false
}

const noSpaceListeners = new WeakMap<Database, () => void>()

/**
 * Databases whose log write failed for want of space. LevelDB then has a
 * torn record at the end of its log, and what it appends after it may be
 * lost when the log is replayed (at the next open): so writeBatch refuses
 * every write to such a database (NO_SPACE) until reopenAfterNoSpace() has
 * closed and reopened it, which replays the log up to the tear (nothing
 * acknowledged is after it) and starts a new one.
 */
const tainted = new WeakSet<Database>()

/** Calls `fn` whenever a write to `db` fails because the disk is full (the space guard). */
export function onNoSpace (db: Database, fn: () => void): void {
  noSpaceListeners.set(db, fn)
}

/**
 * A full disk as NO_SPACE (and the database's listener told; with
 * `logWrite`, the database marked as above); any other error as it is.
 */
export function noSpaceError (db: Database | undefined, err: unknown, opts: { logWrite?: boolean } = {}): unknown {
  if (err instanceof ShardsyncError || !isNoSpace(err)) return err
  if (db !== undefined) {
    if (opts.logWrite === true) tainted.add(db)
    noSpaceListeners.get(db)?.()
  }
  return ShardsyncError.noSpace(err)
}

/** Whether writes to `db` wait for reopenAfterNoSpace(). */
export function needsReopen (db: Database): boolean {
  return tainted.has(db)
}

/** Closes and reopens `db` (the same instance) after a failed log write, and lets writes to it through again. */
export async function reopenAfterNoSpace (db: Database): Promise<void> {
  await db.close()
  await db.open()
  tainted.delete(db)
}

const syncedDbs = new WeakSet<Database>()

/**
 * --durability fsync: every writeBatch to `db` is written with sync: true
 * (LevelDB fsyncs its log before the write is acknowledged).
 */
export function setSyncWrites (db: Database, on: boolean): void {
  if (on) syncedDbs.add(db)
  else syncedDbs.delete(db)
}

export async function writeBatch (db: Database, ops: readonly BatchOp[]): Promise<void> {
  if (tainted.has(db)) throw ShardsyncError.noSpace()
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
  try {
    if (syncedDbs.has(db)) await batch.write({ sync: true })
    else await batch.write()
  } catch (err) {
    throw noSpaceError(db, err, { logWrite: true })
  }
}

/**
 * The patch set of the LevelDB binary a process with environment `env`
 * loads: the marker scripts/build-leveldb.js writes beside its build, e.g.
 * 'mmap-limit-env-1+…', when that build is there and node-gyp-build picks
 * it (it does unless PREBUILDS_ONLY is set); undefined for the stock
 * prebuilt binary. For the start-up log line and the bench's meta.
 */
export function leveldbPatches (env: NodeJS.ProcessEnv = process.env): string | undefined {
  // node-gyp-build loads only prebuilt binaries when PREBUILDS_ONLY is set (to anything).
  if (env.PREBUILDS_ONLY !== undefined && env.PREBUILDS_ONLY !== '') return undefined
  try {
    const dir = path.join(path.dirname(require.resolve('classic-level/package.json')), 'build')
    if (!fs.existsSync(path.join(dir, 'Release', 'classic_level.node'))) return undefined
    const patch = (JSON.parse(fs.readFileSync(path.join(dir, 'shardsync-leveldb.json'), 'utf8')) as { patch?: unknown }).patch
    return typeof patch === 'string' ? patch : undefined
  } catch {
    return undefined
  }
}

/**
 * How this process's LevelDB reads table files: 'pread' when classic-level
 * was rebuilt by scripts/build-leveldb.js (its marker file is there) and
 * LEVELDB_MMAP_LIMIT does not ask for maps; 'mmap' otherwise (the stock
 * prebuilt binary maps up to 1000 tables, and their pages count in RSS).
 */
export function leveldbTableReads (env: NodeJS.ProcessEnv = process.env): 'pread' | 'mmap' {
  if (leveldbPatches(env) === undefined) return 'mmap'
  // The patched LevelDB reads it with atoi(): anything but a positive
  // number means no maps.
  const limit = env.LEVELDB_MMAP_LIMIT
  return limit !== undefined && Number.parseInt(limit, 10) > 0 ? 'mmap' : 'pread'
}

/**
 * Table files of the database in `dir` that this process has mapped now,
 * read from /proc/self/maps (Linux); undefined where there is no such file.
 * 0 when tables are read with pread. For a gauge: it reads the whole map.
 */
export function mappedTableFiles (dir: string): number | undefined {
  let maps: string
  try {
    maps = fs.readFileSync('/proc/self/maps', 'utf8')
  } catch {
    return undefined
  }
  const prefix = path.resolve(dir) + path.sep
  const files = new Set<string>()
  for (const line of maps.split('\n')) {
    const at = line.indexOf(prefix)
    if (at >= 0 && line.endsWith('.ldb')) files.add(line.slice(at))
  }
  return files.size
}
