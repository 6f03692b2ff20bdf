/**
 * ShardsyncNode: one site. Both a source (serves its buckets, splits its
 * shards, notifies peers) and a target (syncs from every peer it knows).
 *
 * Created by the CLI (node/cli/) and by tests; the rpc layer (node/rpc/)
 * adapts its methods to gRPC. It holds no gRPC types: peers are reached
 * through the SourceClient that `connectPeer` returns.
 *
 * Owns: the LevelDB handle (closed last), the object store, the splitter,
 * the notice outbox and its senders, the progress store, the peers'
 * position reports and the log trimmer, and one PeerSync per peer.
 */
import path from 'node:path'
import type { Logger } from 'pino'
import { CONTENT_DIR, contentTuning } from '../storage/content-store'
import { openDatabase, setSyncWrites, type Database } from '../storage/database'
import { ShardsyncError } from '../storage/errors'
import { SCANNED_KEY_KINDS } from '../storage/keys'
import { ObjectStore } from '../storage/object-store'
import { Outbox } from '../storage/outbox'
import { PeerStore } from '../storage/peer-store'
import { PositionStore } from '../storage/position-store'
import { ProgressStore } from '../storage/progress-store'
import type { BucketRecord } from '../storage/records'
import { Splitter, type SplitResult } from '../storage/split'
import { validateSiteId } from '../storage/validate'
import { parseHostPort, type NodeOptions, type PeerAddress } from './config'
import { gcPacing } from './gc-pacing'
import { LogTrimmer } from './log-trimmer'
import { SpaceGuard } from './space-guard'
import { SourceApi } from './source-api'
import { formatNotice, NoticeReceiver, NoticeSender } from './sync/notices'
import { PeerSync } from './sync/peer-sync'
import type { SourceClient } from './sync/source-client'

export const VERSION: string = (require('../../package.json') as { version: string }).version

export type ConnectPeer = (peer: PeerAddress) => SourceClient

interface PeerEntry {
  peer: PeerAddress
  client: SourceClient
  sync: PeerSync
  sender: NoticeSender
}

export class ShardsyncNode {
  readonly source: SourceApi
  readonly notices: NoticeReceiver
  /** Whether writes can go to disk; brings them back after a full disk (node/space-guard.ts). */
  readonly space: SpaceGuard
  /** Peers' position reports (source side) and the trimmer that acts on them. */
  readonly positions: PositionStore
  readonly trimmer: LogTrimmer
  private readonly peers = new Map<string, PeerEntry>()
  private closing = false

  private constructor (
    readonly options: NodeOptions,
    readonly db: Database,
    readonly store: ObjectStore,
    readonly splitter: Splitter,
    readonly outbox: Outbox,
    readonly progress: ProgressStore,
    private readonly peerStore: PeerStore,
    private readonly connectPeer: ConnectPeer,
    readonly log: Logger
  ) {
    this.space = new SpaceGuard(store.content.db === db ? [db] : [db, store.content.db], options.dataDir, log.child({ component: 'space' }))
    store.on('blob-gc-error', (err: unknown) => log.warn({ err: (err as Error)?.message }, 'could not remove replaced object files yet; start-up will'))
    // Inline content takes at most a quarter of a message (the rest: entries).
    this.positions = new PositionStore(db)
    this.source = new SourceApi(store, { maxInlineBytes: Math.floor(options.maxMessageBytes / 4), positions: this.positions })
    this.trimmer = new LogTrimmer({
      store,
      positions: this.positions,
      progress,
      peers: () => this.peerIds(),
      retention: { ageMs: options.logRetentionAgeMs, entries: options.logRetentionEntries },
      log: log.child({ component: 'trim' })
    })
    this.notices = new NoticeReceiver({
      progress,
      isPeer: (site) => this.peers.has(site),
      querySource: async (site, bucket, shard) => {
        const peer = this.peers.get(site)
        if (peer === undefined) throw ShardsyncError.unknownPeer(site)
        return await peer.sync.client.querySplitState(bucket, shard)
      },
      onRecorded: (n) => this.peers.get(n.site)?.sync.noticeStored(n.bucketId, n.srcShard),
      log: log.child({ component: 'notices' })
    })
  }

