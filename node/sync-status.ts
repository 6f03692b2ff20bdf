/**
 * Sync status of a node as a target: per peer, per bucket, per source shard.
 * Built on demand from the progress objects (disk) and what the sync loops
 * last saw of each source (memory); it never calls a peer.
 *
 * Called by AdminService.SyncStatus (and so by `shardsync status`,
 * `wait-synced` and grpcurl) and by the metrics collector.
 */
import type { ProgressRecord } from '../storage/progress-store'
import { keptForPeers } from './log-trimmer'
import { parseProgressEntry } from './sync/notices'
import type { BucketSync } from './sync/bucket-sync'
import type { ShardsyncNode } from './shardsync-node'

/** A tail that has not answered for this long is not "caught up". */
export const STALE_POLL_MS = 10_000

export interface ShardStatus {
  shard: number
  state: 'full' | 'incremental'
  listed: number
  applied: number
  sourceIndexCount: number
  logCursor: number
  logHead: number
  entriesBehind: number
  secondsBehind: number
  newShardsByNotice: number[]
  newShardsByPull: number[]
  foundBy: string
  splittingRetries: number
  lastError: string
  lastErrorMs: number
}

export interface BucketStatus {
  bucket: string
  sourceBucketId: string
  shards: number
  shardsFull: number
  shardsIncremental: number
  shardsBehind: number
  entriesBehind: number
  secondsBehind: number
  shardStatus: ShardStatus[]
}

export interface PeerStatus {
  peer: string
  address: string
  caughtUp: boolean
  shardsBehind: number
  oldestUnappliedSeconds: number
  summary: string
  objectsSynced: number
  bytesSynced: number
  outboxDepth: number
  noticesSent: number
  noticesRetried: number
  lastError: string
  lastErrorMs: number
  buckets: BucketStatus[]
}

export interface SyncStatus {
  siteId: string
  peers: PeerStatus[]
  noticesReceived: number
  noticesStored: number
  noticesIgnored: number
  noticesRejected: number
  logEntries: number
  tombstones: number
}

export async function buildSyncStatus (node: ShardsyncNode, opts: { peer?: string, summaryOnly?: boolean } = {}): Promise<SyncStatus> {
  const now = Date.now()
  const depth = await node.outbox.depth()
  const senders = new Map(node.noticeSenders().map(s => [s.peerId, s.sender]))
  const addresses = new Map(node.listPeers().map(p => [p.id, p.address]))
  const peers: PeerStatus[] = []
  for (const sync of node.peerSyncs()) {
    if (opts.peer !== undefined && opts.peer !== '' && sync.peerId !== opts.peer) continue
    const buckets: BucketStatus[] = []
    let objectsSynced = 0
    let bytesSynced = 0
    let lastError = sync.lastError ?? ''
    let lastErrorMs = sync.lastErrorAt ?? 0
    for (const b of sync.buckets.values()) {
      objectsSynced += b.counters.objectsApplied
      bytesSynced += b.counters.bytesApplied
      if ((b.counters.lastErrorAt ?? 0) > lastErrorMs && b.counters.lastError !== undefined) {
        lastError = b.counters.lastError
        lastErrorMs = b.counters.lastErrorAt ?? 0
      }
      buckets.push(bucketStatus(b, await node.progress.list(sync.peerId, b.srcBucketId), now, opts.summaryOnly === true))
    }
    const sender = senders.get(sync.peerId)
    const shardsBehind = buckets.reduce((n, b) => n + b.shardsBehind, 0)
    const oldest = buckets.reduce((m, b) => Math.max(m, b.secondsBehind), 0)
    const polled = [...sync.buckets.values()].every(b => b.view.lastPollAt > now - STALE_POLL_MS)
    const caughtUp = sync.discovered && sync.lastError === undefined && shardsBehind === 0 && polled && buckets.every(b => b.shards > 0)
    peers.push({
      peer: sync.peerId,
      address: addresses.get(sync.peerId) ?? '',
      caughtUp,
      shardsBehind,
      oldestUnappliedSeconds: round1(oldest),
      summary: caughtUp
        ? 'caught up'
        : !sync.discovered ? 'not reached yet' : shardsBehind === 0 ? 'waiting for a first poll' : `${shardsBehind} shards behind, oldest change unapplied for ${round1(oldest)} s`,
      objectsSynced,
      bytesSynced,
      outboxDepth: depth.get(sync.peerId) ?? 0,
      noticesSent: sender?.sent ?? 0,
      noticesRetried: sender?.retried ?? 0,
      lastError,
      lastErrorMs,
      buckets
    })
  }
  const r = node.notices
  let logEntries = 0
  let tombstones = 0
  for (const k of keptForPeers(node.store)) {
    logEntries += k.logEntries
    tombstones += k.tombstones
  }
  return { siteId: node.siteId, peers, noticesReceived: r.received, noticesStored: r.recorded, noticesIgnored: r.ignored, noticesRejected: r.rejected, logEntries, tombstones }
}

/**
 * Counted against the source's own shard list (BucketSync.view.sourceShards):
 * progress objects of shards the source does not have are left out, and a
 * source shard without one (not started yet, e.g. still being filled by its
 * split) counts as behind. Until the source was listed, nothing is synced.
 */
function bucketStatus (b: BucketSync, allRecs: ProgressRecord[], now: number, summaryOnly: boolean): BucketStatus {
  const sourceShards = b.view.sourceShards
  const recs = allRecs.filter(r => r.srcShard < sourceShards)
  const unstarted = sourceShards - recs.length
  const shards = recs.map(rec => shardStatus(b, rec, now))
  const behind = shards.filter(s => s.state === 'full' || s.entriesBehind > 0)
  return {
    bucket: b.source.name,
    sourceBucketId: b.srcBucketId,
    shards: sourceShards,
    shardsFull: shards.filter(s => s.state === 'full').length + unstarted,
    shardsIncremental: shards.filter(s => s.state === 'incremental').length,
    shardsBehind: behind.length + unstarted,
    entriesBehind: shards.reduce((n, s) => n + s.entriesBehind, 0),
    secondsBehind: round1(behind.reduce((m, s) => Math.max(m, s.secondsBehind), 0)),
    shardStatus: summaryOnly ? [] : shards
  }
}

function shardStatus (b: BucketSync, rec: ProgressRecord, now: number): ShardStatus {
  const incremental = rec.state === 'incremental'
  const cursor = incremental ? b.tailPosition(rec.srcShard, rec.logCursor) : rec.logCursor
  const head = b.view.logHead.get(rec.srcShard) ?? cursor
  const entriesBehind = incremental ? Math.max(0, head - cursor, b.view.behind.get(rec.srcShard) ?? 0) : 0
  const since = incremental ? (b.view.caughtUpAt.get(rec.srcShard) ?? now) : rec.createdMs
  return {
    shard: rec.srcShard,
    state: rec.state,
    listed: rec.listed,
    applied: rec.applied,
    sourceIndexCount: b.view.indexCount.get(rec.srcShard) ?? 0,
    logCursor: cursor,
    logHead: head,
    entriesBehind,
    secondsBehind: incremental && entriesBehind === 0 ? 0 : round1((now - since) / 1000),
    newShardsByNotice: rec.newShards.map(parseProgressEntry).filter((n): n is number => n !== undefined),
    newShardsByPull: rec.pulledShards,
    foundBy: rec.origin,
    splittingRetries: rec.splittingRetries,
    lastError: rec.lastError ?? '',
    lastErrorMs: rec.lastErrorAt ?? 0
  }
}

function round1 (n: number): number {
  return Math.round(n * 10) / 10
}
