/**
 * MultipartStore: S3 multipart uploads in progress, and their parts.
 *
 * Called by the S3 front door (node/s3/multipart.ts). An upload is a record
 * mu!<uploadId>; each part is a blob file (storage/blob-store.ts) named by a
 * data id of its own, and a record mp!<uploadId>!<part>. Nothing here is an
 * object: parts are not indexed, logged or replicated. CompleteMultipartUpload
 * streams the parts, in order, into an ordinary upload (storage/upload.ts),
 * which commits and replicates like any PutObject, then drops the parts.
 *
 * Crash safety reuses the blob store's markers: a part file is created only
 * after its upload marker u!<dataId> is durable, and the batch that records
 * the part deletes the marker, so start-up removes a half-written part.
 * Parts that are replaced, aborted, completed or expired get a garbage
 * marker g!<dataId> in the batch that drops their record, and their files
 * are removed after it (BlobStore.collect; start-up finishes the job).
 */
import crypto from 'node:crypto'
import type { BlobStore } from './blob-store'
import { noSpaceError, writeBatch, type BatchOp, type Database } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'
import type { ObjectMeta } from './object-meta'

export interface MultipartUpload {
  uploadId: string
  bucketId: string
  key: string
  initiatedMs: number
  meta?: ObjectMeta
}

export interface PartRecord { part: number, dataId: string, size: number, etag: string, mtime: number }

/** Most uploads in progress on a node at once (each costs records and files until done or expired). */
export const MAX_UPLOADS = 10_000
/** Pieces gathered before a write to the part's file. */
const WRITE_BYTES = 1024 * 1024

export class MultipartStore {
  private count: number | undefined

  constructor (private readonly db: Database, private readonly blobs: BlobStore) {}

  async create (bucketId: string, key: string, meta: ObjectMeta | undefined): Promise<MultipartUpload> {
    this.count ??= (await this.listAll()).length
    if (this.count >= MAX_UPLOADS) throw ShardsyncError.overloaded(`${MAX_UPLOADS} multipart uploads in progress`)
    const upload: MultipartUpload = { uploadId: crypto.randomBytes(16).toString('hex'), bucketId, key, initiatedMs: Date.now() }
    if (meta !== undefined) upload.meta = meta
    await this.db.put(keys.multipartKey(upload.uploadId), upload)
    this.count++
    return upload
  }

  async get (uploadId: string): Promise<MultipartUpload | undefined> {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) return undefined
    return await this.db.get(keys.multipartKey(uploadId)) as MultipartUpload | undefined
  }

  /** Every upload in progress (bounded by MAX_UPLOADS), oldest first within a key. */
  async listAll (): Promise<MultipartUpload[]> {
    const out: MultipartUpload[] = []
    for await (const [, v] of this.db.iterator(keys.prefixRange(keys.MULTIPARTS_PREFIX))) out.push(v as MultipartUpload)
    return out
  }

  async parts (uploadId: string): Promise<PartRecord[]> {
    const out: PartRecord[] = []
    for await (const [, v] of this.db.iterator(keys.prefixRange(keys.partPrefix(uploadId)))) out.push(v as PartRecord)
    return out
  }

  /**
   * Writes one part from `data` (streamed to its file, never held whole);
   * replaces a part of the same number. Throws what `data` throws (a bad
   * signature, a short body) after removing the file: nothing is kept.
   */
  async putPart (uploadId: string, part: number, data: AsyncIterable<Buffer>, maxBytes: number): Promise<PartRecord> {
    const dataId = 'mp' + crypto.randomBytes(12).toString('hex')
    await this.db.put(keys.uploadKey(dataId), { multipart: uploadId })
    const md5 = crypto.createHash('md5')
    let size = 0
    let file
    try {
      file = await this.blobs.create(dataId)
      let pending: Buffer[] = []
      let pendingBytes = 0
      for await (const piece of data) {
        size += piece.length
        if (size > maxBytes) throw ShardsyncError.objectTooLarge(maxBytes)
        md5.update(piece)
        pending.push(piece)
        pendingBytes += piece.length
        if (pendingBytes >= WRITE_BYTES) {
          await file.writev(pending)
          pending = []
          pendingBytes = 0
        }
      }
      if (pendingBytes > 0) await file.writev(pending)
      await file.close()
    } catch (err) {
      await file?.discard()
      await this.db.del(keys.uploadKey(dataId))
      throw noSpaceError(this.db, err)
    }
    const record: PartRecord = { part, dataId, size, etag: md5.digest('hex'), mtime: Date.now() }
    const old = await this.db.get(keys.partKey(uploadId, part)) as PartRecord | undefined
    // The upload may have been completed or aborted meanwhile: then the part is garbage at once.
    const live = await this.get(uploadId) !== undefined
    const ops: BatchOp[] = [{ type: 'del', key: keys.uploadKey(dataId) }]
    const garbage: string[] = []
    if (live) ops.push({ type: 'put', key: keys.partKey(uploadId, part), value: record })
    else garbage.push(dataId)
    if (live && old !== undefined) garbage.push(old.dataId)
    for (const id of garbage) ops.push({ type: 'put', key: keys.garbageKey(id), value: {} })
    await writeBatch(this.db, ops)
    if (garbage.length > 0) this.blobs.collect(garbage)
    if (!live) throw new ShardsyncError('OBJECT_NOT_FOUND', 'the multipart upload ended while the part was written')
    return record
  }

  /** A part's content, piece by piece. */
  read (p: PartRecord): AsyncGenerator<Buffer> {
    return this.blobs.read(p.dataId, p.size)
  }

  /** Drops an upload and all its parts (abort, complete, expiry). */
  async drop (uploadId: string): Promise<boolean> {
    const upload = await this.get(uploadId)
    if (upload === undefined) return false
    const parts = await this.parts(uploadId)
    const ops: BatchOp[] = [{ type: 'del', key: keys.multipartKey(uploadId) }]
    for (const p of parts) {
      ops.push({ type: 'del', key: keys.partKey(uploadId, p.part) })
      ops.push({ type: 'put', key: keys.garbageKey(p.dataId), value: {} })
    }
    await writeBatch(this.db, ops)
    if (this.count !== undefined) this.count--
    if (parts.length > 0) this.blobs.collect(parts.map(p => p.dataId))
    return true
  }

  /** Drops uploads begun before `beforeMs`, and those whose bucket is gone; returns how many. */
  async dropExpired (beforeMs: number, bucketLive: (bucketId: string) => boolean): Promise<number> {
    let n = 0
    for (const u of await this.listAll()) {
      if (u.initiatedMs < beforeMs || !bucketLive(u.bucketId)) {
        if (await this.drop(u.uploadId)) n++
      }
    }
    return n
  }
}