  static async open (options: NodeOptions, deps: { log: Logger, connectPeer: ConnectPeer }): Promise<ShardsyncNode> {
    const tuning = { maxOpenFiles: options.dbMaxOpenFiles, cacheBytes: options.dbCacheMiB * 1024 * 1024 }
    // Bloom filters only over the keys that are read by key (storage/keys.ts).
    const db = await openDatabase(options.dataDir, { ...tuning, keyFilter: { skipFirstChars: SCANNED_KEY_KINDS } })
    let contentDb: Database | undefined
    try {
      // Small objects' content: a LevelDB of its own (storage/content-store.ts).
      contentDb = await openDatabase(path.join(options.dataDir, CONTENT_DIR), contentTuning(tuning))
      const store = await ObjectStore.open(db, {
        contentDb,
        siteId: options.siteId,
        maxObjectBytes: options.maxObjectBytes,
        defaults: { initialShards: options.initialShards, splitThreshold: options.splitThreshold, autoSplit: options.autoSplit, maxShards: options.maxShards },
        // V8's headroom is widened while large objects move (node/gc-pacing.ts).
        onLargeContent: noteLargeContent()
      })
      if (options.durability === 'fsync') {
        setSyncWrites(db, true)
        setSyncWrites(contentDb, true)
        store.blobs.fsyncDirectories = true
      }
      const outbox = await Outbox.open(db)
      let node: ShardsyncNode | undefined
      const splitter = new Splitter(store, {
        migratePauseMs: options.splitPauseMs,
        splitRate: { limit: options.splitRateLimit, intervalMs: options.splitRateIntervalMs },
        splitDoneOps: (record, shard, newShard) => node === undefined || options.syncMode === 'related-art'
          ? []
          : outbox.noticeOps(node.peerIds(), formatNotice({ site: options.siteId, bucketId: record.id, srcShard: shard, newShard }))
      })
      node = new ShardsyncNode(options, db, store, splitter, outbox, new ProgressStore(db), new PeerStore(db), deps.connectPeer, deps.log)
      return node
    } catch (err) {
      await contentDb?.close()
      await db.close()
      throw err
    }
  }

