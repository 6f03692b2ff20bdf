/**
 * Simulated SOURCE site for the protocol model test (test/model/).
 *
 * Owns everything on the source side of a schedule, in memory: buckets,
 * shard headers (UNSPLIT / SPLITTING / SPLIT_DONE, parent, children,
 * baseDepth), per-shard indexes, per-shard sequence-numbered logs that never
 * move, object heads and data, multi-step splits (begin -> migrate page by
 * page -> done), writes parked while their shard is SPLITTING, and the
 * outbox of split notices with its faults (drop, delay, duplicate, reorder).
 * Routing is the product's (storage/routing.ts), so a split moves exactly
 * the keys a real node would move.
 *
 * `client(fence)` is a SourceClient for one target instance. Every RPC is a
 * boundary where, drawn from the seeded PRNG, the source may act (writes,
 * deletes, split steps, notice deliveries), the target may be killed
 * (onCrash), or the call may fail with UPSTREAM_UNAVAILABLE. A killed
 * instance's fence is dead: all its calls reject.
 *
 * The semantics mirror node/source-api.ts and storage/: ListIndex pages by
 * marker in key order and is allowed while SPLITTING; PullChanges returns
 * entries after the cursors with positions, leaving out excludeOrigin but
 * moving positions past it; FetchObjects reads heads when called.
 */
import crypto from 'node:crypto'
import { formatNotice } from '../../node/sync/notices'
import type { FetchedObject, PullAnswer, SourceChange, SourceClient, SourceIndexPage, SourceObjectInfo, SourceShard, SplitStateAnswer } from '../../node/sync/source-client'
import { ShardsyncError } from '../../storage/errors'
import { clampLimit } from '../../storage/object-store'
import type { ProgressRecord } from '../../storage/progress-store'
import { compareVersions, type SplitStateName } from '../../storage/records'
import { keyHash, MAX_SPLIT_DEPTH, routeKey, splitBit } from '../../storage/routing'

