/**
 * Two-site protocol model (issue 26): sites A and B, each source and target
 * of the other, in memory and synchronous, sharing with the nodes only their
 * pure rule modules: last writer wins (storage/records.ts compareVersions),
 * routing and split bits (storage/routing.ts), the split guard
 * (node/sync/shard-guard.ts) and the trim and tombstone-GC policy
 * (node/trim-policy.ts). Everything else (shards, index with tombstone
 * entries, per-shard logs, full sync by listing, incremental sync by log
 * position, position reports, trimming, tombstone collection, notices) is
 * restated here at the level of the protocol, one step at a time, so that
 * tens of thousands of schedules run in a CI minute.
 *
 * A schedule draws a fault mix from its seed, then runs random steps: local
 * puts, overwrites and deletes on either site (each acknowledged write is
 * recorded), splits begun and migrated page by page, full-sync pages and
 * log pulls in either direction, target crashes (a step's progress save
 * lost, so the step is re-applied), position reports (lost, delayed),
 * trims and tombstone collection, split notices (lost, duplicated, delayed,
 * forged), and a peer away past the retention. Then it quiesces (no faults,
 * splits finished, both sites sync, report, trim and collect until nothing
 * changes) and checks: both sites hold exactly the last-writer-wins result
 * of every acknowledged write and delete; every source shard is tailed
 * incrementally, and no phantom shard is; and (liveness of the trimmer)
 * every log is trimmed to its head and every tombstone collected.
 *
 * The rule for collecting a tombstone (version v, delete entry seq q on the
 * shard holding its index entry) at site S, for each peer P:
 *   1. P has passed q incrementally on that shard (trim-policy.ts,
 *      tombstoneCollectable; a tombstone moved by a split counts from 0), and
 *   2. S has itself pulled P's logs up to the heads P had when it reported
 *      (1): a put older than v that P logged before it applied the delete is
 *      then already applied here (and lost to the tombstone). Without 2, S
 *      could collect, then pull P's older put and keep it live, while P's
 *      own log entry for the delete (origin S) is left out of S's pulls by
 *      exclude_origin: the deleted object is back for good on S.
 *
 * The rule itself is node/trim-policy.ts (tombstoneCollectable, advanceDrain).
 *
 * Modes: 'split-aware' (the protocol); negative controls 'related-art'
 * (no split awareness), 'no-tombstones' (listings carry live entries only),
 * 'trim-ignores-peer' (the trimmer and collector act as if the peer were
 * not configured), 'gc-on-expiry' (tombstones of an expired peer collected,
 * the gc_grace hazard), 'gc-no-drain' (rule 2 left out) and
 * 'trust-notices' (a notice starts the shard it names unconfirmed).
 */
import type { SplitStateAnswer } from '../../node/sync/source-client'
import { confirmedChildren, isFilling, notListable } from '../../node/sync/shard-guard'
import { advanceDrain, foreignHead, isExpired, tombstoneCollectable, trimPoint, type HeldReport, type PeerPosition, type Retention } from '../../node/trim-policy'
import { compareVersions } from '../../storage/records'
import { keyHash, MAX_SPLIT_DEPTH, routeHash, splitBit } from '../../storage/routing'
import { Rng } from './sim-source'

export type TwoSiteMode = 'split-aware' | 'related-art' | 'no-tombstones' | 'trim-ignores-peer' | 'gc-on-expiry' | 'gc-no-drain' | 'trust-notices'

const INITIAL_SHARDS = 2
const BUCKET_ID = 'bkt'

interface Version { mtime: number, site: string }
interface Entry extends Version { deleted: boolean, etag: string, seq: number, logShard: number }
interface LogRecord extends Version { seq: number, key: string, deleted: boolean, etag: string }
interface Shard {
  shard: number
  state: 'UNSPLIT' | 'SPLITTING' | 'SPLIT_DONE'
  parent: number
  children: number[]
  baseDepth: number
  index: Map<string, Entry>
  /** Untrimmed entries only: seq > floor. */
  log: LogRecord[]
  logSeq: number
  floor: number
  /** Newest log seq per origin site (ShardHeader.originSeqs). */
  originSeqs: Map<string, number>
  splitTo?: number
  splitDepth?: number
  migrateAfter?: string
}
interface Progress { state: 'full' | 'incremental', logStart: number | null, marker: string, cursor: number }
/** A position report as the source keeps it: positions on its shards, and the reporter's own log heads then. */
type Report = HeldReport

