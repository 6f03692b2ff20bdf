/**
 * Sync from one peer: finds the peer's buckets and runs a BucketSync for
 * each. Created by the node for every peer it knows (flags and AddPeer);
 * stopped when the peer is removed or the node closes.
 */
import type { Logger } from 'pino'
import { isShardsyncError } from '../../storage/errors'
import { bucketRef, replicaInitialShards, type ObjectStore } from '../../storage/object-store'
import { decide, type BucketDecision, type BucketTombstone, type PeerBucketEntry } from './bucket-rules'
import type { ProgressStore } from '../../storage/progress-store'
import type { FullSyncPath, SyncMode } from '../config'
import { BucketSync } from './bucket-sync'
import { RateLimiter } from './rate-limiter'
import type { FullSyncRoute } from './shard-sync'
import { sleep } from './sleep'
import type { SourceBucket, SourceClient } from './source-client'
import { ObjectTransfer } from './transfer'

export interface PeerSyncDeps {
  localSite: string
  store: ObjectStore
  progress: ProgressStore
  mode: SyncMode
  /** --full-sync-path (validated in config). */
  fullSyncPath: FullSyncPath
  intervalMs: number
  /** Source shards of one bucket fully synced at once (validated in config). */
  shardConcurrency: number
  syncRate: number
  /** How often each bucket's positions are reported to the peer (ms). */
  positionReportMs: number
  log: Logger
}

export class PeerSync {
  readonly buckets = new Map<string, BucketSync>()
  lastError?: string
  lastErrorAt?: number
  /** True once the peer's bucket list was read at least once. */
  discovered = false
  private stopped = false
  private readonly abort = new AbortController()
  private loop: Promise<void> | undefined
  private readonly transfer: ObjectTransfer
  /** Shared by this peer's buckets: a peer without StreamShard is found out once. */
  private readonly fullSync: FullSyncRoute
  private readonly log: Logger

  constructor (readonly client: SourceClient, private readonly deps: PeerSyncDeps) {
    this.transfer = new ObjectTransfer(deps.store, client, new RateLimiter(deps.syncRate, this.abort.signal))
    this.fullSync = { path: deps.fullSyncPath, streamUnsupported: false }
    this.log = deps.log.child({ peer: client.peerId })
  }

  get peerId (): string { return this.client.peerId }

  start (): void {
    this.loop = this.discoverLoop()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.abort.abort()
    await this.loop
    await Promise.all([...this.buckets.values()].map(async b => await b.stop()))
  }

  /** A notice for one of this peer's buckets was stored, in the progress object of its shard `srcShard`. */
  noticeStored (srcBucketId: string, srcShard: number): void {
    this.buckets.get(srcBucketId)?.requestRound(srcShard)
  }

  private async discoverLoop (): Promise<void> {
    while (!this.stopped) {
      try {
        await this.discover()
        this.lastError = undefined
        this.discovered = true
      } catch (err) {
        if (this.stopped) return
        this.lastError = isShardsyncError(err) ? err.code : 'INTERNAL'
        this.lastErrorAt = Date.now()
        this.log.warn({ code: this.lastError, detail: isShardsyncError(err) ? err.message : String(err) }, 'listing peer buckets failed')
      }
      await sleep(this.deps.intervalMs, this.abort.signal)
    }
  }

