/**
 * MD5 of large object contents on a worker thread.
 *
 * Called by prepareReplicaPuts (storage/upload.ts) for every replicated
 * object larger than BLOB_MIN_BYTES whose source sent no checksum (objects
 * stored before checksums were kept, storage/checksum.ts; the others are
 * checked with a CRC-32 on the calling thread); owned and closed by
 * ObjectStore.
 *
 * Why: a target checks every replicated object against its etag before
 * storing it. For large objects that hash was the main thread's biggest
 * cost: about 40 % of the target's main thread in a large-object sync
 * (OpenSSL MD5 runs at ~600-800 MB/s on one core here), and everything
 * else of the sync waited behind it.
 *
 * The pieces' memory is handed to the worker and back (their ArrayBuffers
 * are transferred, not copied), so hashing there costs the main thread
 * almost nothing and allocates nothing. The caller gives the pieces up:
 * afterwards they are empty (detached), and the content is the returned
 * pieces, views of the same memory. A piece that shares its memory with
 * much else (a slice of a larger buffer) is copied first, so that nothing
 * else is detached; memory that cannot be transferred (Node's pool of
 * small buffers) is hashed on the calling thread instead.
 *
 * The thread starts at the first large object (a node that never receives
 * one never pays for it), is unref'd while idle so it never holds the
 * process open, and is started again if it ever dies; requests in flight
 * then fail, and the sync retries them.
 */
import crypto from 'node:crypto'
import { Worker } from 'node:worker_threads'

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const crypto = require('node:crypto')
parentPort.on('message', ({ id, pieces }) => {
  let etag
  let error
  try {
    const h = crypto.createHash('md5')
    for (const p of pieces) h.update(new Uint8Array(p.memory, p.offset, p.length))
    etag = h.digest('hex')
  } catch (err) {
    error = String(err && err.message)
  }
  parentPort.postMessage({ id, etag, error, pieces }, [...new Set(pieces.map(p => p.memory))])
})
`

/** A piece as it travels: its memory (transferred) and where it lies in it. */
interface Piece { memory: ArrayBuffer, offset: number, length: number }
interface Reply { id: number, etag?: string, error?: string, pieces: Piece[] }

/** A piece that covers less than this share of its memory is copied before it is handed over. */
const MIN_SHARE_TO_TRANSFER = 0.75

export interface HashedContent {
  /** MD5 of the content, lowercase hex. */
  etag: string
  /** The content, in order: views of the memory of the pieces given (or of their copies). */
  content: Buffer[]
}

export class Md5Worker {
  private worker: Worker | undefined
  private nextId = 0
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void, reject: (err: Error) => void }>()
  private closed = false

  /**
   * The MD5 of pieces (in order). Takes the pieces: afterwards use only the
   * returned content.
   */
  async hash (pieces: readonly Buffer[]): Promise<HashedContent> {
    if (this.closed) throw new Error('the hash worker is closed')
    const travelling = pieces.map(travellingPiece)
    const reply = await this.post(travelling)
    if (reply === undefined) return { etag: md5Here(pieces), content: [...pieces] }
    if (reply.etag === undefined) throw new Error(`hashing failed: ${reply.error ?? 'unknown error'}`)
    return { etag: reply.etag, content: reply.pieces.map(p => Buffer.from(p.memory, p.offset, p.length)) }
  }

  /** Stops the thread; later calls to hash() fail. */
  async close (): Promise<void> {
    this.closed = true
    const w = this.worker
    this.worker = undefined
    this.failAll(new Error('the hash worker is closed'))
    if (w !== undefined) await w.terminate()
  }

  /** Sends the pieces; undefined (nothing sent) if their memory cannot be transferred. */
  private async post (pieces: Piece[]): Promise<Reply | undefined> {
    const worker = this.started()
    const id = this.nextId++
    return await new Promise<Reply | undefined>((resolve, reject) => {
      try {
        worker.postMessage({ id, pieces }, [...new Set(pieces.map(p => p.memory))])
      } catch (err) {
        // Untransferable memory (DataCloneError): nothing was sent or detached.
        if ((err as Error).name === 'DataCloneError') resolve(undefined)
        else reject(err)
        return
      }
      this.waiting.set(id, { resolve, reject })
      if (this.waiting.size === 1) worker.ref()
    })
  }

  private started (): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
    worker.unref()
    worker.on('message', (reply: Reply) => {
      const w = this.waiting.get(reply.id)
      if (w === undefined) return
      this.waiting.delete(reply.id)
      if (this.waiting.size === 0) worker.unref()
      w.resolve(reply)
    })
    const gone = (err: Error): void => {
      if (this.worker !== worker) return
      this.worker = undefined
      this.failAll(err)
    }
    worker.on('error', gone)
    worker.on('exit', (code) => { gone(new Error(`the hash worker exited (code ${code})`)) })
    this.worker = worker
    return worker
  }

  private failAll (err: Error): void {
    const all = [...this.waiting.values()]
    this.waiting.clear()
    for (const w of all) w.reject(err)
  }
}

function travellingPiece (p: Buffer): Piece {
  const memory = p.buffer
  if (memory instanceof ArrayBuffer && p.length >= memory.byteLength * MIN_SHARE_TO_TRANSFER) {
    return { memory, offset: p.byteOffset, length: p.length }
  }
  const copy = Buffer.allocUnsafeSlow(p.length)
  p.copy(copy)
  return { memory: copy.buffer as ArrayBuffer, offset: copy.byteOffset, length: copy.length }
}

/** MD5 of pieces in order, lowercase hex, on the calling thread (one piece: the one-shot call). */
export function md5Here (pieces: readonly Buffer[]): string {
  if (pieces.length === 1) return crypto.hash('md5', pieces[0], 'hex')
  const h = crypto.createHash('md5')
  for (const p of pieces) h.update(p)
  return h.digest('hex')
}
