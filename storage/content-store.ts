/**
 * ContentStore: small objects' content (data chunks, d!<dataId>!<chunk>),
 * kept in a LevelDB of its own beside the node's main one.
 *
 * Called by BucketWriter (around every commit batch that adds or drops
 * chunks) and by ObjectStore (reads, start-up recovery, migration). Owns the
 * content database's keys: chunks and write-ahead intents (w!<seq>).
 *
 * Dev docs
 * - Why a second LevelDB: in one LSM tree with the heads, index entries
 *   and log entries (small keys in random order), every object's content was
 *   rewritten by each compaction those small records caused: a target's
 *   LevelDB wrote 4 bytes in compaction for every byte flushed, and that
 *   compaction was the largest single CPU consumer of a full sync. Data ids
 *   ascend (storage/upload.ts nextDataId), so a content table flushed from
 *   its own memtable overlaps no other and LevelDB places it without
 *   rewriting it. Where the main database has no directory (memory-level in
 *   the protocol model test) content shares it; the protocol is the same.
 * - Two databases cannot change in one batch, so a commit is three writes:
 *   1. writeAhead: the new chunks and an intent naming every (key, dataId)
 *      the commit adds or drops, in one content batch;
 *   2. the commit batch in the main database (heads, index, log);
 *   3. settle: the dropped versions' chunks and the intent are deleted, in a
 *      later content batch (deferred to the next write ahead, a timer, or
 *      flush). Chunks are thus written before any head names them and
 *      deleted only after no head names them.
 * - Invariant: every chunk is named by a live head, or by an intent. At
 *   open, `recover` settles each intent left by a crash by the heads
 *   themselves: a named version's chunks are kept if the key's head names
 *   that dataId and deleted otherwise. That holds whether the commit landed
 *   (new version kept, old dropped) or not (new dropped, old kept), and for
 *   a version a later commit replaced too. Data ids are never reused.
 */
import { writeBatch, type BatchOp, type Database, type DatabaseTuning } from './database'
import * as keys from './keys'
import type { ObjectHead } from './records'

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
    writeBufferBytes: 2 * MiB
  }
}

/** A version's chunks, named in an intent: [objectKey, dataId, chunks]. */
export type ContentRef = [key: string, dataId: string, chunks: number]

/** What an intent record holds. */
interface IntentRecord { b: string, r: ContentRef[] }

/** A commit's intent, between writeAhead and settle. */
export interface Intent { key: string, record: IntentRecord }

/** How long settled work may wait for the next content write before it is written on its own. */
const SETTLE_DELAY_MS = 200
/** Chunks moved per batch when content is migrated out of the main database. */
const MIGRATE_PAGE = 1000

export class ContentStore {
  private seq = 0
  /** Deletes of settled intents (and the chunks they drop), written with the next content batch. */
  private deferred: BatchOp[] = []
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()

  /** `db` is the content database; `main` holds the heads (may be the same database). */
  constructor (readonly db: Database, private readonly main: Database) {}

  get separate (): boolean { return this.db !== this.main }

  /**
   * Before a commit batch: writes `chunks` (puts of d! keys) and the intent
   * naming `refs` of bucket `bucketId`, in one batch, with any settled work.
   */
  async writeAhead (bucketId: string, refs: ContentRef[], chunks: BatchOp[]): Promise<Intent> {
    const intent: Intent = { key: keys.intentKey(this.seq++), record: { b: bucketId, r: refs } }
    const settled = this.takeDeferred()
    const ops = settled.concat(chunks)
    ops.push({ type: 'put', key: intent.key, value: intent.record })
    try {
      await writeBatch(this.db, ops)
    } catch (err) {
      this.deferred = settled.concat(this.deferred)
      throw err
    }
    return intent
  }

  /** After the commit batch is durable: its dropped chunks and the intent go with a later write. */
  settle (intent: Intent, dropped: ContentRef[]): void {
    for (const [, dataId, chunks] of dropped) pushChunkDeletes(this.deferred, dataId, chunks)
    this.deferred.push({ type: 'del', key: intent.key })
    if (this.timer === undefined) {
      this.timer = setTimeout(() => { this.timer = undefined; void this.flush() }, SETTLE_DELAY_MS)
      this.timer.unref()
    }
  }

  /**
   * When the commit batch failed: the intent is settled now by the heads
   * (the caller holds the bucket's writer lock, so they cannot change).
   * Best effort: what fails here is settled at the next open.
   */
  async abandon (intent: Intent): Promise<void> {
    try {
      await this.settleByHeads(intent.key, intent.record)
    } catch {}
  }

  /** Writes settled work now; resolves once it is durable. */
  async flush (): Promise<void> {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    const run = this.flushing.then(async () => {
      const ops = this.takeDeferred()
      if (ops.length === 0) return
      try {
        await writeBatch(this.db, ops)
      } catch {
        // Kept for the next write (whose failure the writer reports); the
        // intents also cover a crash meanwhile.
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
    for await (const [key, value] of this.db.iterator(keys.prefixRange(keys.INTENTS_PREFIX))) {
      await this.settleByHeads(key, value as IntentRecord)
      intents++
    }
    this.seq = 0
    return { migrated, intents }
  }

  private async settleByHeads (intentKey: string, record: IntentRecord): Promise<void> {
    const heads = await this.main.getMany(record.r.map(([key]) => keys.headKey(record.b, key))) as Array<ObjectHead | undefined>
    const ops: BatchOp[] = []
    record.r.forEach(([, dataId, chunks], i) => {
      const head = heads[i]
      const named = head !== undefined && head.deleted !== true && head.dataId === dataId
      if (!named) pushChunkDeletes(ops, dataId, chunks)
    })
    ops.push({ type: 'del', key: intentKey })
    await writeBatch(this.db, ops)
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
