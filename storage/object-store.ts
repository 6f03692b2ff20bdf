/**
 * ObjectStore: buckets, objects, shard indexes and sync logs of one node.
 *
 * Called by the node core (node/) for client requests and for sync; owns the
 * in-memory bucket table (records and shard headers, loaded at open) and the
 * per-bucket BucketWriter that every change goes through. Splits live in
 * storage/split.ts and use the same writer.
 *
 * Public methods validate their input and then call a small private part;
 * a missing object in the get* methods is `undefined`, not an error.
 */
import crypto from 'node:crypto'
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { BlobStore } from './blob-store'
import { ContentStore } from './content-store'
import { Md5Worker } from './md5-worker'
import { writeBatch, type Database } from './database'
import { ShardsyncError } from './errors'
import * as keys from './keys'
import type { ObjectMeta } from './object-meta'
import { OriginRuns } from './origin-runs'
import { keyHash } from './routing'
import { BucketWriter, type BatchOp, type BucketState, type Mutation, type MutationResult } from './bucket-writer'
import { type BucketGeneration, type BucketRecord, type BucketTombstoneRecord, type IndexEntry, type LogRecord, type ObjectHead, type ObjectVersion, type ShardHeader } from './records'
import { pendingDropJobs, runDropJob } from './bucket-drop'
import { BucketLifecycle, generationOf } from './bucket-lifecycle'
import { prepareReplicaPuts, Upload, type ReplicaObject } from './upload'
import { validateBucketName, validateObjectKey } from './validate'

export { Upload, type ReplicaObject } from './upload'

export const MAX_PAGE = 1000
/** Objects of at most this many chunks are read in one getMany. */
const SMALL_OBJECT_CHUNKS = 8
/** Tombstones skipped per ListObjects page before it returns early. */
const MAX_SCAN_PER_PAGE = 10_000

export interface BucketDefaults {
  initialShards: number
  splitThreshold: number
  autoSplit: boolean
  /**
   * Most shards a bucket may have, splits included (--max-shards; default
   * DEFAULT_MAX_SHARDS). CreateBucket refuses more initial shards, and a
   * split that would pass it is refused (SHARD_LIMIT); auto-split stops.
   */
  maxShards?: number
}

/** Most initial shards a bucket may have (CreateBucket's limit, whatever --max-shards says). */
export const MAX_INITIAL_SHARDS = 65536
/** Default most shards per bucket, splits included. */
export const DEFAULT_MAX_SHARDS = 65536
/** Ceiling of --max-shards: a PullChanges names every shard in one message. */
export const MAX_SHARDS_CEILING = 1_048_576

export function maxShardsOf (defaults: BucketDefaults): number {
  return defaults.maxShards ?? DEFAULT_MAX_SHARDS
}

/**
 * Initial shard count of a bucket that a target creates to replicate a
 * source bucket holding `sourceEntries` index entries: enough shards that
 * each starts about half full at the local split threshold, and never fewer
 * than the local default. Without it a replica of a large bucket would start
 * at the default and split over and over while full sync fills it (each
 * split rewrites half a shard's index, and every new shard is one more for
 * the peer to list back). Ceph RGW gets the same effect by syncing the
 * bucket instance's shard count as metadata.
 */
export function replicaInitialShards (sourceEntries: number, defaults: BucketDefaults): number {
  const halfFull = Math.max(1, Math.floor(defaults.splitThreshold / 2))
  const wanted = Math.ceil(Math.max(0, sourceEntries) / halfFull)
  return Math.min(MAX_INITIAL_SHARDS, maxShardsOf(defaults), Math.max(defaults.initialShards, wanted))
}

export interface ObjectStoreOptions {
  siteId: string
  maxObjectBytes: number
  defaults: BucketDefaults
  /**
   * The LevelDB for small objects' content (storage/content-store.ts), opened
   * by the caller; default: the main database (the protocol model test).
   */
  contentDb?: Database
  /** Where large objects' files go; default `blobs` inside the LevelDB directory. */
  blobDir?: string
  /**
   * Called for every piece (up to 1 MiB) of a large object read from or
   * written to its file, on the hot path: keep it to a few instructions.
   * The node paces V8's collections by it (node/gc-pacing.ts).
   */
  onLargeContent?: () => void
}

