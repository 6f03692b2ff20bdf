/**
 * Sync from one peer: finds the peer's buckets and runs a BucketSync for
 * each. Created by the node for every peer it knows (flags and AddPeer);
 * stopped when the peer is removed or the node closes.
 */
import type { Logger } from 'pino'
import { isShardsyncError } from '../../storage/errors'
import type { ObjectStore } from '../../storage/object-store'
import type { ProgressStore } from '../../storage/progress-store'
import type { SyncMode } from '../config'
import { BucketSync } from './bucket-sync'
import { RateLimiter } from './rate-limiter'
import { sleep } from './sleep'
import type { SourceClient } from './source-client'
import { ObjectTransfer } from './transfer'

export interface PeerSyncDeps {
  localSite: string
  store: ObjectStore
  progress: ProgressStore
  mode: SyncMode
  intervalMs: number
  /** Source shards of one bucket fully synced at once (validated in config). */
  shardConcurrency: number
  syncRate: number
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
  private readonly log: Logger

  constructor (readonly client: SourceClient, private readonly deps: PeerSyncDeps) {
    this.transfer = new ObjectTransfer(deps.store, client, new RateLimiter(deps.syncRate, this.abort.signal))
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

  /** A notice for one of this peer's buckets was stored. */
  noticeStored (srcBucketId: string): void {
    this.buckets.get(srcBucketId)?.requestRound()
  }

  private async discoverLoop (): Promise<void> {
    while (!this.stopped) {
      try {
        for (const b of await this.client.listBuckets()) {
          if (this.buckets.has(b.id)) continue
          const sync = new BucketSync({
            localSite: this.deps.localSite,
            client: this.client,
            store: this.deps.store,
            progress: this.deps.progress,
            transfer: this.transfer,
            mode: this.deps.mode,
            intervalMs: this.deps.intervalMs,
            shardConcurrency: this.deps.shardConcurrency,
            log: this.log
          }, b)
          this.buckets.set(b.id, sync)
          sync.start()
        }
        this.lastError = undefined
        this.discovered = true
      } catch (err) {
        if (this.stopped) return
        this.lastError = isShardsyncError(err) ? err.code : 'INTERNAL'
        this.lastErrorAt = Date.now()
        this.log.warn({ code: this.lastError }, 'listing peer buckets failed')
      }
      await sleep(this.deps.intervalMs, this.abort.signal)
    }
  }
}
