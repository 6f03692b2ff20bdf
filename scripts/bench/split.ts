/**
 * Section 5: how long writes stall while a big shard splits.
 *
 * One node. Bucket "stall" is created with 1 shard and no auto-split, and
 * split once while still empty, so that it has shard 0 and a sibling shard 1
 * (keys whose first split bit is 1). N entries are loaded into shard 0 only
 * (keys are chosen by the public routing function, storage/routing.ts).
 * Bucket "other" (4 shards, no auto-split) is a different bucket.
 *
 * Three open-loop writers then run at a fixed rate each: into shard 0 (the
 * one that will split), into sibling shard 1 of the same bucket, and into
 * the other bucket. After a second, AdminService.SplitShard(stall, 0) is
 * called and timed; the writers go on for another second after it returns.
 * Reported per writer: the PUT latency of writes whose life overlapped the
 * split (max, p50, p99) and the max before the split.
 */
import { callUnary } from '../../node/rpc/clients'
import type { SplitShardResponse__Output } from '../../node/rpc/generated/shardsync/v1/SplitShardResponse'
import { keyHash, splitBit } from '../../storage/routing'
import type { NodeProcess } from '../lib/cluster'
import { BodyPool, H2Putter, noteProfiled, nodeEnv, profileEnv, Contention, procCpuSeconds, waitQuiet, type ContentionReport, listShardsOf, loadObjects, now, round, scratch, sleep, startNode, stopNodes, summarize, type BenchConfig } from './common'

export interface SplitOptions {
  entries: number
  /** PUTs per second of each writer. */
  rate: number
  nodeArgs: string[]
  loadConcurrency: number
  loadChannels: number
}

export interface WriterStats {
  writer: string
  puts: number
  duringSplit: ReturnType<typeof summarize>
  /** Max PUT latency of writes acknowledged before the split began (NaN if none were). */
  beforeSplitMaxMs: number
  errors: number
}

export interface SplitRun {
  entries: number
  moved: number
  splitSeconds: number
  loadSeconds: number
  rate: number
  writers: WriterStats[]
  /** Max PUT latency into the splitting shard, ms. */
  splittingShardMaxMs: number
  /** Max PUT latency into the sibling shard of the same bucket, ms. */
  siblingShardMaxMs: number
  /** Max PUT latency into another bucket, ms. */
  otherBucketMaxMs: number
  contention: ContentionReport
}

/** Keys `prefix + i` whose split bit 0 equals `bit`, i.e. that route to shard 0 (bit 0) or 1 (bit 1) of "stall". */
function keysWithBit (prefix: string, bit: number, count: number): string[] {
  const out: string[] = []
  for (let i = 0; out.length < count; i++) {
    const k = prefix + String(i).padStart(9, '0')
    if (splitBit(keyHash(k), 0) === bit) out.push(k)
  }
  return out
}

interface Sample { sent: number, acked: number }

export async function runSplit (cfg: BenchConfig, o: SplitOptions): Promise<SplitRun> {
  const s = scratch(cfg, 'split')
  let node: NodeProcess | undefined
  const closers: Array<() => void> = []
  try {
    node = await startNode(cfg, s, 'split', o.nodeArgs, nodeEnv(cfg, false))
    const n = node
    await callUnary(n.clients.object, 'CreateBucket', { name: 'stall', initialShards: 1, autoSplit: false })
    await callUnary(n.clients.admin, 'SplitShard', { bucket: 'stall', shard: 0 })
    await callUnary(n.clients.object, 'CreateBucket', { name: 'other', initialShards: 4, autoSplit: false })

    const loadKeys = keysWithBit('k-', 0, o.entries)
    cfg.log(`  [split] loading ${o.entries} entries into shard 0 of a 2-shard bucket`)
    const load = await loadObjects(n.address, 'stall', { count: o.entries, size: 100, concurrency: o.loadConcurrency, channels: o.loadChannels, key: i => loadKeys[i], log: cfg.log, label: 'split load' })
    const before = (await listShardsOf(n, 'stall')).shards
    if (Number(before[0].indexCount) !== o.entries) throw new Error(`shard 0 holds ${before[0].indexCount} entries, expected ${o.entries}`)
    // Fresh process for the measurement (and its CPU profile, with --profile).
    n.spec.env = profileEnv(cfg)
    await n.restart()
    noteProfiled(cfg, 'split/node', n)

    const h2 = [0, 1, 2].map(() => new H2Putter(n.address, 1))
    closers.push(() => { for (const c of h2) c.close() })
    const pool = new BodyPool(1024 * 1024)
    const perWriter = Math.ceil(o.rate * 60)
    const writers = [
      { name: 'splitting shard 0', bucket: 'stall', keys: keysWithBit('w0-', 0, perWriter) },
      { name: 'sibling shard 1 (same bucket)', bucket: 'stall', keys: keysWithBit('w1-', 1, perWriter) },
      { name: 'other bucket', bucket: 'other', keys: Array.from({ length: perWriter }, (_, i) => `w2-${i}`) }
    ]
    const samples: Sample[][] = writers.map(() => [])
    const errors = writers.map(() => 0)
    let stop = false
    const inflight: Array<Promise<void>> = []
    const runWriter = async (w: number): Promise<void> => {
      const t0 = now()
      for (let i = 0; !stop && i < writers[w].keys.length; i++) {
        const wait = t0 + i * 1000 / o.rate - now()
        if (wait > 1) await sleep(wait)
        const sent = now()
        inflight.push(h2[w].put(writers[w].bucket, writers[w].keys[i], pool.body(i, 100)).then(
          () => { samples[w].push({ sent, acked: now() }) },
          () => { errors[w]++ }))
      }
    }
    await waitQuiet(cfg, 'split')
    const cpu0 = procCpuSeconds(n.proc?.pid)
    const contention = new Contention()
    const loops = writers.map(async (_, w) => await runWriter(w))
    await sleep(1000)
    cfg.log('  [split] splitting shard 0 under write load')
    const splitStart = now()
    const res = await callUnary<object, SplitShardResponse__Output>(n.clients.admin, 'SplitShard', { bucket: 'stall', shard: 0 }, 300_000)
    const splitEnd = now()
    await sleep(1000)
    stop = true
    await Promise.all(loops)
    await Promise.all(inflight)
    const busy = contention.stop(procCpuSeconds(n.proc?.pid) - cpu0)

    const stats: WriterStats[] = writers.map((w, i) => {
      const during = samples[i].filter(x => x.acked >= splitStart && x.sent <= splitEnd).map(x => x.acked - x.sent)
      const beforeSplit = samples[i].filter(x => x.acked < splitStart).map(x => x.acked - x.sent)
      return {
        writer: w.name,
        puts: samples[i].length,
        duringSplit: summarize(during),
        beforeSplitMaxMs: beforeSplit.length > 0 ? round(Math.max(...beforeSplit)) : NaN,
        errors: errors[i]
      }
    })
    return {
      entries: o.entries,
      moved: Number(res.moved),
      splitSeconds: round((splitEnd - splitStart) / 1000, 3),
      loadSeconds: load.seconds,
      rate: o.rate,
      writers: stats,
      splittingShardMaxMs: stats[0].duringSplit.max,
      siblingShardMaxMs: stats[1].duringSplit.max,
      otherBucketMaxMs: stats[2].duringSplit.max,
      contention: busy
    }
  } finally {
    for (const c of closers) c()
    await stopNodes(node)
    s.cleanup()
  }
}
