/**
 * The scale run (issue 5, "Scale"): one bucket of many small objects at a
 * low split threshold, so that the source ends with over 1,000 shards at
 * several split depths; then a full sync to a fresh target, and
 * `shardsync verify` (a child process, as an operator would run it) must
 * report the two sites identical.
 *
 * Not a timing test: the figures (load and sync rates, shard counts, RSS)
 * are recorded, and the section fails if verify finds any difference.
 */
import { runCli } from '../lib/cluster'
import { stopNodes, type BenchConfig } from './common'
import { BUCKET, loadUpTo, measureSync, startSource, type FullSyncRun } from './fullsync'

export interface ScaleRun extends FullSyncRun {
  verifySeconds: number
  /** The last line verify printed ("identical: ..." or "DIFFERENT: ..."). */
  verify: string
  identical: boolean
}

export async function runScale (cfg: BenchConfig, o: { count: number, size: number, shards: number, splitThreshold: number }): Promise<ScaleRun> {
  const opts = {
    label: 'scale',
    count: o.count,
    size: o.size,
    nodeArgs: ['--shards', String(o.shards), '--split-threshold', String(o.splitThreshold)],
    shards: o.shards,
    splitThreshold: o.splitThreshold,
    loadConcurrency: 256,
    loadChannels: 8,
    timeoutMs: 1_800_000
  }
  const src = await startSource(cfg, opts)
  try {
    await loadUpTo(cfg, src, opts, o.count)
    let verify = ''
    let code: number | null = null
    let verifySeconds = 0
    const run = await measureSync(cfg, src, opts, 'dst', async (source, target) => {
      cfg.log(`  [scale] synced; running shardsync verify --bucket ${BUCKET}`)
      const t0 = Date.now()
      const r = await runCli(['verify', '--source', source.address, '--target', target.address, '--bucket', BUCKET], { timeoutMs: 1_800_000 })
      verifySeconds = (Date.now() - t0) / 1000
      code = r.code
      verify = r.stdout.trim().split('\n').pop() ?? ''
      cfg.log(`  [scale] verify: ${verify} (${verifySeconds.toFixed(1)} s)`)
    })
    return { ...run, verify, verifySeconds: Math.round(verifySeconds * 10) / 10, identical: code === 0 && verify.startsWith('identical') }
  } finally {
    await stopNodes(src.source)
    src.s.cleanup()
  }
}