  /** Starts notice senders and peer syncs, and finishes interrupted splits. */
  async start (): Promise<void> {
    const log = this.log
    this.splitter.on('split-started', (r: BucketRecord, shard: number, newShard: number) => log.info({ bucket: r.name, shard, newShard }, 'split started'))
    this.splitter.on('split-done', (r: BucketRecord, shard: number, newShard: number, moved: number) => {
      log.info({ bucket: r.name, shard, newShard, moved }, 'split done')
      for (const p of this.peers.values()) p.sender.poke()
    })
    this.splitter.on('split-capped', (r: BucketRecord) => log.warn({ bucket: r.name, shards: r.shardCount, maxShards: this.options.maxShards }, 'bucket reached --max-shards: auto-split stops, its shards grow past the split threshold'))
    this.splitter.on('auto-split-failed', (err: unknown, r: BucketRecord, shard: number) => log.error({ err, bucket: r.name, shard }, 'auto-split failed'))
    // Peers first: a split finished now must queue its notice for every peer.
    for (const p of this.options.peers) this.attachPeer(p)
    for (const p of await this.peerStore.list()) if (!this.peers.has(p.id)) this.attachPeer(p)
    const resumed = await this.splitter.resumeSplits()
    if (resumed.length > 0) log.info({ resumed: resumed.length }, 'interrupted splits finished')
    this.trimmer.start(this.options.logTrimIntervalMs)
  }

  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.splitter.close()
    this.space.close()
    await this.trimmer.stop()
    await Promise.all([...this.peers.values()].map(async p => await this.detachPeer(p)))
    this.store.close()
    await this.store.blobs.settled()
    // The content database was opened here and handed to the store.
    await this.store.content.flush()
    await this.store.content.db.close()
    await this.db.close()
  }

  get siteId (): string { return this.options.siteId }

  /** V8's heap growing percent in force in this process (0: V8 decides); see node/gc-pacing.ts. */
  get heapGrowthPercent (): number {
    return gcPacing().percent
  }

  nodeInfo (): { siteId: string, version: string, syncMode: string, buckets: BucketRecord[] } {
    return { siteId: this.siteId, version: VERSION, syncMode: this.options.syncMode, buckets: this.store.listBuckets() }
  }

  async splitShard (bucket: string, shard: number): Promise<SplitResult> {
    return await this.splitter.splitShard(bucket, shard)
  }

  // ---- peers --------------------------------------------------------------

  peerIds (): string[] { return [...this.peers.keys()] }

  listPeers (): PeerAddress[] {
    return [...this.peers.values()].map(p => p.peer).sort((a, b) => a.id < b.id ? -1 : 1)
  }

  peerSyncs (): PeerSync[] { return [...this.peers.values()].map(p => p.sync) }

  noticeSenders (): Array<{ peerId: string, sender: NoticeSender }> {
    return [...this.peers.values()].map(p => ({ peerId: p.peer.id, sender: p.sender }))
  }

  async addPeer (id: string, address: string): Promise<PeerAddress> {
    validateSiteId(id, 'peer id')
    parseHostPort(address, 'address')
    if (id === this.siteId) throw ShardsyncError.invalidArgument('a node cannot be its own peer')
    const peer = { id, address }
    await this.peerStore.put(peer)
    const existing = this.peers.get(id)
    if (existing !== undefined) await this.detachPeer(existing)
    this.attachPeer(peer)
    this.log.info({ peer: id, address }, 'peer added')
    return peer
  }

  /**
   * Stops syncing with a peer and releases what it held here: its queued
   * notices and its position reports, so that logs and tombstones it was
   * holding are trimmed and collected. A site that only reported (a
   * one-way target, not a configured peer) is released the same way. A
   * removed site must be wiped before it is added again (invariant 18).
   */
  async removePeer (id: string): Promise<void> {
    validateSiteId(id, 'peer id')
    const entry = this.peers.get(id)
    const reports = await this.positions.removePeer(id)
    this.trimmer.forgetPeer(id)
    if (entry === undefined) {
      if (reports > 0) { this.log.info({ peer: id, reports }, 'reporting site released'); return }
      throw ShardsyncError.peerNotFound(id)
    }
    await this.peerStore.remove(id)
    await this.detachPeer(entry)
    await this.outbox.dropPeer(id)
    // Reports that arrived while it was being detached.
    await this.positions.removePeer(id)
    this.log.info({ peer: id, reports }, 'peer removed')
  }

  private attachPeer (peer: PeerAddress): void {
    const client = this.connectPeer(peer)
    const log = this.log.child({ peer: peer.id })
    const sync = new PeerSync(client, {
      localSite: this.siteId,
      store: this.store,
      progress: this.progress,
      mode: this.options.syncMode,
      fullSyncPath: this.options.fullSyncPath,
      intervalMs: this.options.syncIntervalMs,
      shardConcurrency: this.options.syncShardConcurrency,
      syncRate: this.options.syncRate,
      positionReportMs: this.options.positionReportMs,
      log: this.log
    })
    const sender = new NoticeSender({ outbox: this.outbox, client, dropNotices: this.options.dropNotices, log: log.child({ component: 'outbox' }) })
    this.peers.set(peer.id, { peer, client, sync, sender })
    sync.start()
  }

  private async detachPeer (entry: PeerEntry): Promise<void> {
    this.peers.delete(entry.peer.id)
    await Promise.all([entry.sync.stop(), entry.sender.stop()])
    entry.client.close()
  }
}

/** The hook that widens V8's headroom while large content moves (one closure, made once). */
function noteLargeContent (): () => void {
  const pacing = gcPacing()
  return () => pacing.note()
}
