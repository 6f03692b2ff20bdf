/**
 * ContentStore: small objects' content (data chunks, d!<dataId>!<chunk>),
 * kept in a LevelDB of its own beside the node's main one.
 *
 * Called by BucketWriter (around every commit batch that adds or drops
 * chunks) and by ObjectStore (reads, start-up recovery, migration). Owns the
 * content database, and the write-ahead intents (w!<seq>) in the main one.
 *
 * Dev docs
 * - Why a second LevelDB: in one LSM tree with the heads, index entries
 *   and log entries (small keys in random order), every object's content was
 *   rewritten by each compaction those small records caused: a target's
 *   LevelDB wrote 4 bytes in compaction for every byte flushed, and that
 *   compaction was the largest single CPU consumer of a full sync. Data ids
 *   ascend (storage/upload.ts nextDataId), so a content table flushed from
 *   its own memtable overlaps no other and LevelDB places it without
 *   rewriting it. That only holds while the content database receives
 *   nothing but ascending keys: its only deletes are of versions that
 *   overwrites and deletes drop, and the intents live in the main database.
 *   Where the main database has no directory (memory-level in the protocol
 *   model test) content shares it; the protocol is the same.
 * - Two databases cannot change in one batch, so a commit that adds or drops
 *   chunks is three or four writes:
 *   1. an intent {a: added, d: dropped} put in the main database;
 *   2. the added chunks, in one content batch;
 *   3. the commit batch in the main database, which deletes the intent, or,
 *      if the commit drops versions, marks it committed (c) and keeps only
 *      the dropped ones;
 *   4. if it dropped versions: their chunks deleted in one content batch;
 *      the intent's delete then waits for the next main write of step 1 (or
 *      a timer, or flush).
 *   So chunks are written before any head names them and deleted only after
 *   no head names them.
 * - Invariant: every chunk is named by a live head, or by an intent in the
 *   main database. `recover` at open settles each intent a crash left: not
 *   committed (its commit batch never landed, or it would have been changed
 *   with it): the added chunks go and the dropped stay; committed: the
 *   dropped chunks go. Both are idempotent. Data ids are never reused.
 */
import { writeBatch, type BatchOp, type Database, type DatabaseTuning } from './database'
import * as keys from './keys'

/** The content database's directory, inside the main database's. */
export const CONTENT_DIR = 'content'

const MiB = 1024 * 1024

/**
 * The content database's tuning, from the main one's. Table files: the
 * same limit. Block cache: an eighth (at least 1 MiB): a full sync reads
 * each object once, and the file pages stay in the OS cache (tables are read
 * with pread); with the whole budget again a source's peak RSS at 1,000,000
 * objects was 12–25 MiB higher. Write buffer: 2 MiB, where LevelDB's default
 * is 4: a flushed content table is never rewritten, so a smaller memtable
 * costs no compaction, and its tables are the size compaction makes.
 */
export function contentTuning (main: DatabaseTuning): DatabaseTuning {
  return {
    maxOpenFiles: main.maxOpenFiles,
    cacheBytes: Math.max(MiB, Math.floor((main.cacheBytes ?? 8 * MiB) / 8)),
    writeBufferBytes: 2 * MiB,
    // Chunks are read only by the data ids heads name, which exist: a Bloom
    // filter would never spare a read (scripts/build-leveldb.js, change 5).
    keyFilter: 'none'
  }
}

/** A version's chunks, named in an intent: [dataId, chunks]. */
export type ContentRef = [dataId: string, chunks: number]

/**
 * An intent record (main database, w!<seq>): added and dropped versions,
 * committed. Nodes before 68b8e7b also wrote a bucket id (b) and named each
 * version [objectKey, dataId, chunks]; recovery reads both forms.
 */
interface IntentRecord { a?: StoredRef[], d: StoredRef[], c?: true }
type StoredRef = ContentRef | [key: string, dataId: string, chunks: number]

/** A commit's intent, between writeAhead and settle. */
export interface Intent { key: string, added: ContentRef[], dropped: ContentRef[] }

/** How long the delete of a settled intent may wait for the next intent write. */
const SETTLE_DELAY_MS = 200
/** Chunks moved per batch when content is migrated out of the main database. */
const MIGRATE_PAGE = 1000

export class ContentStore {
  private seq = 0
  /** Deletes of settled intents, written with the next intent (main database). */
  private deferred: BatchOp[] = []
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()

  /** `db` is the content database; `main` holds the heads and intents (may be the same database). */
  constructor (readonly db: Database, private readonly main: Database) {}

  get separate (): boolean { return this.db !== this.main }

  /**
   * Before a commit batch: puts the intent naming the versions the commit
   * adds and drops (with the deletes of settled intents), then writes the
   * added chunks (puts of d! keys).
   */
  async writeAhead (added: ContentRef[], dropped: ContentRef[], chunks: BatchOp[]): Promise<Intent> {
    const intent: Intent = { key: keys.intentKey(this.seq++), added, dropped }
    const settled = this.takeDeferred()
    const record: IntentRecord = { a: added, d: dropped }
    try {
      await writeBatch(this.main, settled.concat({ type: 'put', key: intent.key, value: record }))
    } catch (err) {
      this.deferred = settled.concat(this.deferred)
      throw err
    }
    if (chunks.length > 0) {
      try {
        await writeBatch(this.db, chunks)
      } catch (err) {
        await this.abandon(intent)
        throw err
      }
    }
    return intent
  }