class Site {
  shards: Shard[] = []
  heads = new Map<string, Entry>()
  /** Target side: progress of the peer's shards. */
  progress = new Map<number, Progress>()
  /** Source side: the peer's newest report, and the newest one this site has drained the peer's logs past. */
  latest: Report | undefined
  drained: HeldReport['positions'] | undefined
  pendingDrain: Report | undefined
  firstSeen = 0
  constructor (readonly id: string, readonly skew: number) {
    for (let s = 0; s < INITIAL_SHARDS; s++) this.shards.push(newShard(s, -1, 0))
  }
}

function newShard (shard: number, parent: number, baseDepth: number): Shard {
  return { shard, state: 'UNSPLIT', parent, children: [], baseDepth, index: new Map(), log: [], logSeq: 0, floor: 0, originSeqs: new Map() }
}

export interface TwoSiteFaults {
  steps: number
  keys: number
  pageCap: number
  pullCap: number
  migratePage: number
  maxShards: number
  pCrash: number
  pReportLoss: number
  pNoticeLoss: number
  pNoticeDup: number
  pAway: number
  retention: Retention
  skewB: number
  wWrite: number
  wDelete: number
  wSplit: number
  wSync: number
  wTrim: number
  wForge: number
}

export interface TwoSiteStats { writes: number, deletes: number, splits: number, resyncs: number, trimmed: number, collected: number, crashes: number, aways: number, noticesLost: number, noticesForged: number, listedTombstones: number }

export interface TwoSiteResult { seed: number, ok: boolean, problems: string[], stats: TwoSiteStats, trace?: string[] }

export function drawTwoSiteFaults (rng: Rng): TwoSiteFaults {
  return {
    steps: rng.between(40, 160),
    keys: rng.between(4, 24),
    pageCap: rng.between(1, 5),
    pullCap: rng.between(1, 6),
    migratePage: rng.between(1, 4),
    maxShards: rng.between(2, 8),
    pCrash: rng.chance(0.3) ? 0 : 0.2 * rng.next(),
    pReportLoss: rng.chance(0.3) ? 0 : 0.5 * rng.next(),
    pNoticeLoss: rng.chance(0.3) ? 0 : 0.8 * rng.next(),
    pNoticeDup: rng.chance(0.5) ? 0 : 0.5 * rng.next(),
    pAway: rng.chance(0.4) ? 0 : 0.06 * rng.next(),
    retention: { ageMs: rng.pick([0, 10, 30, 80]), entries: rng.pick([0, 0, 4, 12]) },
    skewB: rng.between(-5, 5),
    wWrite: 6,
    wDelete: rng.between(1, 5),
    wSplit: rng.between(0, 3),
    wSync: rng.between(6, 14),
    wTrim: rng.between(1, 4),
    wForge: rng.chance(0.5) ? 0 : 1
  }
}

const hashes = new Map<string, Buffer>()
function hashOf (key: string): Buffer {
  let h = hashes.get(key)
  if (h === undefined) hashes.set(key, h = keyHash(key))
  return h
}

export class TwoSiteModel {
  readonly a: Site
  readonly b: Site
  now = 1
  quiet = false
  /** Every acknowledged write and delete, newest per key. */
  readonly acked = new Map<string, Entry>()
  readonly stats: TwoSiteStats = { writes: 0, deletes: 0, splits: 0, resyncs: 0, trimmed: 0, collected: 0, crashes: 0, aways: 0, noticesLost: 0, noticesForged: 0, listedTombstones: 0 }
  /** Notices in flight to a site: [srcShard, newShard]. */
  private readonly notices = new Map<Site, Array<[number, number]>>()
  /** Reports in flight to a site (delayed delivery). */
  private readonly reports = new Map<Site, Report[]>()
  private readonly away = new Map<Site, number>()
  trace: string[] | undefined

  constructor (readonly rng: Rng, readonly f: TwoSiteFaults, readonly mode: TwoSiteMode) {
    this.a = new Site('a', 0)
    this.b = new Site('b', f.skewB)
    for (const s of [this.a, this.b]) { this.notices.set(s, []); this.reports.set(s, []); this.away.set(s, 0) }
  }

