/**
 * The source's log trimmer and tombstone collector (issue 26, hole 4;
 * docs/design.md, invariant 18). Started by ShardsyncNode; every
 * --log-trim-interval-ms it goes over every bucket:
 *
 *   1. Peers that count: every configured peer and every site that has
 *      reported positions on the bucket (a one-way target need not be a
 *      configured peer of its source). RemovePeer drops a site's reports.
 *   2. Trim: per shard, up to trimPoint (node/trim-policy.ts): the lowest
 *      durable position of every peer that is not expired by
 *      --log-retention-age-ms / --log-retention-entries. An expired peer's
 *      next pull from below the floor gets LOG_TRIMMED and it resyncs.
 *   3. Collect: per peer, the basis is the newest report this site has
 *      drained the peer past (advanceDrain: this site's own tails on the
 *      peer's copy of the bucket, p!<peer>!<peerBucketId>!*, at or beyond
 *      the heads the peer sent). A queued tombstone goes once every peer,
 *      expired or not, has passed its delete incrementally on that basis
 *      (tombstoneCollectable; a tombstone a split moved counts from 0 on
 *      the shard that holds it now).
 *
 * Owns only in-memory state: the drain state per (bucket, peer), rebuilt
 * from the stored reports after a restart (losing it only delays
 * collection), and when each peer was first seen (the age clock of a peer
 * that has not reported). A restart restarts every age clock: time this
 * node was down never expires a peer, and keeping longer is always safe.
 * Storage work is storage/log-trim.ts, one batch per page under the
 * bucket's writer lock: the trim of a pass in pages across shards, and
 * collection only on the shards whose tombstone queue holds anything.
 */
import type { Logger } from 'pino'
import { collectTombstones, queuedShards, trimLogs } from '../storage/log-trim'
import type { ObjectStore } from '../storage/object-store'
import type { PositionStore } from '../storage/position-store'
import type { ProgressStore } from '../storage/progress-store'
import type { PositionReportRecord } from '../storage/records'
import { advanceDrain, tombstoneCollectable, trimPoint, type DrainState, type HeldReport, type OwnTail, type PeerPosition, type Retention } from './trim-policy'

export interface LogTrimmerDeps {
  store: ObjectStore
  positions: PositionStore
  progress: ProgressStore
  /** Configured peers now. */
  peers: () => string[]
  retention: Retention
  log: Logger
}

export interface TrimPassStats { trimmed: number, collected: number }

export class LogTrimmer {
  private readonly drains = new Map<string, DrainState>()
  private readonly held = new Map<string, HeldReport & { at: number }>()
  private readonly firstSeen = new Map<string, number>()
  /** Time this node was down does not count against a peer's reports. */
  private readonly startedMs = Date.now()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private stopped = false
  readonly totals: TrimPassStats = { trimmed: 0, collected: 0 }

  constructor (private readonly deps: LogTrimmerDeps) {}

