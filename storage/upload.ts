/**
 * Object writes before their commit: a streamed upload (PutObject, and the
 * streamed replica path) and a whole replicated object (sync).
 *
 * Called by ObjectStore (beginUpload, beginReplicaUpload,
 * applyReplicaObjects). Objects of at most BLOB_MIN_BYTES are kept in
 * memory and written as one chunk in the commit batch. Larger ones go to a
 * blob file (storage/blob-store.ts) written ahead under an upload marker
 * (u!<dataId>) that the commit batch removes, so a crash mid-upload leaves
 * garbage that start-up clears, never a half object.
 */
import crypto from 'node:crypto'
import { BLOB_MIN_BYTES, type BlobStore, type BlobWriter } from './blob-store'
import { crc32Of, crc32Update } from './checksum'
import type { BatchOp, BucketState, MutationResult, PutMutation, WriteMode } from './bucket-writer'
import { noSpaceError, writeBatch, type Database } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'
import { md5Here, type Md5Worker } from './md5-worker'
import { isEmptyMeta, type ObjectMeta } from './object-meta'
import type { ObjectVersion } from './records'
import { keyHash } from './routing'

/** Bytes gathered in memory before a write to a blob file. */
const BLOB_WRITE_BYTES = 1024 * 1024

/** What an upload needs of the store (ObjectStore implements it). */
export interface UploadTarget {
  readonly db: Database
  readonly blobs: BlobStore
  /** Hashes large replicated contents off the main thread. */
  readonly hasher: Md5Worker
  readonly options: { siteId: string, maxObjectBytes: number }
  submit: (state: BucketState, mutation: PutMutation) => Promise<MutationResult>
}

export class Upload {
  private readonly dataId = nextDataId()
  private readonly md5 = crypto.createHash('md5')
  private crc32 = 0
  private pending: Buffer[] = []
  private pendingBytes = 0
  private size = 0
  private blob: BlobWriter | undefined
  private done = false

  constructor (
    private readonly store: UploadTarget,
    private readonly state: BucketState,
    private readonly key: string,
    private readonly mode: WriteMode,
    private readonly version: ObjectVersion | undefined
  ) {}

  /** Bytes held in memory now, not yet in a file or committed. */
  get bufferedBytes (): number { return this.pendingBytes }

  async write (data: Buffer): Promise<void> {
    if (this.done) throw ShardsyncError.invalidArgument('upload already finished')
    if (data.length === 0) return
    this.size += data.length
    if (this.size > this.store.options.maxObjectBytes) {
      await this.abort()
      throw ShardsyncError.objectTooLarge(this.store.options.maxObjectBytes)
    }
    this.md5.update(data)
    this.crc32 = crc32Update(this.crc32, data)
    this.pending.push(data)
    this.pendingBytes += data.length
    try {
      if (this.blob === undefined && this.size > BLOB_MIN_BYTES) await this.startBlob()
      if (this.blob !== undefined && this.pendingBytes >= BLOB_WRITE_BYTES) await this.flushToBlob()
    } catch (err) {
      // A full disk while writing the file: NO_SPACE, and the space guard told.
      throw noSpaceError(this.store.db, err)
    }
  }

  /** Large object: the upload marker first (durable), then the file. */
  private async startBlob (): Promise<void> {
    await this.store.db.put(keys.uploadKey(this.dataId), { bucket: this.state.record.id, key: this.key })
    try {
      this.blob = await this.store.blobs.create(this.dataId)
    } catch (err) {
      await this.store.db.del(keys.uploadKey(this.dataId))
      throw err
    }
  }

  private async flushToBlob (): Promise<void> {
    const data = this.takePending()
    await (this.blob as BlobWriter).write(data)
  }

  private takePending (): Buffer {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending)
    this.pending = []
    this.pendingBytes = 0
    return all
  }

  /** meta: Content-Type, user metadata, S3 ETag to keep in the head (storage/object-meta.ts). */
  async finish (meta?: ObjectMeta): Promise<MutationResult> {
    if (this.done) throw ShardsyncError.invalidArgument('upload already finished')
    this.done = true
    const etag = this.md5.digest('hex')
    const v = this.version
    if (v !== undefined && (v.etag !== etag || v.size !== this.size)) {
      await this.dropBlob()
      throw contentMismatch()
    }
    const blob = this.blob !== undefined
    let inline: Buffer[] = []
    if (blob) {
      try {
        if (this.pendingBytes > 0) await this.flushToBlob()
        await (this.blob as BlobWriter).close()
      } catch (err) {
        await this.dropBlob()
        throw err
      }
    } else if (this.pendingBytes > 0) {
      inline = [this.takePending()]
    }
    const result = await this.store.submit(this.state, {
      kind: 'put',
      key: this.key,
      hash: keyHash(this.key),
      mode: this.mode,
      mtime: v?.mtime ?? 0,
      site: v?.site ?? this.store.options.siteId,
      size: this.size,
      etag,
      dataId: this.dataId,
      chunks: inline.length,
      inlineChunks: inline,
      uploaded: blob,
      blob,
      crc32: this.crc32,
      ...(isEmptyMeta(meta) ? {} : { meta })
    })
    // Committed, or dropped by the writer (which then owns the file's
    // removal): a later abort() must not touch the file. If submit threw,
    // nothing was committed and abort() removes file and marker.
    this.blob = undefined
    return result
  }

  async abort (): Promise<void> {
    this.done = true
    this.pending = []
    await this.dropBlob()
  }

  /** Removes the blob file written so far, then its marker. */
  private async dropBlob (): Promise<void> {
    const w = this.blob
    if (w === undefined) return
    this.blob = undefined
    await w.discard()
    await this.store.db.del(keys.uploadKey(this.dataId))
  }
}