export interface CreateBucketInput {
  name: string
  initialShards?: number
  splitThreshold?: number
  autoSplit?: boolean
}

/** What a replica bucket takes from its source: the generation, merged ids and floor. */
export interface ReplicaBucketInput {
  name: string
  initialShards: number
  gen: BucketGeneration
  merged?: string[]
  floor?: { mtime: number, site: string }
}

/** A name for the bucket of this id, accepted wherever a bucket name is (see bucketState). */
export function bucketRef (bucketId: string): string { return `@${bucketId}` }

export interface ListedObject extends ObjectVersion { key: string, meta?: ObjectMeta }

/** A page of one shard's index (listIndex). */
export interface IndexPage { entries: ListedObject[], tombstones: ListedObject[], nextMarker: string }
export interface LoggedChange extends LogRecord { shard: number, seq: number }

/**
 * Events: 'log' (bucketId, shards) after log entries were appended to those shards; 'index-grew'
 * (bucket state, shards) so that the splitter can check thresholds;
 * 'blob-gc-error' (err) when files made garbage could not be removed yet.
 */
export class ObjectStore extends EventEmitter {
  readonly db: Database
  readonly options: ObjectStoreOptions
  readonly blobs: BlobStore
  readonly content: ContentStore
  readonly hasher = new Md5Worker()
  private readonly buckets = new Map<string, BucketState>()
  private readonly bucketsById = new Map<string, BucketState>()
  private closed = false
  private readonly lifecycle: BucketLifecycle

  private constructor (db: Database, options: ObjectStoreOptions) {
    super()
    this.lifecycle = new BucketLifecycle({
      db,
      siteId: options.siteId,
      current: (id) => this.bucketsById.get(id),
      forget: (state) => {
        this.buckets.delete(state.record.name)
        this.bucketsById.delete(state.record.id)
      },
      emit: (event, ...args) => this.emit(event, ...args)
    })
    this.setMaxListeners(0)
    this.db = db
    this.options = options
    this.content = new ContentStore(options.contentDb ?? db, db)
    // A database with no directory (memory-level, in the protocol model test) keeps no blobs.
    const location = (db as { location?: unknown }).location
    this.blobs = new BlobStore(options.blobDir ?? (typeof location === 'string' ? path.join(location, 'blobs') : undefined), db, (err) => this.emit('blob-gc-error', err), options.onLargeContent)
  }

  static async open (db: Database, options: ObjectStoreOptions): Promise<ObjectStore> {
    const store = new ObjectStore(db, options)
    await store.load()
    store.resumeSweeps()
    return store
  }

  private async load (): Promise<void> {
    // Before anything reads or writes content: chunks of a former layout
    // move over, and commits a crash interrupted are settled.
    await this.content.recover()
    for await (const [, value] of this.db.iterator(keys.prefixRange(keys.BUCKETS_PREFIX))) {
      const record = value as BucketRecord
      const shards: ShardHeader[] = []
      for await (const [, header] of this.db.iterator(keys.prefixRange(keys.shardsPrefix(record.id)))) {
        shards.push(header as ShardHeader)
      }
      shards.sort((a, b) => a.shard - b.shard)
      // The bucket record and new shard headers are written in one batch, so
      // the count on disk always matches; trust the headers if it ever differs.
      this.addBucketState({ ...record, shardCount: shards.length }, shards)
    }
    await this.dropAbandonedUploads()
    for (const id of await pendingDropJobs(this.db)) await runDropJob(this.db, id)
  }

  /** Floor sweeps a crash interrupted run again (after open: they use the writers). */
  private resumeSweeps (): void {
    for (const state of this.buckets.values()) {
      if (state.record.sweeping !== undefined) void this.lifecycle.sweep(state).catch((err) => this.emit('bucket-error', err))
    }
  }