  log (line: string): void { this.trace?.push(`[${this.now}] ${line}`) }
  peerOf (s: Site): Site { return s === this.a ? this.b : this.a }

  // ---- a site's own storage ------------------------------------------

  /** Writes a version: head, index entry (a tombstone entry for a delete) and log entry, on the shard the key routes to. */
  private store (site: Site, key: string, v: Version & { deleted: boolean, etag: string }): Entry {
    const hash = hashOf(key)
    let s = routeHash(hash, INITIAL_SHARDS, site.shards)
    const h = site.shards[s]
    if (h.state === 'SPLITTING' && splitBit(hash, h.splitDepth as number) === 1) {
      // Writes never wait for a split: a moving key is written on the new shard.
      h.index.delete(key)
      s = h.splitTo as number
    }
    const to = site.shards[s]
    const seq = ++to.logSeq
    const entry: Entry = { mtime: v.mtime, site: v.site, deleted: v.deleted, etag: v.etag, seq, logShard: s }
    to.index.set(key, entry)
    site.heads.set(key, entry)
    to.log.push({ seq, key, mtime: v.mtime, site: v.site, deleted: v.deleted, etag: v.etag })
    to.originSeqs.set(v.site, seq)
    return entry
  }

  localPut (site: Site, key: string): void {
    const old = site.heads.get(key)
    const mtime = Math.max(this.now + site.skew, (old?.mtime ?? 0) + 1)
    const e = this.store(site, key, { mtime, site: site.id, deleted: false, etag: `${site.id}${mtime}.${this.rng.int(1000)}` })
    this.ack(key, e)
    this.stats.writes++
    this.log(`${site.id} put ${key} v${mtime}`)
  }

  localDelete (site: Site, key: string): void {
    const old = site.heads.get(key)
    if (old === undefined || old.deleted) return
    const e = this.store(site, key, { mtime: Math.max(this.now + site.skew, old.mtime + 1), site: site.id, deleted: true, etag: '' })
    this.ack(key, e)
    this.stats.deletes++
    this.log(`${site.id} delete ${key} v${e.mtime}`)
  }

  private ack (key: string, e: Entry): void {
    const seen = this.acked.get(key)
    if (seen === undefined || compareVersions(e, seen) > 0) this.acked.set(key, e)
  }

  /** A replicated version, kept only if newer (last writer wins). */
  private applyReplica (site: Site, key: string, v: Version & { deleted: boolean, etag: string }): boolean {
    const old = site.heads.get(key)
    if (old !== undefined && compareVersions(v, old) <= 0) return false
    const e = this.store(site, key, v)
    this.log(`${site.id} applies ${key} ${v.deleted ? 'delete' : 'put'} v${v.mtime}${v.site} (shard ${e.logShard} seq ${e.seq})`)
    return true
  }

  // ---- splits ----------------------------------------------------------

  beginSplit (site: Site): void {
    if (site.shards.length >= this.f.maxShards) return
    const eligible = site.shards.filter(s => s.state !== 'SPLITTING' && !isFilling(site.shards, s) && !site.shards.some(x => x.splitTo === s.shard) && s.baseDepth + s.children.length < MAX_SPLIT_DEPTH)
    if (eligible.length === 0) return
    const s = this.rng.pick(eligible)
    const depth = s.baseDepth + s.children.length
    const n = site.shards.length
    s.state = 'SPLITTING'
    s.splitTo = n
    s.splitDepth = depth
    s.migrateAfter = ''
    site.shards.push(newShard(n, s.shard, depth + 1))
    this.stats.splits++
    this.log(`${site.id} split begin ${s.shard} -> ${n}`)
  }

  migrateStep (site: Site): boolean {
    const s = site.shards.find(x => x.state === 'SPLITTING')
    if (s === undefined) return false
    const to = site.shards[s.splitTo as number]
    const page = [...s.index.keys()].filter(k => k > (s.migrateAfter as string)).sort().slice(0, this.f.migratePage)
    if (page.length === 0) {
      s.state = 'SPLIT_DONE'
      s.children.push(to.shard)
      delete s.splitTo; delete s.splitDepth; delete s.migrateAfter
      this.log(`${site.id} split done ${s.shard} -> ${to.shard}`)
      this.sendNotice(this.peerOf(site), s.shard, to.shard)
      return true
    }
    s.migrateAfter = page[page.length - 1]
    for (const key of page) {
      if (splitBit(hashOf(key), s.splitDepth as number) !== 1) continue
      to.index.set(key, s.index.get(key) as Entry)
      s.index.delete(key)
    }
    return true
  }