/** A whole object copied from another site. */
export interface ReplicaObject {
  key: string
  version: ObjectVersion
  /**
   * The content: one buffer, or pieces in order (a large object as it
   * arrived). Given up to the store: a large object's buffers may be
   * emptied (their memory handed to the hashing thread, storage/md5-worker.ts).
   */
  data: Buffer | Buffer[]
  /**
   * The source's checksum of the content (storage/checksum.ts), if it has
   * one: the content is then checked against it, not against the etag.
   */
  crc32?: number
  /** The source's metadata of the version (storage/object-meta.ts), kept with it. */
  meta?: ObjectMeta
}

/**
 * Writes a group of whole replicated objects up to their commit: all are
 * checked against size and checksum (or etag) before anything is stored (one mismatch:
 * nothing is written, UPSTREAM_UNAVAILABLE); large ones are written to blob
 * files under upload markers. Returns the mutations to commit.
 */
export async function prepareReplicaPuts (store: UploadTarget, objects: ReplicaObject[]): Promise<PutMutation[]> {
  let pending = false
  const checks = objects.map(o => {
    const c = checkReplicaContent(store, o)
    if (c instanceof Promise) {
      pending = true
      // A later object may throw before Promise.all below is reached.
      c.catch(noop)
    }
    return c
  })
  const contents = pending ? await Promise.all(checks) : checks as CheckedContent[]
  const mutations = objects.map((o, i) => replicaPut(o, contents[i]))
  const blobs = mutations.filter(m => m.blob)
  if (blobs.length === 0) return mutations
  await writeBatch(store.db, blobs.map(m => ({ type: 'put', key: keys.uploadKey(m.dataId), value: { key: m.key } }) as BatchOp))
  const data = new Map(mutations.map((m, i) => [m, contents[i].data]))
  const written = await Promise.allSettled(blobs.map(async m => await store.blobs.writeWhole(m.dataId, data.get(m) as Buffer | Buffer[])))
  const failed = written.find(r => r.status === 'rejected')
  if (failed !== undefined) {
    for (const m of blobs) await store.blobs.remove(m.dataId)
    await writeBatch(store.db, blobs.map(m => ({ type: 'del', key: keys.uploadKey(m.dataId) }) as BatchOp))
    throw (failed as PromiseRejectedResult).reason
  }
  return mutations
}

/** A replicated object's content once it matched its size and etag. */
interface CheckedContent {
  size: number
  etag: string
  crc32: number
  /** What to store: as received, or (large objects) the copy the worker hashed. */
  data: Buffer | Buffer[]
}

/**
 * Checks a replicated object's content: against the source's checksum when
 * it sent one, at once; otherwise against the etag, at once for small
 * objects, and on the store's worker thread (storage/md5-worker.ts) for
 * large ones (over BLOB_MIN_BYTES), so the main thread goes on.
 */
function checkReplicaContent (store: UploadTarget, o: ReplicaObject): CheckedContent | Promise<CheckedContent> {
  const { version } = o
  const parts = Array.isArray(o.data) ? o.data : [o.data]
  let size = 0
  for (const p of parts) size += p.length
  if (size > store.options.maxObjectBytes) throw ShardsyncError.objectTooLarge(store.options.maxObjectBytes)
  if (version.size !== size) throw contentMismatch()
  if (o.crc32 !== undefined) {
    const crc32 = crc32Of(parts)
    if (crc32 !== o.crc32) throw contentMismatch()
    return { size, etag: version.etag, crc32, data: o.data }
  }
  if (size > BLOB_MIN_BYTES) {
    return store.hasher.hash(parts).then(({ etag, content }) => {
      if (version.etag !== etag) throw contentMismatch()
      return { size, etag, crc32: crc32Of(content), data: content }
    })
  }
  const etag = md5Here(parts)
  if (version.etag !== etag) throw contentMismatch()
  return { size, etag, crc32: crc32Of(parts), data: o.data }
}

/** The put of a whole replicated object whose content was checked; small ones carry their chunk for the commit batch. */
function replicaPut (o: ReplicaObject, checked: CheckedContent): PutMutation {
  const { version } = o
  const { size, etag, crc32, data } = checked
  const blob = size > BLOB_MIN_BYTES
  const inlineChunks = blob || size === 0 ? [] : [Array.isArray(data) ? (data.length === 1 ? data[0] : Buffer.concat(data)) : data]
  return {
    kind: 'put',
    key: o.key,
    hash: keyHash(o.key),
    mode: 'replica',
    mtime: version.mtime,
    site: version.site,
    size,
    etag,
    dataId: nextDataId(),
    chunks: inlineChunks.length,
    inlineChunks,
    uploaded: blob,
    blob,
    crc32,
    ...(isEmptyMeta(o.meta) ? {} : { meta: o.meta })
  }
}

function contentMismatch (): ShardsyncError {
  return new ShardsyncError('UPSTREAM_UNAVAILABLE', 'replicated object content does not match its checksum or etag')
}

/**
 * Data ids ascend, so that content arrives in key order in its database
 * (storage/content-store.ts): the process's start time in milliseconds, two
 * random bytes (two processes that start in the same millisecond, or a
 * clock set back), then a counter. Fixed widths make byte order numeric
 * order; base 36 digits sort as they count.
 */
export function formatDataId (startMs: number, random: string, counter: number): string {
  return startMs.toString(16).padStart(11, '0') + random + counter.toString(36).padStart(10, '0')
}

const DATA_ID_START = Date.now()
const DATA_ID_RANDOM = crypto.randomBytes(2).toString('hex')
let dataIdCounter = 0
function nextDataId (): string {
  return formatDataId(DATA_ID_START, DATA_ID_RANDOM, dataIdCounter++)
}

function noop (): void {}