/** mulberry32: small, fast, seedable. */
export class Rng {
  private s: number
  constructor (seed: number) { this.s = seed >>> 0 }
  next (): number {
    let t = (this.s = (this.s + 0x6D2B79F5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int (n: number): number { return Math.floor(this.next() * n) }
  between (lo: number, hi: number): number { return lo + this.int(hi - lo + 1) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (items: readonly T[]): T { return items[this.int(items.length)] }
}

/** A target instance's liveness: once dead, its RPCs and DB calls fail. */
export interface Fence { dead: boolean }

export interface SimFaults {
  /** Chance that the source acts at an RPC boundary, and at most how many actions. */
  pAction: number
  maxActions: number
  /** Action mix (relative weights). */
  wWrite: number
  wDelete: number
  wSplit: number
  wNotice: number
  wEcho: number
  /** Chance per boundary that the call fails UPSTREAM_UNAVAILABLE / the target is killed. */
  pFail: number
  pCrash: number
  /** Notice faults. */
  pDrop: number
  pDup: number
  pDelay: number
  reorder: boolean
  /** Page caps: ListIndex entries, PullChanges entries, keys scanned per migration step. */
  pageCap: number
  pullCap: number
  migratePage: number
  maxShards: number
  /** Echo target writes into any shard, even one still in full sync (reproduces a known limit; off by default). */
  echoAnyShard: boolean
  /** Negative control: the source lists no tombstones (full sync as before invariant 17). */
  noTombstones: boolean
}

/** Every fault off: the simulated source as a plain, well-behaved peer (override what a test needs). */
export const NO_FAULTS: Readonly<SimFaults> = Object.freeze({
  pAction: 0, maxActions: 0, wWrite: 0, wDelete: 0, wSplit: 0, wNotice: 0, wEcho: 0,
  pFail: 0, pCrash: 0, pDrop: 0, pDup: 0, pDelay: 0, reorder: false,
  pageCap: 1000, pullCap: 1000, migratePage: 1000, maxShards: 8, echoAnyShard: false, noTombstones: false
})

export interface SimStats {
  rpcs: number
  failures: number
  crashes: number
  crashesInFullSync: number
  writes: number
  deletes: number
  echoes: number
  parked: number
  splitsBegun: number
  splitsDone: number
  splitsOfUnstartedNewShards: number
  splitsWhileListed: number
  noticesSent: number
  noticesDropped: number
  noticesDelayed: number
  noticesDuplicated: number
  noticesReordered: number
  /** Notices a third party made up (sent to the target, never by the source). */
  noticesForged: number
}

export function emptyStats (): SimStats {
  return {
    rpcs: 0, failures: 0, crashes: 0, crashesInFullSync: 0, writes: 0, deletes: 0, echoes: 0, parked: 0, splitsBegun: 0, splitsDone: 0,
    splitsOfUnstartedNewShards: 0, splitsWhileListed: 0, noticesSent: 0, noticesDropped: 0, noticesDelayed: 0, noticesDuplicated: 0, noticesReordered: 0, noticesForged: 0
  }
}

export interface Version { size: number, etag: string, mtime: number, site: string }
/** An index entry: a live version or, with deleted, a tombstone. */
interface IndexVersion extends Version { deleted?: boolean }
interface Head extends Version { deleted: boolean, data?: Buffer }
interface LogEntry extends Version { seq: number, key: string, deleted: boolean }
interface Write { kind: 'put' | 'delete', key: string, data?: Buffer, origin?: Version }

export interface SimShard {
  shard: number
  state: SplitStateName
  parent: number
  children: number[]
  baseDepth: number
  index: Map<string, IndexVersion>
  log: LogEntry[]
  splitTo?: number
  splitDepth?: number
  migrateAfter?: string
}

export interface SimBucket {
  name: string
  id: string
  initialShards: number
  shards: SimShard[]
  heads: Map<string, Head>
  parked: Write[]
  keys: string[]
}

interface Pending { notice: string, due: number }

const FETCH_MAX_KEYS = 1000

export class SimSource {
  readonly site = 'src'
  readonly buckets: SimBucket[] = []
  readonly stats = emptyStats()
  /** Quiescent phase: no faults, no actions at boundaries, no page caps on pulls. */
  quiet = false
  /** Delivers a notice to the current target instance (NoticeReceiver.receive). */
  deliver: ((notice: string) => Promise<unknown>) | undefined
  /** Kills the current target instance. */
  onCrash: ((rpc: string) => void) | undefined
  /** Coverage only: the target's progress object of a shard, read without side effects. */
  probe: ((bucketId: string, shard: number) => Promise<ProgressRecord | undefined>) | undefined
  /** Writes a version of an object at the target as if made there; false if it did not land. */
  echoAtTarget: ((bucket: string, key: string, data: Buffer, v: Version) => Promise<boolean>) | undefined
  /** What the target is doing now ('round', 'tailStep', ...), for coverage counts. */
  phase = ''
  /** Event log of the schedule, kept only when replaying one. */
  trace: string[] | undefined
  private clock = 0
  private tick = 0
  private outbox: Pending[] = []

  constructor (private readonly rng: Rng, readonly faults: SimFaults) {}

  log (line: string): void { this.trace?.push(`[${this.tick}] ${line}`) }

  createBucket (name: string, initialShards: number, keyCount: number): SimBucket {
    const shards: SimShard[] = []
    for (let s = 0; s < initialShards; s++) shards.push({ shard: s, state: 'UNSPLIT', parent: -1, children: [], baseDepth: 0, index: new Map(), log: [] })
    const keys = Array.from({ length: keyCount }, (_, i) => `k${String(i).padStart(3, '0')}`)
    const b: SimBucket = { name, id: `b${this.rng.int(1e9).toString(36)}x${this.buckets.length}`, initialShards, shards, heads: new Map(), parked: [], keys }
    this.buckets.push(b)
    return b
  }

  // ---- source mutations -------------------------------------------------

  private applyWrite (b: SimBucket, w: Write): void {
    const shard = routeKey(w.key, b.initialShards, b.shards)
    const h = b.shards[shard]
    if (h.state === 'SPLITTING') { b.parked.push(w); this.stats.parked++; return }
    const old = b.heads.get(w.key)
    const live = old !== undefined && !old.deleted
    let v: Version
    if (w.origin !== undefined) {
      if (old !== undefined && compareVersions(w.origin, old) <= 0) return
      v = w.origin
    } else {
      if (w.kind === 'delete' && !live) return
      const mtime = Math.max(++this.clock, (old?.mtime ?? 0) + 1)
      this.clock = mtime
      v = w.kind === 'put'
        ? { size: (w.data as Buffer).length, etag: md5(w.data as Buffer), mtime, site: this.site }
        : { size: 0, etag: '', mtime, site: this.site }
    }
    if (w.kind === 'put') {
      b.heads.set(w.key, { ...v, deleted: false, data: w.data })
      h.index.set(w.key, { ...v })
    } else {
      // As the real store: the index keeps a tombstone entry.
      b.heads.set(w.key, { ...v, deleted: true })
      h.index.set(w.key, { ...v, deleted: true })
    }
    h.log.push({ ...v, seq: h.log.length + 1, key: w.key, deleted: w.kind === 'delete' })
    this.log(`${w.kind} ${b.name}/${w.key} -> shard ${shard} seq ${h.log.length} mtime ${v.mtime} site ${v.site}`)
  }

  write (b: SimBucket, key: string): void {
    this.stats.writes++
    this.applyWrite(b, { kind: 'put', key, data: Buffer.from(`${key}@${this.clock + 1}#${this.rng.int(1e6)}`) })
  }

  remove (b: SimBucket, key: string): void {
    this.stats.deletes++
    this.applyWrite(b, { kind: 'delete', key })
  }

  /** A write made at the target and replicated here (origin = the target's site): its log entries are left out for that target. */
  async echo (b: SimBucket, key: string, targetSite: string): Promise<void> {
    if (this.echoAtTarget === undefined || this.probe === undefined) return
    // With echoAnyShard, also into a shard still in full sync: a target-made
    // object the source then deletes before the shard's logStart is seen by
    // the target only as a tombstone in the listing (invariant 17).
    const rec = await this.probe(b.id, routeKey(key, b.initialShards, b.shards)).catch(() => undefined)
    if (rec?.state !== 'incremental' && !this.faults.echoAnyShard) return
    const data = Buffer.from(`${key}@echo${this.clock + 1}`)
    const v: Version = { size: data.length, etag: md5(data), mtime: ++this.clock, site: targetSite }
    if (!await this.echoAtTarget(b.name, key, data, v)) return
    this.stats.echoes++
    this.applyWrite(b, { kind: 'put', key, data, origin: v })
  }

  private beingFilled (b: SimBucket, shard: number): boolean {
    return b.shards.some(s => s.state === 'SPLITTING' && s.splitTo === shard)
  }

  splittable (b: SimBucket): SimShard[] {
    if (b.shards.length >= this.faults.maxShards) return []
    return b.shards.filter(s => s.state !== 'SPLITTING' && !this.beingFilled(b, s.shard) && s.baseDepth + s.children.length < MAX_SPLIT_DEPTH)
  }

  async beginSplit (b: SimBucket, s: SimShard): Promise<void> {
    // One synchronous step (no await before it): concurrent boundaries must not begin the same split twice.
    const depth = s.baseDepth + s.children.length
    const n = b.shards.length
    s.state = 'SPLITTING'
    s.splitTo = n
    s.splitDepth = depth
    s.migrateAfter = ''
    b.shards.push({ shard: n, state: 'UNSPLIT', parent: s.shard, children: [], baseDepth: depth + 1, index: new Map(), log: [] })
    this.stats.splitsBegun++
    this.log(`split begin ${b.name} shard ${s.shard} -> ${n} (bit ${depth})`)
    if (this.probe !== undefined && !this.quiet) {
      const rec = await this.probe(b.id, s.shard).catch(() => undefined)
      if (rec === undefined && s.parent >= 0) this.stats.splitsOfUnstartedNewShards++
      if (rec !== undefined && rec.state === 'full' && rec.marker !== '') this.stats.splitsWhileListed++
    }
  }

  /** One migration page; the last step (nothing left to scan) marks SPLIT_DONE. */
  migrateStep (b: SimBucket, s: SimShard): void {
    const to = b.shards[s.splitTo as number]
    const after = s.migrateAfter ?? ''
    const page = [...s.index.keys()].filter(k => k > after).sort().slice(0, this.faults.migratePage)
    if (page.length === 0) { this.finishSplit(b, s); return }
    s.migrateAfter = page[page.length - 1]
    let moved = 0
    for (const key of page) {
      if (splitBit(keyHash(key), s.splitDepth as number) !== 1) continue
      to.index.set(key, s.index.get(key) as Version)
      s.index.delete(key)
      moved++
    }
    this.log(`split migrate ${b.name} shard ${s.shard} -> ${to.shard}: scanned ${page.length}, moved ${moved}`)
  }

  private finishSplit (b: SimBucket, s: SimShard): void {
    const n = s.splitTo as number
    s.state = 'SPLIT_DONE'
    s.children.push(n)
    delete s.splitTo; delete s.splitDepth; delete s.migrateAfter
    this.stats.splitsDone++
    this.log(`split done ${b.name} shard ${s.shard} -> ${n}`)
    this.queueNotice(formatNotice({ site: this.site, bucketId: b.id, srcShard: s.shard, newShard: n }))
    const parked = b.parked
    b.parked = []
    for (const w of parked) this.applyWrite(b, w)
  }

  private queueNotice (notice: string): void {
    const f = this.faults
    if (!this.quiet && this.rng.chance(f.pDrop)) { this.stats.noticesDropped++; this.log(`notice dropped ${notice}`); return }
    const delayed = !this.quiet && this.rng.chance(f.pDelay)
    if (delayed) this.stats.noticesDelayed++
    this.outbox.push({ notice, due: this.tick + (delayed ? this.rng.between(1, 30) : 0) })
    if (!this.quiet && this.rng.chance(f.pDup)) {
      this.stats.noticesDuplicated++
      this.outbox.push({ notice, due: this.tick + this.rng.between(0, 30) })
    }
  }

  /** The sender's attempt at one due notice; kept on any error but INVALID_NOTICE (as NoticeSender). */
  async deliverOne (ignoreDue = false): Promise<boolean> {
    const due = this.outbox.filter(p => ignoreDue || p.due <= this.tick)
    if (due.length === 0 || this.deliver === undefined) return false
    let p = due[0]
    if (this.faults.reorder && !this.quiet && due.length > 1) {
      p = this.rng.pick(due)
      if (p !== due[0]) this.stats.noticesReordered++
    }
    try {
      await this.deliver(p.notice)
      this.stats.noticesSent++
      this.log(`notice delivered ${p.notice}`)
    } catch (err) {
      if (!(err instanceof ShardsyncError && err.code === 'INVALID_NOTICE')) { this.log(`notice not acked ${p.notice}`); return false }
      this.log(`notice refused ${p.notice}: ${err.message}`)
    }
    const i = this.outbox.indexOf(p)
    if (i >= 0) this.outbox.splice(i, 1)
    return true
  }

  /** One random source action. */
  async randomAction (): Promise<void> {
    const f = this.faults
    const b = this.rng.pick(this.buckets)
    const total = f.wWrite + f.wDelete + f.wSplit + f.wNotice + f.wEcho
    let r = this.rng.next() * total
    if ((r -= f.wWrite) < 0) { this.write(b, this.rng.pick(b.keys)); return }
    if ((r -= f.wDelete) < 0) {
      const live = b.keys.filter(k => b.heads.get(k)?.deleted === false)
      if (live.length > 0) this.remove(b, this.rng.pick(live))
      return
    }
    if ((r -= f.wSplit) < 0) { await this.splitStep(b); return }
    if ((r -= f.wNotice) < 0) { await this.deliverOne(); return }
    await this.echo(b, this.rng.pick(b.keys), 'tgt')
  }

  /** Advances a running split of the bucket, or begins one. */
  async splitStep (b: SimBucket): Promise<void> {
    const running = b.shards.filter(s => s.state === 'SPLITTING')
    if (running.length > 0 && this.rng.chance(0.8)) { this.migrateStep(b, this.rng.pick(running)); return }
    const candidates = this.splittable(b)
    if (candidates.length > 0) await this.beginSplit(b, this.rng.pick(candidates))
  }

  /** Quiescence: every split finished, every queued notice delivered once. */
  async settle (): Promise<void> {
    for (const b of this.buckets) {
      for (let s = b.shards.find(x => x.state === 'SPLITTING'); s !== undefined; s = b.shards.find(x => x.state === 'SPLITTING')) this.migrateStep(b, s)
    }
    for (let guard = 0; this.outbox.length > 0 && guard < 1000; guard++) {
      if (!await this.deliverOne(true)) break
    }
  }

  liveObjects (b: SimBucket): Map<string, string> {
    const out = new Map<string, string>()
    for (const [k, h] of b.heads) if (!h.deleted) out.set(k, h.etag)
    return out
  }

  // ---- RPC boundary -----------------------------------------------------

  private async boundary (fence: Fence, rpc: string): Promise<void> {
    if (fence.dead) throw killed()
    this.tick++
    if (this.quiet) return
    const f = this.faults
    if (this.rng.chance(f.pAction)) {
      const n = this.rng.between(1, f.maxActions)
      for (let i = 0; i < n; i++) await this.randomAction()
    }
    if (this.rng.chance(f.pCrash) && this.onCrash !== undefined && !fence.dead) {
      this.stats.crashes++
      if (this.phase === 'round' && ['QuerySplitState', 'ListIndex', 'FetchObjects'].includes(rpc)) this.stats.crashesInFullSync++
      this.log(`target killed at ${rpc}`)
      this.onCrash(rpc)
    }
    if (fence.dead) throw killed()
    if (this.rng.chance(f.pFail)) {
      this.stats.failures++
      this.log(`rpc ${rpc} fails`)
      throw ShardsyncError.upstreamUnavailable(`${rpc}: injected fault`)
    }
  }

  private bucket (name: string): SimBucket {
    const b = this.buckets.find(x => x.name === name)
    if (b === undefined) throw ShardsyncError.bucketNotFound(name)
    return b
  }

  private shard (b: SimBucket, shard: number): SimShard {
    if (!Number.isInteger(shard) || shard < 0 || shard >= b.shards.length) throw ShardsyncError.shardNotFound(b.name, shard)
    return b.shards[shard]
  }

  /** A SourceClient for one target instance; calls before and after the answer is made are boundaries. */
  client (fence: Fence): SourceClient {
    const sim = this
    const call = async <T>(rpc: string, answer: () => T): Promise<T> => {
      sim.stats.rpcs++
      await sim.boundary(fence, rpc)
      const a = answer()
      await sim.boundary(fence, rpc)
      return a
    }
    return {
      peerId: sim.site,
      listBuckets: async () => await call('ListBuckets', () => sim.buckets.map(b => ({ name: b.name, id: b.id, shardCount: b.shards.length }))),
      listShards: async (bucket) => await call('ListShards', () => {
        const b = sim.bucket(bucket)
        return { bucketId: b.id, shards: b.shards.map(toSourceShard) }
      }),
      querySplitState: async (bucket, shard) => await call('QuerySplitState', (): SplitStateAnswer => {
        const b = sim.bucket(bucket)
        const s = sim.shard(b, shard)
        return { state: s.state, newShards: [...s.children], logSeq: s.log.length, bucketId: b.id, shardCount: b.shards.length, filling: s.parent >= 0 && !b.shards[s.parent].children.includes(shard) }
      }),
      listIndex: async (bucket, shard, marker, limit, includeDeleted) => await call('ListIndex', () => sim.listIndex(bucket, shard, marker, limit, includeDeleted === true && !sim.faults.noTombstones)),
      fetchObjects: (bucket, keys) => sim.fetch(fence, bucket, keys),
      pullChanges: async (bucket, cursors, opts) => await call('PullChanges', () => sim.pull(bucket, cursors, opts)),
      notifyReshardComplete: async () => ({ recorded: false }),
      reportPositions: async () => {},
      close: () => {}
    }
  }

  private listIndex (bucket: string, shard: number, marker: string, limit: number, includeDeleted: boolean): SourceIndexPage {
    const s = this.shard(this.bucket(bucket), shard)
    const n = Math.min(clampLimit(limit), this.faults.pageCap)
    const keys = [...s.index.keys()].filter(k => marker === '' || k > marker).sort().slice(0, n)
    const entries: SourceObjectInfo[] = []
    const tombstones: SourceObjectInfo[] = []
    for (const k of keys) {
      const { deleted, ...v } = s.index.get(k) as IndexVersion
      if (deleted !== true) entries.push({ key: k, ...v })
      else if (includeDeleted) tombstones.push({ key: k, ...v })
    }
    return { entries, tombstones, nextMarker: keys.length === n ? keys[keys.length - 1] : '' }
  }

  private pull (bucket: string, cursors: Array<{ shard: number, afterSeq: number }>, opts: { limit: number, excludeOrigin: string }): PullAnswer {
    const b = this.bucket(bucket)
    for (const c of cursors) {
      this.shard(b, c.shard)
      if (!Number.isSafeInteger(c.afterSeq) || c.afterSeq < 0) throw ShardsyncError.invalidArgument('after_seq must be a non-negative integer')
    }
    let budget = this.quiet ? clampLimit(opts.limit) : Math.min(clampLimit(opts.limit), this.faults.pullCap)
    const entries: SourceChange[] = []
    const positions: Array<{ shard: number, seq: number }> = []
    const start = cursors.length > 0 ? this.rng.int(cursors.length) : 0
    for (let i = 0; i < cursors.length; i++) {
      const c = cursors[(start + i) % cursors.length]
      const log = b.shards[c.shard].log
      let pos = c.afterSeq
      while (budget > 0 && pos < log.length) {
        const e = log[pos]
        pos = e.seq
        budget--
        if (e.site === opts.excludeOrigin) continue
        entries.push({ shard: c.shard, seq: e.seq, deleted: e.deleted, info: { key: e.key, size: e.size, etag: e.etag, mtime: e.mtime, site: e.site } })
      }
      positions.push({ shard: c.shard, seq: pos })
    }
    return { entries, positions, shardCount: b.shards.length }
  }

  private async * fetch (fence: Fence, bucket: string, keys: string[]): AsyncGenerator<FetchedObject> {
    this.stats.rpcs++
    await this.boundary(fence, 'FetchObjects')
    const b = this.bucket(bucket)
    if (keys.length > FETCH_MAX_KEYS) throw ShardsyncError.invalidArgument(`at most ${FETCH_MAX_KEYS} keys per FetchObjects call`)
    const heads = keys.map(k => b.heads.get(k))
    for (let i = 0; i < keys.length; i++) {
      if (fence.dead) throw killed()
      if (i > 0 && !this.quiet && this.rng.chance(this.faults.pFail / 4)) {
        this.stats.failures++
        throw ShardsyncError.upstreamUnavailable('FetchObjects: stream broken by injected fault')
      }
      const h = heads[i]
      if (h === undefined || h.deleted) { yield { key: keys[i], missing: true, data: Buffer.alloc(0) }; continue }
      yield { key: keys[i], missing: false, info: { key: keys[i], size: h.size, etag: h.etag, mtime: h.mtime, site: h.site }, data: Buffer.from(h.data as Buffer) }
    }
  }
}

function toSourceShard (s: SimShard): SourceShard {
  return { shard: s.shard, state: s.state, parent: s.parent, children: [...s.children], indexCount: s.index.size, logSeq: s.log.length, logFloor: 0 }
}

function killed (): ShardsyncError {
  return ShardsyncError.upstreamUnavailable('target instance was killed')
}

export function md5 (data: Buffer): string {
  return crypto.createHash('md5').update(data).digest('hex')
}