  /**
   * Reads the peer's bucket list (live buckets and tombstones), applies the
   * lifecycle rule (node/sync/bucket-rules.ts) to each entry, and then runs
   * exactly one BucketSync per peer bucket that is to be copied, into the
   * local bucket the rule chose (by id: see ObjectStore.bucketRef).
   */
  async discover (): Promise<void> {
    const { store } = this.deps
    const wanted = new Map<string, { source: SourceBucket, localId: string }>()
    // Tombstones first: a delete is applied before a re-created generation
    // of the same name is met (else the two would merge).
    const list = (await this.client.listBuckets()).sort((x, y) => Number(y.deleted === true) - Number(x.deleted === true))
    for (const b of list) {
      if (this.stopped) return
      const d = await this.applyEntry(b)
      const local = store.getBucket(b.name)
      if (d.sync && b.deleted !== true && local !== undefined) wanted.set(b.id, { source: b, localId: local.id })
    }
    // Stop (and release the sync state of) every copy that is no longer
    // wanted, or now goes into another local bucket, before starting any.
    for (const [id, sync] of [...this.buckets]) {
      const w = wanted.get(id)
      if (w !== undefined && w.localId === sync.localBucketId && w.source.name === sync.source.name) continue
      this.buckets.delete(id)
      await sync.stop()
      this.client.expectBucketId?.(sync.source.name, undefined)
      await this.deps.progress.release(this.client.peerId, id)
      this.log.info({ bucket: sync.source.name, srcBucketId: id }, 'bucket sync stopped: the peer bucket or the local one is gone')
    }
    for (const [id, w] of wanted) {
      if (this.buckets.has(id)) continue
      this.client.expectBucketId?.(w.source.name, id)
      const sync = new BucketSync({
        localSite: this.deps.localSite,
        client: this.client,
        store: this.deps.store,
        progress: this.deps.progress,
        transfer: this.transfer,
        mode: this.deps.mode,
        fullSync: this.fullSync,
        intervalMs: this.deps.intervalMs,
        shardConcurrency: this.deps.shardConcurrency,
        positionReportMs: this.deps.positionReportMs,
        log: this.log
      }, w.source, w.localId)
      this.buckets.set(id, sync)
      sync.start()
    }
  }

  private async applyEntry (b: SourceBucket): Promise<BucketDecision> {
    const { store } = this.deps
    const gen = b.gen ?? { id: b.id, createdMs: 0, site: this.client.peerId }
    const floor = b.floor ?? { mtime: 0, site: '' }
    const entry: PeerBucketEntry = b.deleted === true
      ? { deleted: true, name: b.name, gen, version: floor }
      : { deleted: false, name: b.name, gen, merged: b.merged, floor: b.floor }
    const rec = store.getBucket(b.name)
    const tombs = new Map<string, BucketTombstone>()
    for (const id of [gen.id, ...(b.merged ?? [])]) {
      const t = await store.getBucketTombstone(b.name, id)
      if (t !== undefined) tombs.set(id, t)
    }
    const d = decide({ live: rec === undefined ? undefined : { gen: store.generation(rec), merged: rec.merged, floor: rec.floor }, tombstone: id => tombs.get(id) }, entry)
    if (d.create !== undefined) {
      const { shards } = await this.client.listShards(b.name)
      const sourceEntries = shards.reduce((n, s) => n + s.indexCount, 0)
      const initialShards = replicaInitialShards(sourceEntries, store.options.defaults)
      try {
        await store.createReplicaBucket({ name: b.name, initialShards, gen: d.create.gen, merged: d.merged, floor: d.create.floor })
        this.log.info({ bucket: b.name, gen: d.create.gen.id, initialShards, sourceEntries }, tombs.has(d.create.gen.id) ? 'bucket revived: the peer kept writes newer than its delete' : 'bucket created from peer')
      } catch (err) {
        if (!isShardsyncError(err, 'BUCKET_EXISTS')) throw err
        return { sync: false }
      }
    } else if (rec !== undefined) {
      const ref = bucketRef(rec.id)
      if (d.adopt !== undefined || d.merged !== undefined) {
        await store.adoptGeneration(ref, d.adopt, d.merged)
        if (d.adopt !== undefined) this.log.info({ bucket: b.name, gen: d.adopt.id }, 'bucket takes the peer\'s generation (created first)')
      }
      if (d.floor !== undefined) {
        const outcome = await store.applyBucketFloor(ref, d.floor, d.dropIfEmpty === true)
        this.log.info({ bucket: b.name, outcome }, 'bucket delete applied')
      }
    }
    if (d.tombstone !== undefined) {
      const now = store.getBucket(b.name)
      const holds = now !== undefined && (store.generation(now).id === d.tombstone.gen.id || (now.merged?.includes(d.tombstone.gen.id) ?? false))
      if (!holds) await store.putBucketTombstone({ name: d.tombstone.name, gen: d.tombstone.gen, merged: b.merged ?? [], version: d.tombstone.version })
    }
    return d
  }
}