  /**
   * Chunks and blob files of uploads that never committed (crash mid-upload)
   * are garbage, and so are blob files whose removal a crash interrupted.
   */
  private async dropAbandonedUploads (): Promise<void> {
    for await (const key of this.db.keys(keys.prefixRange(keys.UPLOADS_PREFIX))) {
      const dataId = key.slice(keys.UPLOADS_PREFIX.length)
      await this.content.clearChunks(dataId)
      await this.blobs.remove(dataId)
      await this.db.del(key)
    }
    await this.blobs.collectLeftovers()
  }

  private addBucketState (record: BucketRecord, shards: ShardHeader[]): BucketState {
    const state: BucketState = {
      record,
      shards,
      origins: new OriginRuns(),
      writer: new BucketWriter(this.db, this.content, () => state, {
        onLogAppended: (b, shards) => this.emit('log', b.record.id, shards),
        onIndexGrew: (b, grown) => this.emit('index-grew', b, grown),
        onGarbage: (dataIds) => this.blobs.collect(dataIds)
      })
    }
    this.buckets.set(record.name, state)
    this.bucketsById.set(record.id, state)
    return state
  }

  close (): void {
    this.closed = true
    for (const b of this.buckets.values()) b.writer.failAll(ShardsyncError.nodeClosing())
    void this.hasher.close()
  }

  // ---- buckets ----------------------------------------------------------

  async createBucket (input: CreateBucketInput): Promise<BucketRecord> {
    const name = validateBucketName(input.name)
    const d = this.options.defaults
    const initialShards = input.initialShards === undefined || input.initialShards === 0 ? d.initialShards : input.initialShards
    const splitThreshold = input.splitThreshold === undefined || input.splitThreshold === 0 ? d.splitThreshold : input.splitThreshold
    const most = Math.min(MAX_INITIAL_SHARDS, maxShardsOf(d))
    if (!Number.isInteger(initialShards) || initialShards < 1 || initialShards > most) {
      throw ShardsyncError.invalidArgument(`initial_shards must be between 1 and ${most}`)
    }
    if (!Number.isInteger(splitThreshold) || splitThreshold < 2 || splitThreshold > 1e9) {
      throw ShardsyncError.invalidArgument('split_threshold must be between 2 and 1000000000')
    }
    return await this.createBucketUnchecked(name, initialShards, splitThreshold, input.autoSplit ?? d.autoSplit)
  }

  private async createBucketUnchecked (name: string, initialShards: number, splitThreshold: number, autoSplit: boolean, replica?: ReplicaBucketInput): Promise<BucketRecord> {
    if (this.buckets.has(name)) throw ShardsyncError.bucketExists(name)
    // A new storage id every time, also for a replica or a revived
    // generation: nothing keyed by an old id (heads, logs, progress objects
    // of peers) can ever reach the new bucket.
    const id = crypto.randomBytes(6).toString('hex')
    const createdMs = Date.now()
    const record: BucketRecord = {
      name,
      id,
      initialShards,
      shardCount: initialShards,
      splitThreshold,
      autoSplit,
      createdMs,
      objectCount: 0,
      gen: replica?.gen ?? { id, createdMs, site: this.options.siteId }
    }
    if (replica?.merged !== undefined && replica.merged.length > 0) record.merged = [...replica.merged]
    if (replica?.floor !== undefined) record.floor = replica.floor
    const shards: ShardHeader[] = []
    const ops: BatchOp[] = [{ type: 'put', key: keys.bucketKey(name), value: record }]
    for (let s = 0; s < initialShards; s++) {
      const header: ShardHeader = { shard: s, state: 'UNSPLIT', parent: -1, children: [], baseDepth: 0, indexCount: 0, logSeq: 0 }
      shards.push(header)
      ops.push({ type: 'put', key: keys.shardKey(record.id, s), value: header })
    }
    // Reserve the name before the write so a concurrent create cannot race it.
    const state = this.addBucketState(record, shards)
    try {
      await writeBatch(this.db, ops)
    } catch (err) {
      this.buckets.delete(name)
      this.bucketsById.delete(record.id)
      throw err
    }
    return state.record
  }

