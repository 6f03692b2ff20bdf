/**
 * Bench section "durability": the cost of --durability fsync. Two fresh
 * nodes in one run, one per mode, each loaded the same way (small objects
 * through LevelDB batches, then large ones through blob files), one after
 * the other so they do not compete; the figures are PUT throughputs and
 * the ratio fsync / default of each (1 = free, 0.1 = ten times slower).
 * Called by scripts/bench.ts.
 */
import { callUnary } from '../../node/rpc/clients'
import { type BenchConfig, loadObjects, nodeEnv, padKey, round, scratch, startNode, stopNodes } from './common'
import type { NodeProcess } from '../lib/cluster'

export interface DurabilityOptions { smallCount: number, smallBytes: number, largeCount: number, largeBytes: number, concurrency: number }

export interface DurabilityModeResult { smallPerSecond: number, largePerSecond: number, largeMiBPerSecond: number }

export interface DurabilityResult {
  options: DurabilityOptions
  default: DurabilityModeResult
  fsync: DurabilityModeResult
  /** fsync / default, per load. */
  smallRatio: number
  largeRatio: number
}

async function runMode (cfg: BenchConfig, mode: 'default' | 'fsync', o: DurabilityOptions): Promise<DurabilityModeResult> {
  const s = scratch(cfg, `durability-${mode}`)
  let node: NodeProcess | undefined
  try {
    node = await startNode(cfg, s, `dur-${mode}`, ['--durability', mode], nodeEnv(cfg, false))
    await callUnary(node.clients.object, 'CreateBucket', { name: 'dur', initialShards: 16, autoSplit: false })
    cfg.log(`  [durability] ${mode}: ${o.smallCount} x ${o.smallBytes} B, then ${o.largeCount} x ${o.largeBytes} B, ${o.concurrency} in flight`)
    const small = await loadObjects(node.address, 'dur', { count: o.smallCount, size: o.smallBytes, concurrency: o.concurrency, channels: 2, key: i => padKey('s-', i), log: cfg.log, label: `${mode} small` })
    const large = await loadObjects(node.address, 'dur', { count: o.largeCount, size: o.largeBytes, concurrency: Math.min(8, o.concurrency), channels: 2, key: i => padKey('l-', i), log: cfg.log, label: `${mode} large` })
    return { smallPerSecond: round(small.perSecond), largePerSecond: round(large.perSecond, 2), largeMiBPerSecond: round(large.perSecond * o.largeBytes / (1024 * 1024)) }
  } finally {
    await stopNodes(node)
    s.cleanup()
  }
}

export async function runDurability (cfg: BenchConfig, o: DurabilityOptions): Promise<DurabilityResult> {
  const def = await runMode(cfg, 'default', o)
  const fsync = await runMode(cfg, 'fsync', o)
  return {
    options: o,
    default: def,
    fsync,
    smallRatio: round(fsync.smallPerSecond / def.smallPerSecond, 3),
    largeRatio: round(fsync.largePerSecond / def.largePerSecond, 3)
  }
}