  // ---- the source side's answers ------------------------------------------

  private querySplitState (src: Site, shard: number): SplitStateAnswer | undefined {
    const h = src.shards[shard]
    if (h === undefined) return undefined
    return { state: h.state, newShards: [...h.children], logSeq: h.logSeq, bucketId: BUCKET_ID, shardCount: src.shards.length, filling: isFilling(src.shards, h) }
  }

  // ---- the target side ------------------------------------------------------

  /** Progress objects for the source's shards this target may start (BucketSync's discovery). */
  discover (tgt: Site): void {
    const src = this.peerOf(tgt)
    for (const h of src.shards) {
      if (tgt.progress.has(h.shard)) continue
      if (this.mode === 'related-art') {
        tgt.progress.set(h.shard, { state: 'full', logStart: h.logSeq, marker: '', cursor: 0 })
      } else if (h.parent === -1) {
        tgt.progress.set(h.shard, { state: 'full', logStart: null, marker: '', cursor: 0 })
      } else if (!isFilling(src.shards, h) && tgt.progress.has(h.parent)) {
        this.startChild(tgt, h.shard)
      }
    }
  }

  private startChild (tgt: Site, shard: number): void {
    if (!tgt.progress.has(shard)) tgt.progress.set(shard, { state: 'full', logStart: 0, marker: '', cursor: 0 })
  }

  /** One page of a shard's full sync (fullSyncShard). */
  fullStep (tgt: Site, shard: number): void {
    const src = this.peerOf(tgt)
    const p = tgt.progress.get(shard)
    if (p === undefined || p.state !== 'full') return
    const splitAware = this.mode !== 'related-art'
    let next = { ...p }
    if (splitAware) {
      const answer = this.querySplitState(src, shard)
      if (answer === undefined || notListable(answer) !== undefined) return
      if (next.logStart === null) next.logStart = answer.logSeq
      for (const c of confirmedChildren(answer, BUCKET_ID)) this.startChild(tgt, c)
    } else if (next.logStart === null) {
      next.logStart = src.shards[shard].logSeq
    }
    const h = src.shards[shard]
    const page = [...h.index.keys()].filter(k => k > next.marker).sort().slice(0, this.f.pageCap)
    const withTombstones = splitAware && this.mode !== 'no-tombstones'
    for (const key of page) {
      const e = h.index.get(key) as Entry
      if (!e.deleted) this.applyReplica(tgt, key, e)
      else if (withTombstones) {
        // Kept even where the target holds no copy: a later local write
        // there is then stamped above it, and the target has passed the
        // delete in the sense of the collection rule (see the header).
        this.stats.listedTombstones++
        this.applyReplica(tgt, key, e)
      }
    }
    if (this.crash()) return
    if (page.length > 0) next.marker = page[page.length - 1]
    if (page.length === this.f.pageCap) { tgt.progress.set(shard, next); return }
    if (splitAware) {
      const again = this.querySplitState(src, shard)
      if (again === undefined || notListable(again) !== undefined) { tgt.progress.set(shard, next); return }
      for (const c of confirmedChildren(again, BUCKET_ID)) this.startChild(tgt, c)
    }
    next = { ...next, state: 'incremental', cursor: next.logStart ?? 0 }
    tgt.progress.set(shard, next)
    this.log(`${tgt.id} shard ${shard} of ${src.id} incremental from ${next.cursor}`)
  }

