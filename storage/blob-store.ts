/**
 * BlobStore: the content of large objects (over BLOB_MIN_BYTES), one file
 * per data id under `<data dir>/blobs/<2 chars>/<dataId>`, outside LevelDB.
 *
 * Why: LevelDB rewrites every value several times as it compacts, and on
 * this kind of machine ingests 1 MiB values at 120-160 MiB/s at most; a file
 * is written once. Small objects stay in LevelDB (one chunk in the commit
 * batch), where they are cheaper.
 *
 * Called by ObjectStore (uploads, replicated puts, reads, start-up) and by
 * BucketWriter (through ObjectStore) for files that a commit made garbage.
 *
 * Dev docs: crash safety without a scan of the directory.
 * - A file is only created after its upload marker u!<dataId> is durable,
 *   and is fsynced before the batch that commits its head (which deletes the
 *   marker). So after kill -9, a file either belongs to a committed head or
 *   has a marker, and start-up removes marked files (with the marker).
 * - A file that a commit makes garbage (overwrite, delete, a replicated
 *   version that lost last-writer-wins) gets a garbage marker g!<dataId> in
 *   that same batch; the file is removed after the batch is durable, then
 *   the marker. Start-up removes whatever garbage markers remain.
 * - Removing a file a reader has open is harmless (POSIX keeps it until
 *   close); a reader that opens it after removal gets OBJECT_NOT_FOUND, the
 *   same answer as for an object whose chunks vanished while it was read.
 */
import fs from 'node:fs'
import path from 'node:path'
import { writeBatch, type Database } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'

/** Objects larger than this are stored as files. */
export const BLOB_MIN_BYTES = 1024 * 1024
/** Reads of a file are handed out in pieces of this size. */
const READ_PIECE_BYTES = 1024 * 1024

export class BlobStore {
  /** Removal of garbage files runs one batch at a time, in order. */
  private collecting: Promise<void> = Promise.resolve()

  /** dir undefined: a store without files (an in-memory database); large objects are refused. */
  constructor (
    readonly dir: string | undefined,
    private readonly db: Database,
    /** Told when removing garbage failed (the markers stay; start-up retries). */
    private readonly onCollectError: (err: unknown) => void = () => {},
    /** Told of every piece read from or written to a file (ObjectStoreOptions.onLargeContent). */
    private readonly onLargeContent: () => void = () => {}
  ) {}

  /**
   * --durability fsync: close() of a new file also fsyncs its directory
   * (and the directory above, when the file's directory was just made), so
   * the file's name is on disk before the batch that commits it.
   */
  fsyncDirectories = false

  pathOf (dataId: string): string {
    if (this.dir === undefined) throw new Error('this store has no blob directory')
    return path.join(this.dir, dataId.slice(-2), dataId)
  }

  /** A new file for `dataId`; its upload marker must be durable first. */
  async create (dataId: string): Promise<BlobWriter> {
    const file = this.pathOf(dataId)
    const made = await fs.promises.mkdir(path.dirname(file), { recursive: true })
    const dirs = !this.fsyncDirectories ? [] : made !== undefined ? [path.dirname(file), path.dirname(path.dirname(file))] : [path.dirname(file)]
    return new BlobWriter(await fs.promises.open(file, 'wx'), file, this.onLargeContent, dirs)
  }

  /** Writes a whole file and makes it durable (replicated objects arrive whole, maybe in pieces). */
  async writeWhole (dataId: string, data: Buffer | Buffer[]): Promise<void> {
    const w = await this.create(dataId)
    try {
      if (Array.isArray(data)) await w.writev(data)
      else await w.write(data)
      await w.close()
    } catch (err) {
      await w.discard()
      throw err
    }
  }

  /**
   * The content, piece by piece; OBJECT_NOT_FOUND if the file is gone
   * (overwritten meanwhile). Each piece is read straight into a buffer of
   * its own with `headroom` unused bytes in front (see ObjectStore.readChunks).
   * `from`: the first byte to read (a range, S3 GetObject); `size` is then where the read ends.
   */
  async * read (dataId: string, size: number, headroom = 0, from = 0): AsyncGenerator<Buffer> {
    let fh: fs.promises.FileHandle
    try {
      fh = await fs.promises.open(this.pathOf(dataId), 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ShardsyncError('OBJECT_NOT_FOUND', 'object changed while it was read')
      throw err
    }
    try {
      let offset = from
      while (offset < size) {
        const n = Math.min(READ_PIECE_BYTES, size - offset)
        const piece = Buffer.allocUnsafeSlow(headroom + n).subarray(headroom)
        const { bytesRead } = await fh.read(piece, 0, n, offset)
        if (bytesRead !== piece.length) throw new Error(`blob ${dataId} is shorter than its head says`)
        offset += bytesRead
        this.onLargeContent()
        yield piece
      }
    } finally {
      await fh.close()
    }
  }

  /** Removes a file if it exists. */
  async remove (dataId: string): Promise<void> {
    if (this.dir === undefined) return
    await fs.promises.rm(this.pathOf(dataId), { force: true })
  }

  /**
   * Removes files that a durable batch marked as garbage, then their
   * markers. Runs in the background, one call after the other; a failure
   * leaves the markers, and start-up finishes the job.
   */
  collect (dataIds: string[]): void {
    this.collecting = this.collecting.then(async () => {
      for (const id of dataIds) await this.remove(id)
      await writeBatch(this.db, dataIds.map(id => ({ type: 'del' as const, key: keys.garbageKey(id) })))
    }).catch(this.onCollectError)
  }

  /** Waits for the garbage handed to collect() so far (close, tests). */
  async settled (): Promise<void> {
    await this.collecting
  }

  /** Start-up: removes the files of garbage markers left by a crash. */
  async collectLeftovers (): Promise<void> {
    for await (const key of this.db.keys(keys.prefixRange(keys.GARBAGE_PREFIX))) {
      await this.remove(key.slice(keys.GARBAGE_PREFIX.length))
      await this.db.del(key)
    }
  }
}

/** One file being written; close() makes it durable, discard() removes it. */
export class BlobWriter {
  /** syncDirs: directories fsynced after the file (BlobStore.fsyncDirectories). */
  constructor (private readonly fh: fs.promises.FileHandle, private readonly file: string, private readonly onWrite: () => void, private readonly syncDirs: string[] = []) {}

  async write (data: Buffer): Promise<void> {
    this.onWrite()
    let off = 0
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off)
      off += bytesWritten
    }
  }

  async writev (pieces: Buffer[]): Promise<void> {
    this.onWrite()
    let rest = pieces.filter(p => p.length > 0)
    while (rest.length > 0) {
      let { bytesWritten } = await this.fh.writev(rest)
      // A short write: drop what went out, then write the rest.
      while (rest.length > 0 && bytesWritten >= rest[0].length) bytesWritten -= (rest.shift() as Buffer).length
      if (rest.length > 0 && bytesWritten > 0) rest = [rest[0].subarray(bytesWritten), ...rest.slice(1)]
    }
  }

  async close (): Promise<void> {
    await this.fh.datasync()
    await this.fh.close()
    for (const dir of this.syncDirs) {
      const d = await fs.promises.open(dir, 'r')
      try { await d.sync() } finally { await d.close() }
    }
  }

  async discard (): Promise<void> {
    await this.fh.close().catch(() => {})
    await fs.promises.rm(this.file, { force: true })
  }
}
