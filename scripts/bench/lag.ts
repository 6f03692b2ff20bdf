/**
 * Section 4: incremental lag at a steady write rate.
 *
 * A pair is connected over an empty bucket and left until every source shard
 * is in incremental sync (the target logs 'shard entering incremental sync'
 * once per shard). Then one client writes 1 KiB objects to the source at a
 * fixed rate (open loop: object i is sent at t0 + i/rate whatever happened
 * to the ones before), and for every object the bench takes the time from
 * its acknowledged PUT to its arrival on the target. A warm-up phase at the
 * same rate comes first and is reported apart (fresh processes run cold
 * code at first); the measured phase starts once the target caught up.
 *
 * Arrival is observed by subscribing to the TARGET's own sync log: a
 * long-poll SyncService.PullChanges on the target's bucket, over all of its
 * shards. A replicated write appends its log entry in the same LevelDB batch
 * as its head and index entry, and PullChanges answers as soon as that batch
 * is durable (it waits on the store's 'log' event), so "in the target's log"
 * is "readable on the target", seen within one round trip. Its cost on the
 * target is one log read per answered batch, instead of a HeadObject per key
 * or a re-listing of the bucket.
 */
import type { PullChangesResponse__Output } from '../../node/rpc/generated/shardsync/v1/PullChangesResponse'
import type { SyncServiceClient } from '../../node/rpc/generated/shardsync/v1/SyncService'
import { waitFor, type NodeProcess } from '../lib/cluster'
import { callUnary } from '../../node/rpc/clients'
import { PauseMonitor } from './pause-monitor'
import { BodyPool, connectPair, H2Putter, noteProfiled, profileEnv, Contention, procCpuSeconds, readStalls, type Stalls, waitQuiet, type ContentionReport, listShardsOf, now, objectCount, padKey, percentile, round, scratch, sleep, startNode, stopNodes, summarize, type BenchConfig } from './common'

export interface LagOptions {
  rate: number
  seconds: number
  /** Writes at the same rate before the measurement, not measured. */
  warmupSeconds: number
  size: number
  nodeArgs: string[]
  /** CreateBucket initial shards (0 = node default). */
  shards: number
}

export interface LagRun {
  rate: number
  seconds: number
  warmupSeconds: number
  /** Lag during the warm-up (cold processes), for reference. */
  warmupLagMs: ReturnType<typeof summarize>
  written: number
  arrived: number
  missing: number
  achievedRate: number
  shards: number
  lagMs: ReturnType<typeof summarize>
  putLatencyMs: ReturnType<typeof summarize>
  method: string
  contention: ContentionReport
  /** Average cores used from the first write until the target caught up (or gave up). */
  cores: { source: number, target: number, bench: number }
  /** Per 500 ms from the first write: objects acknowledged by the source, and objects arrived on the target. */
  timeline: { binMs: number, acked: number[], arrived: number[] }
  /**
   * On the timeline's clock (seconds from the first write): when each
   * process's main thread stopped for over 100 ms, and the nodes' long
   * collections. A dip in `arrived` with none of these is waiting outside
   * JavaScript.
   */
  stalls: { source?: Stalls, target?: Stalls, bench: number[][] }
}

const BUCKET = 'lag'

/** Long-polls PullChanges on a node and reports every key that appears in its log. */
class LogSubscriber {
  private stopped = false
  private readonly loop: Promise<void>
  polls = 0

  constructor (private readonly client: SyncServiceClient, private readonly bucket: string, cursors: Map<number, number>, private readonly onKey: (key: string, at: number) => void) {
    this.loop = this.run(cursors)
  }

  errors = 0