  /** One PullChanges of one shard; LOG_TRIMMED below the source's floor sends the shard back to full sync. */
  pullStep (tgt: Site, shard: number): void {
    const src = this.peerOf(tgt)
    const p = tgt.progress.get(shard)
    if (p === undefined || p.state !== 'incremental') return
    const h = src.shards[shard]
    if (p.cursor < h.floor) {
      this.stats.resyncs++
      this.log(`${tgt.id} shard ${shard} of ${src.id}: LOG_TRIMMED (cursor ${p.cursor} < floor ${h.floor}), resync`)
      tgt.progress.set(shard, { state: 'full', logStart: null, marker: '', cursor: 0 })
      return
    }
    const entries = h.log.filter(e => e.seq > p.cursor).slice(0, this.f.pullCap)
    for (const e of entries) if (e.site !== tgt.id) this.applyReplica(tgt, e.key, e)
    if (this.crash()) return
    if (entries.length > 0) tgt.progress.set(shard, { ...p, cursor: entries[entries.length - 1].seq })
  }

  private crash (): boolean {
    if (this.quiet || !this.rng.chance(this.f.pCrash)) return false
    this.stats.crashes++
    return true
  }

  /** The target reports its durable positions (ReportPositions), and its own log heads with them. */
  report (tgt: Site): void {
    const src = this.peerOf(tgt)
    const positions: Array<[number, PeerPosition]> = []
    for (const [shard, p] of tgt.progress) {
      positions.push([shard, { seq: p.state === 'incremental' ? p.cursor : (p.logStart ?? 0), incremental: p.state === 'incremental', at: this.now }])
    }
    // Heads of entries the source can still pull: its own changes are left
    // out of its pulls (exclude_origin), so they need no draining.
    const r: Report = { positions, heads: tgt.shards.map(s => [s.shard, foreignHead(s.originSeqs, src.id)] as [number, number]) }
    if (!this.quiet && this.rng.chance(this.f.pReportLoss)) return
    ;(this.reports.get(src) as Report[]).push(r)
  }

  deliverReports (src: Site): void {
    const queue = this.reports.get(src) as Report[]
    while (queue.length > 0) {
      const r = queue.shift() as Report
      if (src.latest === undefined || atOf(r) >= atOf(src.latest)) src.latest = r
    }
    this.drain(src)
  }

  /** Rule 2 (node/trim-policy.ts, advanceDrain): the basis for collection moves on once this site has drained the peer past a report's heads. */
  private drain (src: Site): void {
    const state = advanceDrain({ pending: src.pendingDrain, drained: src.drained }, src.latest, shard => {
      const p = src.progress.get(shard)
      return p === undefined ? undefined : { incremental: p.state === 'incremental', seq: p.cursor }
    })
    src.pendingDrain = state.pending as Report | undefined
    src.drained = state.drained
  }

  // ---- trimming and collection (source side) -------------------------------

  private positionsOn (positions: HeldReport['positions'] | undefined, shard: number): Map<string, PeerPosition> {
    const m = new Map<string, PeerPosition>()
    const pos = positions?.find(([s]) => s === shard)?.[1]
    if (pos !== undefined) m.set('peer', pos)
    return m
  }

  trim (src: Site): void {
    const peers = this.mode === 'trim-ignores-peer' ? [] : ['peer']
    for (const h of src.shards) {
      const point = trimPoint(h.logSeq, h.floor, peers, this.positionsOn(src.latest?.positions, h.shard), this.now, this.f.retention, () => src.firstSeen)
      if (point <= h.floor) continue
      const before = h.log.length
      h.log = h.log.filter(e => e.seq > point)
      h.floor = point
      this.log(`${src.id} trims shard ${h.shard} to ${point}`)
      this.stats.trimmed += before - h.log.length
    }
  }

  collect (src: Site): void {
    const ignore = this.mode === 'trim-ignores-peer'
    this.drain(src)
    const basis = this.mode === 'gc-no-drain' ? src.latest?.positions : src.drained
    for (const h of src.shards) {
      const positions = this.positionsOn(basis, h.shard)
      const expired = this.mode === 'gc-on-expiry' && this.expiredOn(src, h)
      for (const [key, e] of h.index) {
        if (!e.deleted) continue
        const seq = e.logShard === h.shard ? e.seq : 0
        if (!ignore && !expired && !tombstoneCollectable(seq, ['peer'], positions)) continue
        h.index.delete(key)
        if (src.heads.get(key) === e) src.heads.delete(key)
        this.stats.collected++
        this.log(`${src.id} collects tombstone ${key} v${e.mtime}${e.site} (shard ${h.shard}, seq ${seq})`)
      }
    }
  }