  /** The ops the commit batch carries for its intent: it is deleted, or keeps the dropped versions, committed. */
  commitOps (intent: Intent): BatchOp[] {
    if (intent.dropped.length === 0) return [{ type: 'del', key: intent.key }]
    const record: IntentRecord = { d: intent.dropped, c: true }
    return [{ type: 'put', key: intent.key, value: record }]
  }

  /**
   * After the commit batch is durable: the dropped chunks are deleted, and
   * the intent's delete goes with a later intent write. If the delete of the
   * chunks fails, the intent stays for the next open.
   */
  async settle (intent: Intent): Promise<void> {
    if (intent.dropped.length === 0) return
    const ops: BatchOp[] = []
    for (const [dataId, chunks] of intent.dropped) pushChunkDeletes(ops, dataId, chunks)
    await writeBatch(this.db, ops)
    this.deferred.push({ type: 'del', key: intent.key })
    if (this.timer === undefined) {
      this.timer = setTimeout(() => { this.timer = undefined; void this.flush() }, SETTLE_DELAY_MS)
      this.timer.unref()
    }
  }

  /**
   * When writing the added chunks failed (the commit batch was never
   * written): they and the intent go now. Best effort: what fails here is
   * settled at the next open.
   */
  private async abandon (intent: Intent): Promise<void> {
    try {
      await this.settleIntent(intent.key, { a: intent.added, d: intent.dropped })
    } catch {}
  }

  /** Writes the deletes of settled intents now; resolves once they are durable. */
  async flush (): Promise<void> {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    const run = this.flushing.then(async () => {
      const ops = this.takeDeferred()
      if (ops.length === 0) return
      try {
        await writeBatch(this.main, ops)
      } catch {
        // Kept for the next intent write; a crash meanwhile leaves only
        // intents whose settling the next open repeats.
        this.deferred = ops.concat(this.deferred)
      }
    })
    this.flushing = run
    await run
  }

  /** The chunks of one dataId in order, streamed. */
  chunkValues (dataId: string): AsyncIterable<Buffer> {
    return this.db.values({ ...keys.prefixRange(keys.chunkPrefix(dataId)), valueEncoding: 'buffer' }) as unknown as AsyncIterable<Buffer>
  }

  /** Removes every chunk of a dataId (uploads that never committed). */
  async clearChunks (dataId: string): Promise<void> {
    await this.db.clear(keys.prefixRange(keys.chunkPrefix(dataId)))
  }

  /**
   * At open, before any write: moves chunks a former layout kept in the main
   * database, then settles every intent a crash left. Returns what it did.
   */
  async recover (): Promise<{ migrated: number, intents: number }> {
    const migrated = this.separate ? await this.migrateChunks() : 0
    let intents = 0
    for await (const [key, value] of this.main.iterator(keys.prefixRange(keys.INTENTS_PREFIX))) {
      await this.settleIntent(key, value as IntentRecord)
      intents++
    }
    this.seq = 0
    return { migrated, intents }
  }

  /** Not committed: the added chunks go; committed: the dropped ones. Then the intent. */
  private async settleIntent (intentKey: string, record: IntentRecord): Promise<void> {
    const ops: BatchOp[] = []
    for (const ref of record.c === true ? record.d : record.a ?? []) pushChunkDeletes(ops, ref[ref.length - 2] as string, ref[ref.length - 1] as number)
    if (ops.length > 0) await writeBatch(this.db, ops)
    await writeBatch(this.main, [{ type: 'del', key: intentKey }])
  }

  /**
   * Copies chunks from the main database page by page, then deletes them
   * there. A crash between the two leaves copies that the next open writes
   * again with the same bytes, so the move can be repeated.
   */
  private async migrateChunks (): Promise<number> {
    let moved = 0
    const range = keys.prefixRange(keys.CHUNKS_PREFIX)
    for (;;) {
      const page = await this.main.iterator({ ...range, limit: MIGRATE_PAGE, valueEncoding: 'buffer' }).all() as Array<[string, Buffer]>
      if (page.length === 0) return moved
      await writeBatch(this.db, page.map(([key, value]) => ({ type: 'put', key, value, valueEncoding: 'buffer' }) as BatchOp))
      await writeBatch(this.main, page.map(([key]) => ({ type: 'del', key }) as BatchOp))
      moved += page.length
    }
  }

  private takeDeferred (): BatchOp[] {
    const ops = this.deferred
    this.deferred = []
    return ops
  }
}

function pushChunkDeletes (ops: BatchOp[], dataId: string, chunks: number): void {
  for (let c = 0; c < chunks; c++) ops.push({ type: 'del', key: keys.chunkKey(dataId, c) })
}