  start (intervalMs: number): void {
    if (intervalMs <= 0) return
    const tick = (): void => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.deps.log.warn({ err: (err as Error)?.message }, 'log trim pass failed; next pass retries'))
        .finally(() => { if (!this.stopped) this.timer = setTimeout(tick, intervalMs) })
    }
    this.timer = setTimeout(tick, intervalMs)
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
  }

  /** A removed peer's drain state goes with its reports. */
  forgetPeer (peer: string): void {
    for (const m of [this.drains, this.held]) for (const k of [...m.keys()]) if (k.endsWith(`\u0000${peer}`)) m.delete(k)
    this.firstSeen.delete(peer)
  }

  /** One pass over every bucket (also called by tests). */
  async runOnce (now = Date.now()): Promise<TrimPassStats> {
    const stats: TrimPassStats = { trimmed: 0, collected: 0 }
    for (const record of this.deps.store.listBuckets()) {
      if (this.stopped) break
      const state = this.deps.store.getBucket(record.name)?.id === record.id ? this.deps.store.bucketState(record.name) : undefined
      if (state === undefined) continue
      const reports = await this.deps.positions.list(record.id)
      const peers = [...new Set([...this.deps.peers(), ...reports.keys()])].sort()
      for (const p of peers) if (!this.firstSeen.has(p)) this.firstSeen.set(p, now)
      const latest = new Map<string, Map<number, PeerPosition>>()
      for (const [p, r] of reports) latest.set(p, positionsOf(r, Math.max(r.at, this.startedMs)))

      const points: Array<[number, number]> = []
      for (const h of state.shards) {
        const onShard = shardPositions(latest, h.shard)
        // A peer that reports but has not started this shard yet (a new
        // shard of a split) holds it from 0 for as long as it keeps reporting.
        for (const [p, r] of reports) if (!onShard.has(p)) onShard.set(p, { seq: 0, incremental: false, at: Math.max(r.at, this.startedMs) })
        const point = trimPoint(h.logSeq, h.logFloor ?? 0, peers, onShard, now, this.deps.retention, p => this.firstSeen.get(p) ?? now)
        if (point > (h.logFloor ?? 0)) points.push([h.shard, point])
      }
      stats.trimmed += await trimLogs(this.deps.store.db, state, points)

      const basis = new Map<string, Map<number, PeerPosition>>()
      for (const p of peers) {
        const drained = await this.drain(record.id, p, reports.get(p))
        if (drained !== undefined) basis.set(p, new Map(drained))
      }
      if (basis.size < peers.length) continue // some peer has no drained report: nothing is collectable
      for (const shard of await queuedShards(this.deps.store.db, record.id)) {
        const h = state.shards[shard]
        if (h === undefined) continue
        let upTo = h.logSeq
        for (const p of peers) {
          const pos = basis.get(p)?.get(h.shard)
          upTo = pos === undefined || !pos.incremental ? -1 : Math.min(upTo, pos.seq)
          if (upTo < 0) break
        }
        if (upTo <= 0) continue
        stats.collected += await collectTombstones(this.deps.store.db, state, h.shard, upTo, t =>
          tombstoneCollectable(t.indexShard === t.logShard ? t.seq : 0, peers, shardPositions(basis, t.indexShard)))
      }
    }
    this.totals.trimmed += stats.trimmed
    this.totals.collected += stats.collected
    if (stats.trimmed + stats.collected > 0) this.deps.log.debug(stats, 'log trim pass')
    return stats
  }

  /** Rule 2: the positions of the newest report of `peer` this site has drained the peer past. */
  private async drain (bucketId: string, peer: string, report: PositionReportRecord | undefined): Promise<HeldReport['positions'] | undefined> {
    const key = `${bucketId}\u0000${peer}`
    const before = this.drains.get(key) ?? {}
    // One held object per stored report (by its time), so that advanceDrain,
    // which compares reports by identity, sees when no newer one came.
    const cached = this.held.get(key)
    const latest = report === undefined ? undefined : cached?.at === report.at ? cached : heldOf(report)
    if (latest === undefined) this.held.delete(key)
    else this.held.set(key, latest)
    let tails: Map<number, OwnTail> | undefined
    if (report !== undefined) {
      tails = new Map()
      for (const r of await this.deps.progress.list(peer, report.peerBucketId)) tails.set(r.srcShard, { incremental: r.state === 'incremental', seq: r.logCursor })
    }
    const next = advanceDrain(before, latest, shard => tails?.get(shard))
    this.drains.set(key, next)
    return next.drained
  }
}

/**
 * What each bucket keeps for its peers now, from the shard headers in
 * memory: log entries (logFloor+1 .. logSeq) and tombstone index entries.
 * Read by /metrics (by bucket) and SyncStatus (summed).
 */
export function keptForPeers (store: ObjectStore): Array<{ bucket: string, logEntries: number, tombstones: number }> {
  return store.listBuckets().map(r => {
    let logEntries = 0
    let tombstones = 0
    for (const h of store.bucketState(r.name).shards) {
      logEntries += h.logSeq - (h.logFloor ?? 0)
      tombstones += h.tombstones ?? 0
    }
    return { bucket: r.name, logEntries, tombstones }
  })
}

function positionsOf (r: PositionReportRecord, at = r.at): Map<number, PeerPosition> {
  const m = new Map<number, PeerPosition>()
  for (const [shard, seq, inc] of r.positions) m.set(shard, { seq, incremental: inc === 1, at })
  return m
}

function heldOf (r: PositionReportRecord): HeldReport & { at: number } {
  return { at: r.at, positions: [...positionsOf(r)], heads: r.heads }
}

/** Each peer's position on one shard. */
function shardPositions (byPeer: ReadonlyMap<string, ReadonlyMap<number, PeerPosition>>, shard: number): Map<string, PeerPosition> {
  const m = new Map<string, PeerPosition>()
  for (const [p, positions] of byPeer) {
    const pos = positions.get(shard)
    if (pos !== undefined) m.set(p, pos)
  }
  return m
}