  private expiredOn (src: Site, h: Shard): boolean {
    const pos = this.positionsOn(src.latest?.positions, h.shard).get('peer') ?? { seq: 0, incremental: false, at: src.firstSeen }
    return isExpired(pos, h.logSeq, this.now, this.f.retention)
  }

  // ---- notices --------------------------------------------------------------

  private sendNotice (to: Site, srcShard: number, newShard: number): void {
    if (!this.quiet && this.rng.chance(this.f.pNoticeLoss)) { this.stats.noticesLost++; return }
    const q = this.notices.get(to) as Array<[number, number]>
    q.push([srcShard, newShard])
    if (!this.quiet && this.rng.chance(this.f.pNoticeDup)) q.push([srcShard, newShard])
  }

  forgeNotice (to: Site): void {
    const src = this.peerOf(to)
    const s = this.rng.int(src.shards.length)
    const n = this.rng.pick([src.shards.length, src.shards.length + 1, src.shards.length - 1, 2 ** 31 - 1])
    if (n <= s) return
    this.stats.noticesForged++
    ;(this.notices.get(to) as Array<[number, number]>).push([s, n])
  }

  /** Delivers one notice (any of the queue: reordered). A notice is a hint: the source is asked (invariant 16). */
  deliverNotice (to: Site): void {
    const q = this.notices.get(to) as Array<[number, number]>
    if (q.length === 0) return
    const [[srcShard, newShard]] = q.splice(this.rng.int(q.length), 1)
    if (this.mode === 'trust-notices') { this.startChild(to, newShard); return }
    const answer = this.querySplitState(this.peerOf(to), srcShard)
    if (answer !== undefined && confirmedChildren(answer, BUCKET_ID).includes(newShard) && to.progress.has(srcShard)) this.startChild(to, newShard)
  }

  // ---- schedule ---------------------------------------------------------------

  syncStep (tgt: Site): void {
    if ((this.away.get(tgt) as number) > this.now) return
    this.discover(tgt)
    const shards = [...tgt.progress.keys()]
    if (shards.length === 0) return
    const shard = this.rng.pick(shards)
    const p = tgt.progress.get(shard) as Progress
    if (p.state === 'full') this.fullStep(tgt, shard)
    else this.pullStep(tgt, shard)
    if (this.rng.chance(0.5)) this.report(tgt)
  }

  randomStep (): void {
    const f = this.f
    const site = this.rng.chance(0.5) ? this.a : this.b
    const total = f.wWrite + f.wDelete + f.wSplit + f.wSync + f.wTrim + f.wForge + 2
    let r = this.rng.next() * total
    const key = `k${this.rng.int(f.keys).toString().padStart(2, '0')}`
    if ((r -= f.wWrite) < 0) this.localPut(site, key)
    else if ((r -= f.wDelete) < 0) this.localDelete(site, key)
    else if ((r -= f.wSplit) < 0) { if (this.rng.chance(0.5)) this.beginSplit(site); else this.migrateStep(site) }
    else if ((r -= f.wSync) < 0) this.syncStep(site)
    else if ((r -= f.wTrim) < 0) { this.deliverReports(site); this.trim(site); this.collect(site) }
    else if ((r -= f.wForge) < 0) this.forgeNotice(site)
    else if ((r -= 1) < 0) this.deliverNotice(site)
    else if (this.rng.chance(f.pAway)) {
      // The site stops syncing from its peer (and reporting) for a while.
      this.away.set(site, this.now + this.rng.between(20, 120))
      this.stats.aways++
      this.log(`${site.id} away until ${this.away.get(site) as number}`)
    } else this.migrateStep(site)
    this.now++
  }

