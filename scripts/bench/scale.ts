/**
 * The scale run (issue 5, "Scale"): one bucket of many small objects at a
 * low split threshold, so that the source ends with over 1,000 shards at
 * several split depths; then a full sync to a fresh target, and
 * `shardsync verify` (a child process, as an operator would run it) must
 * report the two sites identical.
 *
 * Not a timing test: the figures (load and sync rates, shard counts, RSS)
 * are recorded, and the section fails if verify finds any difference.
 *
 * --scale-source DIR (for runs at 10M objects, whose load takes ~40 min):
 * the first run stores the loaded source's data directory in DIR (the node
 * stopped, so the copy is consistent) with a marker naming what was loaded;
 * a later run with the same count, size, shards and threshold starts its
 * source on a copy of it instead of loading again. Only the sync is
 * measured either way; loadSeconds is the stored run's.
 */
import fs from 'node:fs'
import path from 'node:path'
import { runCli } from '../lib/cluster'
import { nodeEnv, scratch, startNode, stopNodes, waitSplitsSettled, type BenchConfig } from './common'
import { BUCKET, loadUpTo, measureSync, startSource, type FullSyncOptions, type FullSyncRun, type LoadedSource } from './fullsync'

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
  const src = await loadedSource(cfg, opts)
  try {
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

interface StoredSource { count: number, size: number, shards: number, splitThreshold: number, loadSeconds: number, loadPerSecond: number }

/** The loaded source: loaded now, or copied from --scale-source (and stored there after a load). */
async function loadedSource (cfg: BenchConfig, o: FullSyncOptions): Promise<LoadedSource> {
  const store = cfg.scaleSource
  const marker = store === undefined ? undefined : path.join(store, 'loaded.json')
  const want = { count: o.count, size: o.size, shards: o.shards, splitThreshold: o.splitThreshold }
  if (marker !== undefined && fs.existsSync(marker)) {
    const stored = JSON.parse(fs.readFileSync(marker, 'utf8')) as StoredSource
    if (stored.count !== want.count || stored.size !== want.size || stored.shards !== want.shards || stored.splitThreshold !== want.splitThreshold) {
      throw new Error(`--scale-source ${String(store)} holds ${JSON.stringify(stored)}, not ${JSON.stringify(want)}`)
    }
    const s = scratch(cfg, `fullsync-${o.label}`)
    cfg.log(`  [${o.label}] copying the loaded source from ${String(store)}`)
    fs.cpSync(path.join(String(store), 'src-data'), path.join(s.dir, 'src-data'), { recursive: true })
    const source = await startNode(cfg, s, 'src', o.nodeArgs, nodeEnv(cfg, false))
    return { s, source, args: [...(source.spec.args ?? [])], loaded: stored.count, loadSeconds: stored.loadSeconds, loadPerSecond: stored.loadPerSecond }
  }
  const src = await startSource(cfg, o)
  try {
    await loadUpTo(cfg, src, o, o.count)
    if (store !== undefined && marker !== undefined) {
      await waitSplitsSettled(src.source, BUCKET)
      await src.source.stop()
      cfg.log(`  [${o.label}] storing the loaded source in ${store}`)
      fs.rmSync(path.join(store, 'src-data'), { recursive: true, force: true })
      fs.cpSync(src.source.dataDir, path.join(store, 'src-data'), { recursive: true })
      const stored: StoredSource = { ...want, loadSeconds: src.loadSeconds, loadPerSecond: src.loadPerSecond }
      fs.writeFileSync(marker, JSON.stringify(stored) + '\n')
      await src.source.restart()
    }
  } catch (err) {
    await stopNodes(src.source)
    src.s.cleanup()
    throw err
  }
  return src
}