  listBuckets (): BucketRecord[] {
    return [...this.buckets.values()].map(b => b.record.gen !== undefined ? b.record : { ...b.record, gen: this.generation(b.record) }).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  /** The bucket's record, or undefined. */
  getBucket (name: string): BucketRecord | undefined {
    return this.buckets.get(name)?.record
  }

  getBucketById (id: string): BucketRecord | undefined {
    return this.bucketsById.get(id)?.record
  }

  /** For the splitter and sync: the live state. Throws BUCKET_NOT_FOUND. */
  bucketState (name: unknown): BucketState {
    // '@<id>' (bucketRef) names one bucket by id: a sync worker writes only
    // into the bucket it began with, never into a later one of that name.
    const state = typeof name === 'string' ? (name.startsWith('@') ? this.bucketsById.get(name.slice(1)) : this.buckets.get(name)) : undefined
    if (state === undefined) throw ShardsyncError.bucketNotFound(String(name))
    return state
  }

  /**
   * Deletes an empty bucket (BUCKET_NOT_EMPTY otherwise): the record goes and
   * a tombstone of its generation, stamped (max(now, floor + 1), site), and a
   * drop job for its storage come, in one batch; the storage then goes page
   * by page (storage/bucket-drop.ts). Peers apply the tombstone by the rule
   * of node/sync/bucket-rules.ts.
   */
  async deleteBucket (name: string): Promise<void> {
    const state = this.bucketState(name)
    if (state.record.objectCount > 0) throw ShardsyncError.bucketNotEmpty(name)
    await state.writer.exclusive(async () => {
      if (this.buckets.get(name) !== state) throw ShardsyncError.bucketNotFound(name)
      if (state.record.objectCount > 0) throw ShardsyncError.bucketNotEmpty(name)
      await this.lifecycle.dropLocked(state, { mtime: Math.max(Date.now(), (state.record.floor?.mtime ?? 0) + 1), site: this.options.siteId })
    })
  }

  /** The generation of a bucket (records from before generations: its own id, local site). */
  generation (record: BucketRecord): BucketGeneration {
    return generationOf(record, this.options.siteId)
  }

  /** Creates the local replica of a peer's bucket generation (or revives a deleted one). */
  async createReplicaBucket (input: ReplicaBucketInput): Promise<BucketRecord> {
    const name = validateBucketName(input.name)
    const d = this.options.defaults
    return await this.createBucketUnchecked(name, input.initialShards, d.splitThreshold, d.autoSplit, input)
  }

  /** The bucket takes another generation and/or merged ids (it lost the name to a peer's). */
  async adoptGeneration (ref: string, gen: BucketGeneration | undefined, merged: string[] | undefined): Promise<void> {
    await this.lifecycle.adoptGeneration(this.bucketState(ref), gen, merged)
  }

  /** See BucketLifecycle.applyFloor (storage/bucket-lifecycle.ts). */
  async applyBucketFloor (ref: string, version: { mtime: number, site: string }, dropIfEmpty: boolean): Promise<'dropped' | 'kept' | 'gone'> {
    return await this.lifecycle.applyFloor(this.bucketState(ref), version, dropIfEmpty)
  }

  /** Keeps a peer's bucket tombstone, if newer than the one held for its generation. */
  async putBucketTombstone (t: BucketTombstoneRecord): Promise<void> {
    await this.lifecycle.putTombstone(t)
  }

  async getBucketTombstone (name: string, genId: string): Promise<BucketTombstoneRecord | undefined> {
    return await this.lifecycle.getTombstone(name, genId)
  }

  /** Every bucket tombstone (one per deleted generation id). */
  async listBucketTombstones (): Promise<BucketTombstoneRecord[]> {
    return await this.lifecycle.listTombstones()
  }

  // ---- shards -----------------------------------------------------------

  shards (bucket: string): readonly ShardHeader[] {
    return this.bucketState(bucket).shards
  }

  shard (bucket: string, shard: unknown): ShardHeader {
    const state = this.bucketState(bucket)
    if (typeof shard !== 'number' || !Number.isInteger(shard) || shard < 0 || shard >= state.shards.length) {
      throw ShardsyncError.shardNotFound(bucket, Number(shard))
    }
    return state.shards[shard]
  }

  // ---- writes -----------------------------------------------------------

  /** Starts a client upload; data goes through write(), then finish(). */
  beginUpload (bucket: string, key: string): Upload {
    const state = this.bucketState(bucket)
    validateObjectKey(key)
    return new Upload(this, state, key, 'local', undefined)
  }

  /** Starts a replicated upload carrying the origin's version. */
  beginReplicaUpload (bucket: string, key: string, version: ObjectVersion): Upload {
    const state = this.bucketState(bucket)
    validateObjectKey(key)
    return new Upload(this, state, key, 'replica', version)
  }

  /** Stores a whole small object in one call (tests, sync). */
  async putObject (bucket: string, key: string, data: Buffer): Promise<MutationResult> {
    const upload = this.beginUpload(bucket, key)
    await upload.write(data)
    return await upload.finish()
  }

  /**
   * Applies whole objects copied from another site, each with the origin's
   * version; the newer-than-stored ones are committed (group-committed, so a
   * page of objects costs a few batches). Content is checked against size
   * and the source's checksum (storage/checksum.ts), or the etag where the
   * source has no checksum, first: if any object does not match, nothing is applied and
   * UPSTREAM_UNAVAILABLE is thrown. The objects' data buffers are given up
   * (a large object's may be emptied: see storage/md5-worker.ts).
   */
  async applyReplicaObjects (bucket: string, objects: ReplicaObject[]): Promise<MutationResult[]> {
    const state = this.bucketState(bucket)
    for (const o of objects) validateObjectKey(o.key)
    if (this.closed) throw ShardsyncError.nodeClosing()
    const mutations: Mutation[] = await prepareReplicaPuts(this, objects)
    return await state.writer.submitMany(mutations)
  }

  async deleteObject (bucket: string, key: string): Promise<MutationResult> {
    const state = this.bucketState(bucket)
    validateObjectKey(key)
    return await this.submit(state, { kind: 'delete', key, hash: keyHash(key), mode: 'local', mtime: 0, site: this.options.siteId })
  }

  /** Applies a delete that happened at another site, if it is the newest. */
  async applyReplicaDelete (bucket: string, key: string, version: { mtime: number, site: string }): Promise<MutationResult> {
    const state = this.bucketState(bucket)
    validateObjectKey(key)
    return await this.submit(state, { kind: 'delete', key, hash: keyHash(key), mode: 'replica', mtime: version.mtime, site: version.site })
  }

  /** @internal used by Upload */
  async submit (state: BucketState, mutation: Mutation): Promise<MutationResult> {
    if (this.closed) throw ShardsyncError.nodeClosing()
    return await state.writer.submit(mutation)
  }

  // ---- reads ------------------------------------------------------------

  /** The head or tombstone of a key, or undefined. */
  async getHead (bucket: string, key: string): Promise<ObjectHead | undefined> {
    const state = this.bucketState(bucket)
    return await this.db.get(keys.headKey(state.record.id, key)) as ObjectHead | undefined
  }

  async getHeads (bucket: string, objectKeys: string[]): Promise<Array<ObjectHead | undefined>> {
    const state = this.bucketState(bucket)
    return await this.db.getMany(objectKeys.map(k => keys.headKey(state.record.id, k))) as Array<ObjectHead | undefined>
  }

  /** A live object's head; throws OBJECT_NOT_FOUND for absent or deleted. */
  async headObject (bucket: string, key: string): Promise<ObjectHead> {
    validateObjectKey(key)
    const head = await this.getHead(bucket, key)
    if (head === undefined || head.deleted === true) throw ShardsyncError.objectNotFound(bucket, key)
    return head
  }

  /**
   * The content of a head, chunk by chunk. If the object is overwritten while
   * it is read, its old chunks vanish; that is reported as OBJECT_NOT_FOUND
   * for the version that was asked for (callers re-read the head).
   *
   * headroom > 0: every chunk is the tail of a buffer of its own, with
   * `headroom` unused bytes in front of it (chunk.byteOffset >= headroom),
   * so that a caller can write a frame header there instead of copying the
   * chunk. File pieces are read that way; LevelDB values are copied once.
   */
  async * readChunks (head: ObjectHead, headroom = 0): AsyncGenerator<Buffer> {
    if (head.dataId === undefined) return
    if (head.blob === true) {
      yield * this.blobs.read(head.dataId, head.size, headroom)
      return
    }
    if (head.chunks === 0) return
    if (isSmall(head)) {
      const [chunks] = await this.readSmallMany([head])
      if (chunks === undefined) throw new ShardsyncError('OBJECT_NOT_FOUND', 'object changed while it was read')
      for (const chunk of chunks) yield withHeadroom(chunk, headroom)
      return
    }
    let n = 0
    for await (const chunk of this.content.chunkValues(head.dataId)) {
      n++
      yield withHeadroom(chunk, headroom)
    }
    if (n !== head.chunks) throw new ShardsyncError('OBJECT_NOT_FOUND', 'object changed while it was read')
  }

  /**
   * The content of many small heads (see isSmall) in one read.
   * Entry i is undefined for a large head, a tombstone, or an object that
   * changed while it was read (callers fall back to readChunks).
   */
  async readSmallMany (heads: Array<ObjectHead | undefined>): Promise<Array<Buffer[] | undefined>> {
    const want: string[] = []
    const spans: Array<[number, number] | undefined> = heads.map((h) => {
      if (h === undefined || !isSmall(h)) return undefined
      const start = want.length
      for (let c = 0; c < h.chunks; c++) want.push(keys.chunkKey(h.dataId as string, c))
      return [start, h.chunks]
    })
    const values = want.length > 0 ? await this.content.db.getMany(want, { valueEncoding: 'buffer' }) as Array<Buffer | undefined> : []
    return spans.map((span) => {
      if (span === undefined) return undefined
      const parts = values.slice(span[0], span[0] + span[1])
      return parts.every(p => p !== undefined) ? parts as Buffer[] : undefined
    })
  }

  /** Objects in key order across all shards, page by page. */
  async listObjects (bucket: string, opts: { prefix?: string, startAfter?: string, limit?: number }): Promise<{ objects: ListedObject[], nextStartAfter: string }> {
    const state = this.bucketState(bucket)
    const limit = clampLimit(opts.limit)
    const prefix = opts.prefix ?? ''
    const base = keys.headPrefix(state.record.id)
    const startAfter = opts.startAfter ?? ''
    const from = startAfter > prefix ? startAfter : prefix
    // The loop stops at the first key without the prefix.
    const range = { gte: base + from, lt: keys.prefixRange(base).lt }
    const objects: ListedObject[] = []
    let scanned = 0
    let last = ''
    for await (const [k, v] of this.db.iterator(range)) {
      const key = k.slice(base.length)
      if (key === startAfter) continue
      if (!key.startsWith(prefix)) break
      last = key
      const head = v as ObjectHead
      if (head.deleted !== true) objects.push(head.meta === undefined ? { key, size: head.size, etag: head.etag, mtime: head.mtime, site: head.site } : { key, size: head.size, etag: head.etag, mtime: head.mtime, site: head.site, meta: head.meta })
      if (objects.length >= limit || ++scanned >= MAX_SCAN_PER_PAGE) return { objects, nextStartAfter: last }
    }
    return { objects, nextStartAfter: '' }
  }

  /**
   * One shard's index, in key order, paged by marker: live entries, and with
   * includeDeleted the tombstones of the same key range. A page scans at
   * most `limit` index entries of either kind; nextMarker is the last key
   * scanned when the page is full, '' when it is the shard's last.
   */
  async listIndex (bucket: string, shard: number, marker: string, limit?: number, includeDeleted = false): Promise<IndexPage> {
    const state = this.bucketState(bucket)
    this.shard(bucket, shard)
    const n = clampLimit(limit)
    const prefix = keys.indexPrefix(state.record.id, shard)
    const range = { ...keys.prefixRange(prefix), limit: n }
    if (marker !== '') range.gt = prefix + marker
    // One page (at most MAX_PAGE) in one native read, not an awaited next() per entry.
    const page = await this.db.iterator(range).all()
    const entries: ListedObject[] = []
    const tombstones: ListedObject[] = []
    for (let i = 0; i < page.length; i++) {
      const e = page[i][1] as IndexEntry
      const listed = { key: page[i][0].slice(prefix.length), size: e.size, etag: e.etag, mtime: e.mtime, site: e.site }
      if (e.deleted !== true) entries.push(listed)
      else if (includeDeleted) tombstones.push(listed)
    }
    return { entries, tombstones, nextMarker: page.length === n ? page[page.length - 1][0].slice(prefix.length) : '' }
  }

  /**
   * Log entries of one shard after `afterSeq`, oldest first. LOG_TRIMMED if
   * entries after it are gone (below the floor, or trimmed meanwhile): the
   * log holds logFloor+1 .. logSeq, so the first entry must be afterSeq+1.
   */
  async readLog (bucket: string, shard: number, afterSeq: number, limit: number): Promise<LoggedChange[]> {
    const state = this.bucketState(bucket)
    const header = this.shard(bucket, shard)
    if (afterSeq < (header.logFloor ?? 0)) throw ShardsyncError.logTrimmed(state.record.name, shard, header.logFloor ?? 0)
    if (header.logSeq <= afterSeq || limit <= 0) return []
    const prefix = keys.logPrefix(state.record.id, shard)
    const page = await this.db.iterator({ gt: keys.logKey(state.record.id, shard, afterSeq), lt: keys.prefixRange(prefix).lt, limit }).all()
    const first = page.length > 0 ? keys.trailingHex(page[0][0]) : -1
    if (first !== afterSeq + 1) throw ShardsyncError.logTrimmed(state.record.name, shard, this.shard(bucket, shard).logFloor ?? 0)
    return page.map(([k, v]) => ({ ...(v as LogRecord), shard, seq: keys.trailingHex(k) }))
  }

  /**
   * Log entries of several ranges at once, each `n` entries after `afterSeq`
   * of its shard (afterSeq + n at most the shard's logSeq), by their keys in
   * one read: PullChanges knows from the shard headers which entries exist,
   * and a read per range cost an iterator each, most of them for one or two
   * entries. LOG_TRIMMED as readLog if any entry asked for is gone.
   */
  async readLogRanges (bucket: string, ranges: ReadonlyArray<{ shard: number, afterSeq: number, n: number }>): Promise<LoggedChange[][]> {
    const state = this.bucketState(bucket)
    const id = state.record.id
    const want: string[] = []
    for (const r of ranges) {
      const header = this.shard(bucket, r.shard)
      if (r.afterSeq < (header.logFloor ?? 0)) throw ShardsyncError.logTrimmed(state.record.name, r.shard, header.logFloor ?? 0)
      for (let k = 1; k <= r.n; k++) want.push(keys.logKey(id, r.shard, r.afterSeq + k))
    }
    const values = want.length > 0 ? await this.db.getMany(want) : []
    const out: LoggedChange[][] = []
    let at = 0
    for (const r of ranges) {
      const entries: LoggedChange[] = []
      for (let k = 1; k <= r.n; k++) {
        const v = values[at++] as LogRecord | undefined
        if (v === undefined) throw ShardsyncError.logTrimmed(state.record.name, r.shard, this.shard(bucket, r.shard).logFloor ?? 0)
        entries.push({ ...v, shard: r.shard, seq: r.afterSeq + k })
      }
      out.push(entries)
    }
    return out
  }
}

/** The same bytes at the tail of a new buffer with `headroom` unused bytes in front (see readChunks). */
export function withHeadroom (chunk: Buffer, headroom: number): Buffer {
  if (headroom === 0) return chunk
  const out = Buffer.allocUnsafeSlow(headroom + chunk.length).subarray(headroom)
  chunk.copy(out)
  return out
}

/** A live head whose few chunks are read with one getMany rather than an iterator. */
export function isSmall (head: ObjectHead): boolean {
  return head.deleted !== true && head.dataId !== undefined && head.blob !== true && head.chunks <= SMALL_OBJECT_CHUNKS
}

export function clampLimit (limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit) || limit <= 0) return MAX_PAGE
  return Math.min(Math.floor(limit), MAX_PAGE)
}