  private async run (cursors: Map<number, number>): Promise<void> {
    while (!this.stopped) {
      let res: PullChangesResponse__Output
      try {
        res = await callUnary<object, PullChangesResponse__Output>(this.client, 'PullChanges', {
          bucket: this.bucket,
          cursors: [...cursors].map(([shard, afterSeq]) => ({ shard, afterSeq })),
          limit: 1000,
          waitMs: 500,
          excludeOrigin: 'bench-nobody'
        }, 10_000)
      } catch {
        // Counted, not fatal: a lost answer only delays what it would have reported.
        this.errors++
        if (!this.stopped) await sleep(100)
        continue
      }
      const at = now()
      this.polls++
      for (const e of res.entries) if (!e.deleted && e.info !== null) this.onKey(e.info.key, at)
      for (const p of res.positions) cursors.set(p.shard, Number(p.afterSeq))
      for (let s = cursors.size; s < res.shardCount; s++) cursors.set(s, 0)
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.loop
  }
}

export async function runLag (cfg: BenchConfig, o: LagOptions): Promise<LagRun> {
  const s = scratch(cfg, 'lag')
  let source: NodeProcess | undefined
  let target: NodeProcess | undefined
  const closers: Array<() => void> = []
  const stoppers: Array<() => Promise<void>> = []
  try {
    source = await startNode(cfg, s, 'src', o.nodeArgs, profileEnv(cfg))
    target = await startNode(cfg, s, 'dst', o.nodeArgs, profileEnv(cfg))
    const src = source
    const dst = target
    noteProfiled(cfg, 'lag/source', src)
    noteProfiled(cfg, 'lag/target', dst)
    await callUnary(src.clients.object, 'CreateBucket', { name: BUCKET, initialShards: o.shards })
    const shards = (await listShardsOf(src, BUCKET)).shards.length
    await connectPair(cfg, src, dst)
    await waitFor(async () => await objectCount(dst, BUCKET) >= 0, { what: 'bucket on target', timeoutMs: 60_000 })
    await waitFor(() => dst.logged('shard entering incremental sync').length >= shards, { what: 'all shards incremental', timeoutMs: 120_000, intervalMs: 100 })
    // connectOneWay also makes the source sync back from the target: let that full sync finish too.
    if (cfg.pairing === 'both') {
      const backShards = (await listShardsOf(dst, BUCKET)).shards.length
      await waitFor(() => src.logged('shard entering incremental sync').length >= backShards, { what: 'reverse sync incremental', timeoutMs: 120_000, intervalMs: 100 })
    }
    cfg.log(`  [lag] ${shards} shards in incremental sync; writing ${o.rate}/s for ${o.seconds}s`)

    const targetShards = (await listShardsOf(dst, BUCKET)).shards
    const acked = new Map<string, number>()
    const arrived = new Map<string, number>()
    const sub = new LogSubscriber(dst.clients.sync, BUCKET, new Map(targetShards.map(t => [t.shard, Number(t.logSeq)])), (key, at) => {
      if (!arrived.has(key)) arrived.set(key, at)
    })
    stoppers.push(async () => await sub.stop())
    await sleep(300)
    await waitQuiet(cfg, 'lag')

    const h2 = new H2Putter(src.address, 2)
    closers.push(() => h2.close())
    const pool = new BodyPool(4 * 1024 * 1024)

    /** Writes at o.rate for `seconds` (open loop), then waits (bounded) until the target has them all. */
    const phase = async (prefix: string, seconds: number): Promise<{ t0: number, writeSeconds: number, putLatency: number[], errors: number, keys: string[] }> => {
      const total = Math.round(o.rate * seconds)
      const putLatency: number[] = []
      const inflight: Array<Promise<void>> = []
      const keys: string[] = []
      let errors = 0
      const t0 = now()
      for (let i = 0; i < total; i++) {
        const due = t0 + i * 1000 / o.rate
        const wait = due - now()
        if (wait > 1) await sleep(wait)
        const key = padKey(prefix, i)
        keys.push(key)
        const sent = now()
        inflight.push(h2.put(BUCKET, key, pool.body(i, o.size)).then(() => {
          const at = now()
          acked.set(key, at)
          putLatency.push(at - sent)
        }, () => { errors++ }))
      }
      await Promise.all(inflight)
      const writeSeconds = (now() - t0) / 1000
      const deadline = now() + 30_000
      while (keys.some(k => acked.has(k) && !arrived.has(k)) && now() < deadline) await sleep(50)
      return { t0, writeSeconds, putLatency, errors, keys }
    }

    // Warm-up at the same rate (not measured): fresh processes run cold code
    // for the first second or so, which is not the steady state asked about.
    const warm = await phase('warm-', o.warmupSeconds)
    const warmLags = warm.keys.filter(k => arrived.has(k) && acked.has(k)).map(k => (arrived.get(k) as number) - (acked.get(k) as number))
    cfg.log(`  [lag] warm-up ${o.warmupSeconds}s: lag p50 ${round(percentile(warmLags, 50))} ms, max ${round(Math.max(0, ...warmLags))} ms; measuring ${o.seconds}s`)

    const cpuSrc0 = procCpuSeconds(src.proc?.pid)
    const cpuDst0 = procCpuSeconds(dst.proc?.pid)
    const cpuBench0 = process.cpuUsage()
    const contention = new Contention()
    const benchPauses = new PauseMonitor().start()
    const run = await phase('lag-', o.seconds)
    const { t0, writeSeconds, putLatency, errors } = run
    const cpuSrc = procCpuSeconds(src.proc?.pid) - cpuSrc0
    const cpuDst = procCpuSeconds(dst.proc?.pid) - cpuDst0
    const cpuBench = process.cpuUsage(cpuBench0)
    const busy = contention.stop(cpuSrc + cpuDst)
    const cores = {
      source: round(cpuSrc / busy.wallSeconds, 2),
      target: round(cpuDst / busy.wallSeconds, 2),
      bench: round((cpuBench.user + cpuBench.system) / 1e6 / busy.wallSeconds, 2)
    }
    await sub.stop()
    benchPauses.stop()
    const epoch0 = performance.timeOrigin + t0
    const stalls = {
      source: readStalls(cfg, src.proc?.pid, epoch0),
      target: readStalls(cfg, dst.proc?.pid, epoch0),
      bench: benchPauses.since(epoch0)
    }

    const bin = 500
    let last = t0
    for (const k of run.keys) last = Math.max(last, acked.get(k) ?? t0, arrived.get(k) ?? t0)
    const nb = Math.ceil((last - t0) / bin) + 1
    const timeline = { binMs: bin, acked: new Array<number>(nb).fill(0), arrived: new Array<number>(nb).fill(0) }
    const lags: number[] = []
    let written = 0
    for (const k of run.keys) {
      const a = acked.get(k)
      if (a === undefined) continue
      written++
      timeline.acked[Math.floor((a - t0) / bin)]++
      const got = arrived.get(k)
      if (got === undefined) continue
      timeline.arrived[Math.floor((got - t0) / bin)]++
      lags.push(got - a)
    }
    return {
      rate: o.rate,
      seconds: o.seconds,
      warmupSeconds: o.warmupSeconds,
      warmupLagMs: summarize(warmLags),
      written,
      arrived: lags.length,
      missing: written - lags.length + errors,
      achievedRate: Math.round(written / writeSeconds),
      shards,
      lagMs: summarize(lags),
      putLatencyMs: summarize(putLatency),
      method: `long-poll PullChanges on the target's own log (${sub.polls} polls, ${sub.errors} failed), arrival = answer received`,
      contention: busy,
      cores,
      timeline,
      stalls
    }
  } finally {
    for (const st of stoppers) await st()
    for (const c of closers) c()
    await stopNodes(target, source)
    s.cleanup()
  }
}

