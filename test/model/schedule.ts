/**
 * One seeded schedule of the protocol model test: a simulated source
 * (test/model/sim-source.ts) against the REAL target side (ObjectStore,
 * ProgressStore, ObjectTransfer, BucketSync, NoticeReceiver) on an in-memory
 * abstract-level DB (memory-level).
 *
 * Owns the target instances of a schedule and their crashes: every instance
 * reaches the DB through a fence; killing it makes all of its DB calls and
 * RPCs fail from that instant, its in-flight work is dropped unawaited, and
 * a new instance is opened over the same DB (state comes from the DB only).
 *
 * A schedule: draw a fault mix and a source prelude from the seed; then N
 * random target steps (round, tailStep(0), kill/restart, source bursts,
 * notice deliveries), with more source actions, faults and kills at every
 * RPC boundary; then quiesce (no faults, every split finished, pending
 * notices delivered, round + tailStep until nothing changes) and check
 * convergence: the target bucket equals the source's live objects (keys and
 * etags), and every source shard has a progress object in incremental state.
 */
import { MemoryLevel } from 'memory-level'
import pino from 'pino'
import type { SyncMode } from '../../node/config'
import { BucketSync } from '../../node/sync/bucket-sync'
import { NoticeReceiver } from '../../node/sync/notices'
import { RateLimiter } from '../../node/sync/rate-limiter'
import type { SourceClient } from '../../node/sync/source-client'
import { ObjectTransfer } from '../../node/sync/transfer'
import type { Database } from '../../storage/database'
import { ShardsyncError } from '../../storage/errors'
import { ObjectStore } from '../../storage/object-store'
import { ProgressStore } from '../../storage/progress-store'
import { routeKey } from '../../storage/routing'
import { Rng, SimSource, type Fence, type SimFaults, type SimStats } from './sim-source'

export const TARGET_SITE = 'tgt'
const MAX_QUIESCE_ROUNDS = 200
const MAX_CRASHES = 6
const silent = pino({ level: 'silent' })

/** In traced replays, the target's own log lines go into the event log too. */
function traceLogger (sim: SimSource): pino.Logger {
  const trace = sim.trace
  if (trace === undefined) return silent
  return pino({ level: 'info', base: undefined, timestamp: false }, {
    write (line: string): void {
      const { level: _l, msg, ...rest } = JSON.parse(line) as Record<string, unknown>
      sim.log(`  target: ${String(msg)} ${JSON.stringify(rest)}`)
    }
  })
}

export interface ScheduleOptions {
  mode: SyncMode
  /** Keep the event log (for replays). */
  trace?: boolean
  /** See SimFaults.echoAnyShard: forces it on (default: drawn per schedule). */
  echoAnyShard?: boolean
  /** Negative control: the source lists no tombstones (SimFaults.noTombstones). */
  noTombstones?: boolean
}

export interface ScheduleResult {
  seed: number
  ok: boolean
  problems: string[]
  stats: SimStats
  steps: number
  restarts: number
  targetErrors: number
  quiesceRounds: number
  trace?: string[]
}

interface TargetNode {
  fence: Fence
  killed: Promise<void>
  kill: () => void
  store: ObjectStore
  progress: ProgressStore
  client: SourceClient
  receiver: NoticeReceiver
  syncs: Map<string, BucketSync>
}