  /** No faults; finish splits and deliver notices; then sync, report, trim and collect until nothing changes. */
  quiesce (): string | undefined {
    this.quiet = true
    for (const s of [this.a, this.b]) this.away.set(s, 0)
    for (let i = 0; i < 10000 && (this.migrateStep(this.a) || this.migrateStep(this.b)); i++);
    for (const s of [this.a, this.b]) while ((this.notices.get(s) as unknown[]).length > 0) this.deliverNotice(s)
    let prev = ''
    for (let round = 0; round < 400; round++) {
      for (const tgt of [this.a, this.b]) {
        this.discover(tgt)
        for (const shard of [...tgt.progress.keys()].sort((x, y) => x - y)) {
          for (let i = 0; i < 200 && tgt.progress.get(shard)?.state === 'full'; i++) this.fullStep(tgt, shard)
          for (let i = 0; i < 200; i++) {
            const p = tgt.progress.get(shard)
            if (p === undefined) break
            const before = JSON.stringify(p)
            if (p.state === 'full') this.fullStep(tgt, shard)
            else this.pullStep(tgt, shard)
            if (JSON.stringify(tgt.progress.get(shard)) === before) break
          }
        }
        this.report(tgt)
      }
      for (const src of [this.a, this.b]) { this.deliverReports(src); this.trim(src); this.collect(src) }
      this.now++
      const snap = this.snapshot()
      if (snap === prev) return undefined
      prev = snap
    }
    return 'did not quiesce in 400 rounds'
  }

  private snapshot (): string {
    const part = (s: Site): unknown => [
      [...s.heads].map(([k, e]) => [k, e.mtime, e.site, e.deleted]),
      [...s.progress].map(([n, p]) => [n, p.state, p.cursor, p.marker]),
      s.shards.map(h => [h.floor, h.logSeq, h.index.size])
    ]
    return JSON.stringify([part(this.a), part(this.b)])
  }

  check (): string[] {
    const problems: string[] = []
    const expected = new Map<string, string>()
    for (const [k, e] of this.acked) if (!e.deleted) expected.set(k, `${e.etag}@${e.mtime}${e.site}`)
    for (const site of [this.a, this.b]) {
      const live = new Map<string, string>()
      for (const [k, e] of site.heads) if (!e.deleted) live.set(k, `${e.etag}@${e.mtime}${e.site}`)
      const missing = [...expected.keys()].filter(k => !live.has(k))
      const back = [...live.keys()].filter(k => !expected.has(k))
      const stale = [...expected.keys()].filter(k => live.has(k) && live.get(k) !== expected.get(k))
      if (missing.length > 0) problems.push(`${site.id}: ${missing.length} acknowledged object(s) missing: ${missing.slice(0, 5).join(' ')}`)
      if (back.length > 0) problems.push(`${site.id}: ${back.length} deleted object(s) back: ${back.slice(0, 5).join(' ')}`)
      if (stale.length > 0) problems.push(`${site.id}: ${stale.length} object(s) not at their last write: ${stale.slice(0, 5).join(' ')}`)
      const src = this.peerOf(site)
      const notTailed = src.shards.filter(h => site.progress.get(h.shard)?.state !== 'incremental').map(h => h.shard)
      if (notTailed.length > 0) problems.push(`${site.id}: shard(s) of ${src.id} not in incremental sync: ${notTailed.join(' ')}`)
      const phantom = [...site.progress.keys()].filter(n => n >= src.shards.length)
      if (phantom.length > 0) problems.push(`${site.id}: progress for shard(s) ${src.id} does not have: ${phantom.join(' ')}`)
      if (this.mode === 'split-aware') {
        const untrimmed = site.shards.filter(h => h.floor < h.logSeq).length
        const tombs = [...site.heads.values()].filter(e => e.deleted).length
        if (untrimmed > 0) problems.push(`${site.id}: ${untrimmed} shard log(s) not trimmed to the head at quiescence`)
        if (tombs > 0) problems.push(`${site.id}: ${tombs} tombstone(s) not collected at quiescence`)
      }
    }
    return problems
  }
}

function atOf (r: Report): number {
  let at = 0
  for (const [, p] of r.positions) at = Math.max(at, p.at)
  return at
}

export function runTwoSite (seed: number, mode: TwoSiteMode, opts: { trace?: boolean } = {}): TwoSiteResult {
  seed = seed >>> 0
  const rng = new Rng(seed)
  const f = drawTwoSiteFaults(rng)
  const m = new TwoSiteModel(rng, f, mode)
  if (opts.trace === true) m.trace = [`seed ${seed} mode ${mode} faults ${JSON.stringify(f)}`]
  for (let i = 0; i < f.steps; i++) m.randomStep()
  const stuck = m.quiesce()
  const problems = stuck !== undefined ? [stuck, ...m.check()] : m.check()
  return { seed, ok: problems.length === 0, problems, stats: m.stats, trace: m.trace }
}