export function drawFaults (rng: Rng): SimFaults {
  return {
    pAction: 0.15 + 0.6 * rng.next(),
    maxActions: rng.between(1, 4),
    wWrite: 6,
    wDelete: 2,
    wSplit: rng.between(1, 6),
    wNotice: 2,
    wEcho: 0.4,
    pFail: rng.chance(0.25) ? 0 : 0.12 * rng.next(),
    pCrash: rng.chance(0.35) ? 0 : 0.05 * rng.next(),
    pDrop: rng.chance(0.3) ? 0 : 0.8 * rng.next(),
    pDup: rng.chance(0.4) ? 0 : 0.5 * rng.next(),
    pDelay: rng.chance(0.3) ? 0 : 0.7 * rng.next(),
    reorder: rng.chance(0.5),
    pageCap: rng.between(1, 4),
    pullCap: rng.between(1, 6),
    migratePage: rng.between(1, 4),
    maxShards: rng.between(3, 10),
    // Half the schedules echo target-made writes into shards still in full
    // sync too, where only a listed tombstone carries a later delete.
    echoAnyShard: rng.chance(0.5),
    noTombstones: false
  }
}

/** A DB handle that fails every call once its instance is killed. */
function fencedDb (db: Database, fence: Fence): Database {
  return new Proxy(db, {
    get (target, prop) {
      const v = Reflect.get(target, prop, target) as unknown
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => {
        if (fence.dead) throw ShardsyncError.nodeClosing()
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    }
  })
}

async function openTarget (raw: Database, sim: SimSource): Promise<TargetNode> {
  const log = traceLogger(sim)
  const fence: Fence = { dead: false }
  let fire: () => void = () => {}
  const killed = new Promise<void>(resolve => { fire = resolve })
  const db = fencedDb(raw, fence)
  const store = await ObjectStore.open(db, { siteId: TARGET_SITE, maxObjectBytes: 1 << 20, defaults: { initialShards: 1, splitThreshold: 1e9, autoSplit: false } })
  const progress = new ProgressStore(db)
  const client = sim.client(fence)
  const syncs = new Map<string, BucketSync>()
  const receiver = new NoticeReceiver({ progress, isPeer: s => s === sim.site, querySource: async (_site, bucket, shard) => await client.querySplitState(bucket, shard), onRecorded: n => syncs.get(n.bucketId)?.requestRound(n.srcShard), log })
  const node: TargetNode = {
    fence, killed, store, progress, client, receiver, syncs,
    kill: () => {
      if (fence.dead) return
      fence.dead = true
      store.close()
      fire()
    }
  }
  return node
}

/** Like PeerSync's discovery: a BucketSync per source bucket, found by ListBuckets. */
async function ensureSyncs (node: TargetNode, sim: SimSource, mode: SyncMode): Promise<BucketSync[]> {
  if (node.syncs.size < sim.buckets.length) {
    const log = traceLogger(sim)
    const transfer = new ObjectTransfer(node.store, node.client, new RateLimiter(0))
    for (const b of await node.client.listBuckets()) {
      if (node.syncs.has(b.id)) continue
      node.syncs.set(b.id, new BucketSync({ localSite: TARGET_SITE, client: node.client, store: node.store, progress: node.progress, transfer, mode, intervalMs: 1000, shardConcurrency: 4, log }, b))
    }
  }
  return [...node.syncs.values()]
}

async function listAll (store: ObjectStore, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  if (store.getBucket(bucket) === undefined) return out
  let after = ''
  for (;;) {
    const page = await store.listObjects(bucket, { startAfter: after, limit: 1000 })
    for (const o of page.objects) out.set(o.key, o.etag)
    if (page.nextStartAfter === '') return out
    after = page.nextStartAfter
  }
}

async function snapshot (node: TargetNode, sim: SimSource): Promise<string> {
  const parts: unknown[] = []
  for (const b of sim.buckets) {
    const recs = await node.progress.list(sim.site, b.id)
    parts.push(recs.map(r => [r.srcShard, r.state, r.marker, r.logStart, r.logCursor, r.newShards, r.pulledShards]))
    parts.push([...(await listAll(node.store, b.name))])
  }
  return JSON.stringify(parts)
}

async function drain (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

/**
 * A notice the source never sent, as any holder of a credential could send
 * it: the next shard number before its split, one past it, a shard still
 * being filled, or an absurd number. The target must change nothing durable
 * for it (the quiescence check finds progress objects of shards the source
 * does not have, and objects missed by listing a shard early).
 */
async function forgeNotice (node: TargetNode, sim: SimSource, rng: Rng): Promise<void> {
  if (node.fence.dead || sim.buckets.length === 0) return
  const b = rng.pick(sim.buckets)
  const src = rng.between(0, b.shards.length - 1)
  const n = rng.pick([b.shards.length, b.shards.length, b.shards.length + 1, b.shards.length - 1, 2 ** 31 - 1])
  if (n <= src) return
  const notice = `${sim.site}:${b.id}:${src}:${n}`
  sim.stats.noticesForged++
  sim.log(`forged notice ${notice}`)
  try {
    const r = await node.receiver.receive(notice, sim.site)
    sim.log(`forged notice ${notice} answered recorded=${String(r.recorded)}`)
  } catch (err) {
    sim.log(`forged notice ${notice} refused: ${err instanceof ShardsyncError ? err.code : String(err)}`)
  }
}

export async function runSchedule (seed: number, opts: ScheduleOptions): Promise<ScheduleResult> {
  seed = seed >>> 0
  const rng = new Rng(seed)
  const faults = drawFaults(rng)
  if (opts.echoAnyShard === true) faults.echoAnyShard = true
  faults.noTombstones = opts.noTombstones === true
  const sim = new SimSource(new Rng(seed ^ 0x9e3779b9), faults)
  if (opts.trace === true) sim.trace = [`seed ${seed} mode ${opts.mode} faults ${JSON.stringify(faults)}`]
  const mode = opts.mode
  const raw = new MemoryLevel<string, unknown>({ valueEncoding: 'json' }) as unknown as Database
  await raw.open()
  const probeStore = new ProgressStore(raw)
  let targetErrors = 0
  let restarts = 0

  // Source prelude: buckets, objects, maybe splits (done or still running) before the target starts.
  const nBuckets = rng.chance(0.25) ? 2 : 1
  for (let i = 0; i < nBuckets; i++) {
    const b = sim.createBucket(`bucket-${i}`, rng.between(1, 3), rng.between(8, 30))
    for (let w = rng.between(0, 20); w > 0; w--) sim.write(b, rng.pick(b.keys))
  }
  for (let a = rng.chance(0.5) ? rng.between(1, 8) : 0; a > 0; a--) await sim.splitStep(rng.pick(sim.buckets))

  let node = await openTarget(raw, sim)
  const restart = async (): Promise<void> => {
    node.kill()
    await drain()
    node = await openTarget(raw, sim)
    restarts++
    sim.log('target restarted')
  }
  sim.deliver = async (notice) => {
    if (node.fence.dead) throw ShardsyncError.upstreamUnavailable('target down')
    return await node.receiver.receive(notice, sim.site)
  }
  sim.onCrash = () => node.kill()
  sim.probe = async (bucketId, shard) => await probeStore.get(sim.site, bucketId, shard)
  sim.echoAtTarget = async (bucket, key, data, v) => {
    const n = node
    if (n.fence.dead || n.store.getBucket(bucket) === undefined) return false
    try {
      const up = n.store.beginReplicaUpload(bucket, key, v)
      await up.write(data)
      return (await up.finish()).applied
    } catch {
      return false
    }
  }

  /** Runs one target operation; if the instance is killed meanwhile, drops it unawaited and restarts. */
  const guarded = async (what: string, fn: (n: TargetNode) => Promise<unknown>): Promise<void> => {
    const n = node
    sim.log(`target ${what}`)
    sim.phase = what
    const settled = fn(n).then(() => 'ok', (err: unknown) => {
      targetErrors++
      sim.log(`target ${what} failed: ${err instanceof Error ? err.message : String(err)}`)
      return 'err'
    })
    await Promise.race([settled, n.killed])
    sim.phase = ''
    if (n.fence.dead && n === node) await restart()
  }
  const onSync = (what: string, fn: (s: BucketSync) => Promise<unknown>): Promise<void> =>
    guarded(what, async (n) => {
      const syncs = await ensureSyncs(n, sim, mode)
      if (syncs.length > 0) await fn(rng.pick(syncs))
    })

  const steps = rng.between(15, 50)
  for (let i = 0; i < steps; i++) {
    const r = rng.next()
    if (r < 0.45) await onSync('round', async s => await s.round(i % 2 === 0 ? 'due' : 'all'))
    else if (r < 0.8) await onSync('tailStep', async s => await s.tailStep(0))
    else if (r < 0.85) {
      if (sim.stats.crashes < MAX_CRASHES) { sim.stats.crashes++; sim.log('target killed between steps'); await restart() }
    } else if (r < 0.94) {
      for (let a = rng.between(1, 3); a > 0; a--) await sim.randomAction()
    } else if (r < 0.98) {
      await sim.deliverOne()
    } else {
      await forgeNotice(node, sim, rng)
    }
    if (sim.stats.crashes >= MAX_CRASHES) sim.onCrash = undefined
  }

  // Quiescence: no more faults; finish splits, deliver what is queued, then sync until nothing changes.
  sim.quiet = true
  if (node.fence.dead) await restart()
  await drain()
  await sim.settle()
  const problems: string[] = []
  let prev = ''
  let quiesceRounds = 0
  let lastErr = ''
  for (;;) {
    if (++quiesceRounds > MAX_QUIESCE_ROUNDS) { problems.push(`did not quiesce in ${MAX_QUIESCE_ROUNDS} rounds (last error: ${lastErr})`); break }
    try {
      const syncs = await ensureSyncs(node, sim, mode)
      for (const s of syncs) await s.round()
      for (const s of syncs) await s.tailStep(0)
      lastErr = syncs.map(s => s.counters.lastError ?? '').join(',')
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err)
    }
    const snap = await snapshot(node, sim)
    if (snap === prev) break
    prev = snap
  }

  for (const b of sim.buckets) {
    const expected = sim.liveObjects(b)
    const actual = await listAll(node.store, b.name)
    const where = (k: string): string => `${k}(shard ${routeKey(k, b.initialShards, b.shards)})`
    const missing = [...expected.keys()].filter(k => !actual.has(k))
    const extra = [...actual.keys()].filter(k => !expected.has(k))
    const stale = [...expected.keys()].filter(k => actual.has(k) && actual.get(k) !== expected.get(k))
    if (missing.length > 0) problems.push(`${b.name}: ${missing.length} object(s) missing at the target: ${missing.slice(0, 6).map(where).join(' ')}`)
    if (extra.length > 0) problems.push(`${b.name}: ${extra.length} object(s) deleted at the source still at the target: ${extra.slice(0, 6).map(where).join(' ')}`)
    if (stale.length > 0) problems.push(`${b.name}: ${stale.length} object(s) stale at the target: ${stale.slice(0, 6).map(where).join(' ')}`)
    const recs = new Map((await node.progress.list(sim.site, b.id)).map(r => [r.srcShard, r]))
    const notIncremental = b.shards.filter(s => recs.get(s.shard)?.state !== 'incremental').map(s => `${s.shard}:${recs.get(s.shard)?.state ?? 'none'}`)
    if (notIncremental.length > 0) problems.push(`${b.name}: shard(s) without an incremental progress object: ${notIncremental.join(' ')}`)
    const phantom = [...recs.keys()].filter(s => s >= b.shards.length)
    if (phantom.length > 0) problems.push(`${b.name}: progress object(s) for shard(s) the source does not have: ${phantom.join(' ')}`)
  }
  node.kill()
  await drain()
  await raw.close()
  return { seed, ok: problems.length === 0, problems, stats: sim.stats, steps, restarts, targetErrors, quiesceRounds, trace: sim.trace }
}
