/**
 * `npm run bench`: shardsync's performance figures, measured in one go on
 * one machine, printed as a table and written as JSON (bench/results.json,
 * or --out PATH).
 *
 *   1. baseline    bare streamed copy of N x 1 KiB between two Node
 *                  processes, LevelDB batches: raw TCP (the yardstick),
 *                  and one gRPC stream (1 message/object, 64 KiB messages)
 *      rclone      `rclone copy` of the same N objects as files between two
 *                  local directories, --transfers tuned (the peer a user
 *                  would reach for; scripts/bench/rclone.ts)
 *   2. fullsync    shardsync full sync of the same N objects from a source
 *                  bucket split into many shards, once per full-sync path
 *                  (stream, then list; one loaded source); the stream's
 *                  ratios to the baseline (rate, CPU per object) and to
 *                  rclone are judged (scripts/bench/ratios.ts), and each
 *                  path's disk writes and stored records per object shown
 *   3. large       full sync of 8 MiB objects, MiB/s; yardstick of the
 *                  same run: the same files copied bare over TCP, each
 *                  fdatasync'ed (see baseline-peer.ts, tcp-files)
 *   4. lag         incremental lag at 5,000 writes/s: p50, p99, max
 *   5. split       write stall while a big shard splits
 *   6. memory      peak RSS of both nodes during full syncs of two sizes
 *   7. scale       one bucket of 1,000,000 objects at split threshold 1000
 *                  (over 1,000 shards): full sync, then verify = identical
 *   8. durability  PUT throughput with --durability fsync against default
 *   9. s3          S3 PUT and GET of 1 KiB and 64 MiB objects against the
 *                  gRPC path on the same node, as ratios S3 / gRPC
 *
 * Flags: --quick (every section at a smaller size, for everyday use: under
 * a minute in all; its figures are for spotting regressions, not for the
 * targets), --out PATH, --only a,b,... (sections by the names above),
 * --profile DIR (V8 CPU profiles of the measured node processes, summarized
 * at the end with each one's main-thread time on a core and waiting for
 * one; slows them down, so figures of such a run are not comparable;
 * combine with --only), --keep (keep scratch data and node logs),
 * --scale-source DIR (the scale section stores its loaded source in DIR, or
 * starts from the one stored there: a 10M load takes ~40 min; scale.ts),
 * --quiet-wait S (before each measurement wait up to S seconds for the
 * machine to be idle; default 10, quick 0, 0 = never wait). Every section
 * also records how many cores other processes used while it measured
 * ("contention"), since figures from a shared machine are only as good as
 * that number is small. --set name=value overrides a parameter (see
 * params(); e.g. --set lagRate=1000, --set memoryCounts=200000:50000).
 * --node-env NAME=VALUE adds to the environment of every node process (for
 * experiments such as MALLOC_ARENA_MAX=2 or UV_THREADPOOL_SIZE=8); the JSON
 * records it. --node-arg --FLAG=VALUE adds one flag to the command line of
 * every measured node, after the section's own (for trying a node option
 * against the defaults, e.g. --node-arg --heap-growth-percent=300); the
 * JSON records them too. --repeat N runs the whole bench N times (each run
 * a child process with the other flags, its JSON in <out>.run-<i>.json),
 * then prints and writes (<out>) every judged figure of the runs with its
 * median: the targets are stated as medians over at least 3 runs.
 * --repeat N --leveldb-ab runs each of the N runs twice in a row, on the
 * patched LevelDB build and on the stock prebuilt binary (PREBUILDS_ONLY=1),
 * and prints the medians of both (docs/performance.md, What the LevelDB
 * patches buy).
 * --pairing target: AddPeer on the target only instead of connectOneWay
 * (both), to see what the source's sync back from the target costs.
 * --bound target|both (with --only baseline,fullsync or --only large; the stream path only): the experiment of
 * scripts/bench/bound-preload.ts, which takes the target's storage work
 * beyond the bare copy's (target) or also the source's reads (both) out of
 * full sync, to measure what bounds the ratio; not a sync, so no target is
 * judged.
 *
 * Each section lives in scripts/bench/*.ts; see there for how it measures.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DEFAULT_NODE_OPTIONS } from '../node/config'
import { runBaseline, type BaselineRun, type Transport } from './bench/baseline'
import { leveldbPatches } from '../storage/database'
import { machine, now, round, type BenchConfig, type ContentionReport } from './bench/common'
import { runFullSync, runFullSyncPaths, runGrowingSyncs, type FullSyncRun } from './bench/fullsync'
import { fullSyncRatios } from './bench/ratios'
import { runRclone, type RcloneRun } from './bench/rclone'
import { runLag } from './bench/lag'
import { printSummary, summarizeProfiles } from './bench/profile'
import { runScale } from './bench/scale'
import { summarizeRuns, type Report } from './bench/repeat'
import { runSplit } from './bench/split'
import { runDurability } from './bench/durability'
import { runS3Bench } from './bench/s3'
import { applyOverrides, FULL_SYNC_PATHS, overrides, params, SECTIONS, TARGETS } from './bench/params'
import { fmt, printTable, type Row } from './bench/table'

/** The node defaults that shape the figures, recorded in meta (--node-arg overrides show in nodeArgs). */
const NODE_DEFAULTS = {
  heapGrowthPercent: DEFAULT_NODE_OPTIONS.heapGrowthPercent,
  syncShardConcurrency: DEFAULT_NODE_OPTIONS.syncShardConcurrency,
  dbMaxOpenFiles: DEFAULT_NODE_OPTIONS.dbMaxOpenFiles,
  dbCacheMiB: DEFAULT_NODE_OPTIONS.dbCacheMiB
}


function parseArgs (argv: string[]): BenchConfig {
  let quick = false
  let out = path.join(__dirname, '..', '..', 'bench', 'results.json')
  let only = new Set<string>()
  let profileDir: string | undefined
  let keep = false
  let scaleSource: string | undefined
  let quietWait: number | undefined
  const nodeEnvs: Record<string, string> = {}
  const nodeArgs: string[] = []
  let pairing: 'both' | 'target' = 'both'
  let bound: 'target' | 'both' | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    if (a === '--quick') quick = true
    else if (a === '--out') out = path.resolve(value())
    else if (a === '--only') only = new Set(value().split(',').map(x => x.trim()).filter(x => x !== ''))
    else if (a === '--profile') profileDir = path.resolve(value())
    else if (a === '--keep') keep = true
    else if (a === '--scale-source') scaleSource = path.resolve(value())
    else if (a === '--pairing') {
      const v = value()
      if (v !== 'both' && v !== 'target') throw new Error('--pairing is both or target')
      pairing = v
    } else if (a === '--bound') {
      const v = value()
      if (v !== 'both' && v !== 'target') throw new Error('--bound is target or both')
      bound = v
    } else if (a === '--node-env') {
      const v = value()
      const eq = v.indexOf('=')
      if (eq <= 0) throw new Error('--node-env needs NAME=VALUE')
      nodeEnvs[v.slice(0, eq)] = v.slice(eq + 1)
    } else if (a === '--node-arg') {
      const v = value()
      if (!v.startsWith('--')) throw new Error('--node-arg takes one node flag, such as --node-arg --heap-growth-percent=300')
      nodeArgs.push(v)
    } else if (a === '--set') {
      const [k, v] = value().split('=')
      overrides.push([k, v])
    } else if (a === '--quiet-wait') {
      quietWait = Number(value()) * 1000
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run bench -- [--quick] [--out PATH] [--only ' + SECTIONS.join(',') + '] [--repeat N [--leveldb-ab]] [--profile DIR] [--keep] [--scale-source DIR] [--quiet-wait SECONDS] [--set param=value ...] [--node-env NAME=VALUE ...] [--node-arg --FLAG=VALUE ...] [--pairing both|target] [--bound target|both]\n')
      process.exit(0)
    } else throw new Error(`unknown flag ${a}`)
  }
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(', ')}`)
  if (bound !== undefined && (!(only.has('fullsync') || only.has('large')) || [...only].some(s => s !== 'fullsync' && s !== 'baseline' && s !== 'large'))) {
    throw new Error('--bound is an experiment on full sync: use it with --only fullsync, --only baseline,fullsync or --only large')
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-'))
  const started = now()
  return {
    quick,
    out,
    only,
    profileDir,
    profiled: new Map(),
    nodeEnv: nodeEnvs,
    nodeArgs,
    pairing,
    bound,
    keep,
    scaleSource,
    quietMaxWaitMs: quietWait ?? (quick ? 0 : 10_000),
    root,
    log: (line) => process.stderr.write(`[${((now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`)
  }
}

/**
 * --repeat N: the whole bench N times, each a child process with the other
 * flags as given and its own JSON (<out>.run-<i>.json); then the judged
 * figures of every run with their medians (scripts/bench/repeat.ts), as a
 * table and as <out>.
 */
async function runRepeated (argv: string[], at: number): Promise<void> {
  const n = Number(argv[at + 1])
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error('--repeat takes a number of runs from 1 to 9')
  const args = argv.filter((_, i) => i !== at && i !== at + 1)
  const o = args.indexOf('--out')
  const out = path.resolve(o >= 0 ? (args[o + 1] ?? '') : path.join(__dirname, '..', '..', 'bench', 'results.json'))
  if (o >= 0) args.splice(o, 2)
  const ab = args.indexOf('--leveldb-ab')
  if (ab >= 0) args.splice(ab, 1)
  // --leveldb-ab: each run twice in a row, on the patched LevelDB build and
  // on the stock prebuilt binary (PREBUILDS_ONLY=1 makes node-gyp-build load
  // it, in the bench and in every node it starts); pairs alternate.
  const arms: Array<{ name: string, env: Record<string, string> }> = ab >= 0
    ? [{ name: 'patched', env: {} }, { name: 'stock', env: { PREBUILDS_ONLY: '1' } }]
    : [{ name: '', env: {} }]
  if (ab >= 0 && leveldbPatches() === undefined) throw new Error('--leveldb-ab needs the patched LevelDB build (npm run build-leveldb)')
  const startedAt = new Date().toISOString()
  const t0 = now()
  const files: string[][] = arms.map(() => [])
  for (let i = 1; i <= n; i++) {
    for (const [k, arm] of arms.entries()) {
      const file = out.replace(/\.json$/, '') + `.run-${i}${arm.name === '' ? '' : '-' + arm.name}.json`
      process.stderr.write(`== bench run ${i} of ${n}${arm.name === '' ? '' : ` (${arm.name} LevelDB)`} -> ${file}\n`)
      fs.rmSync(file, { force: true })
      const env = { ...process.env, ...arm.env }
      if (arm.name === 'patched') delete env.PREBUILDS_ONLY
      // Even runs sync the list path first, so that neither path always finds the source warm.
      const order = i % 2 === 0 && !args.some(a => a.startsWith('fullSyncListFirst=')) ? ['--set', 'fullSyncListFirst=1'] : []
      const code = await new Promise<number | null>((resolve) => {
        spawn(process.execPath, [__filename, ...args, ...order, '--out', file], { stdio: ['ignore', 'inherit', 'inherit'], env }).once('exit', resolve)
      })
      if (!fs.existsSync(file)) throw new Error(`bench run ${i} wrote no JSON (exit ${String(code)})`)
      if (code !== 0) process.exitCode = 1
      files[k].push(file)
    }
  }
  // Quick runs are for spotting regressions and --bound runs are
  // experiments, not a sync: neither judges a target.
  const judging = !args.includes('--quick') && !args.includes('--bound')
  const summaries = files.map(fs_ => {
    const reports = fs_.map(f => JSON.parse(fs.readFileSync(f, 'utf8')) as Report)
    return { reports, medians: summarizeRuns(reports, TARGETS).map(m => judging ? m : { ...m, ok: undefined }) }
  })
  const value = (v: number | undefined): string => v === undefined ? 'n/a' : v === Infinity ? 'lost objects' : fmt(round(v, 3))
  printTable(summaries.flatMap((s, k) => s.medians.map(m => ({ section: `median of ${n}${arms[k].name === '' ? '' : ', ' + arms[k].name}`, metric: m.name, value: `${value(m.median)}  (${m.values.map(value).join(' / ')})`, target: m.target, ok: m.ok }))))
  const totalSeconds = round((now() - t0) / 1000, 1)
  process.stdout.write(`total ${totalSeconds} s for ${n * arms.length} runs; JSON: ${out}\n`)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  const meta = { ...machine(), startedAt, repeat: n, args, totalSeconds, runFiles: files.flat(), targets: TARGETS }
  const body = ab >= 0
    ? { meta: { ...meta, leveldbAb: true }, ...Object.fromEntries(arms.map((a, k) => [a.name, { leveldbPatches: summaries[k].reports[0]?.meta?.leveldbPatches, medians: summaries[k].medians, runs: summaries[k].reports }])) }
    : { meta, medians: summaries[0].medians, runs: summaries[0].reports }
  fs.writeFileSync(out, JSON.stringify(body, null, 2) + '\n')
}

async function main (): Promise<void> {
  const repeatAt = process.argv.indexOf('--repeat', 2)
  if (repeatAt >= 0) return await runRepeated(process.argv.slice(2), repeatAt - 2)
  const cfg = parseArgs(process.argv.slice(2))
  const p = applyOverrides(params(cfg.quick))
  const want = (s: string): boolean => cfg.only.size === 0 || cfg.only.has(s)
  const startedAt = new Date().toISOString()
  const t0 = now()
  const results: Record<string, unknown> = {}
  const rows: Row[] = []
  const errors: Record<string, string> = {}
  const sectionSeconds: Record<string, number> = {}
  const fullFlags = ['--shards', String(p.splitShards), '--split-threshold', String(p.splitThreshold)]

  const section = async (name: string, fn: () => Promise<void>): Promise<void> => {
    if (!want(name)) return
    cfg.log(`== ${name}`)
    const s0 = now()
    try {
      await fn()
    } catch (err) {
      errors[name] = (err as Error).message
      cfg.log(`!! ${name} failed: ${(err as Error).stack ?? String(err)}`)
      rows.push({ section: name, metric: 'ERROR', value: (err as Error).message.slice(0, 60), target: '', ok: false })
    }
    sectionSeconds[name] = round((now() - s0) / 1000, 1)
  }

  let baseline: Partial<Record<Transport, BaselineRun>> | undefined
  await section('baseline', async () => {
    const runs: Partial<Record<Transport, BaselineRun>> = {}
    for (const t of ['tcp', 'grpc', 'grpc-batched'] as const) {
      const r = await runBaseline(cfg, t, p.n, p.objectBytes, p.baselineReps)
      runs[t] = r
      cfg.log(`  ${t}: ${r.objectsPerSecond}/s (median of ${r.reps.join(', ')})`)
    }
    baseline = runs
    results.baseline = { primary: 'tcp', objectsPerSecond: runs.tcp?.objectsPerSecond, ...runs }
    rows.push({ section: '1 baseline', metric: `bare copy ${fmt(p.n)} x 1 KiB, raw TCP (yardstick)`, value: fmt(runs.tcp?.objectsPerSecond, ' obj/s'), target: '(ref ~54,000)' })
    rows.push({ section: '1 baseline', metric: 'same over one gRPC stream, 1 msg/object', value: fmt(runs.grpc?.objectsPerSecond, ' obj/s'), target: '' })
    rows.push({ section: '1 baseline', metric: 'same over one gRPC stream, 64 KiB msgs', value: fmt(runs['grpc-batched']?.objectsPerSecond, ' obj/s'), target: '' })
  })

  let rclone: RcloneRun | undefined
  await section('rclone', async () => {
    const r = await runRclone(cfg, p.n, p.objectBytes, p.rcloneReps)
    rclone = r
    results.rclone = r
    rows.push({ section: '1 baseline', metric: `rclone copy of ${fmt(p.n)} files of 1 KiB, --transfers ${r.transfers} (peer)`, value: fmt(r.objectsPerSecond, ' obj/s'), target: '' })
  })

  // Both paths, one loaded source, the first path (the node default) judged.
  let fullSync: FullSyncRun | undefined
  await section('fullsync', async () => {
    const paths = cfg.bound === undefined ? [...FULL_SYNC_PATHS] : [FULL_SYNC_PATHS[0]]
    const runs = await runFullSyncPaths(cfg, {
      label: 'fullsync',
      count: p.n,
      size: p.objectBytes,
      nodeArgs: fullFlags,
      shards: p.splitShards,
      splitThreshold: p.splitThreshold,
      loadConcurrency: 256,
      loadChannels: 8,
      timeoutMs: 600_000
    }, paths, p.fullSyncListFirst === 1)
    fullSync = runs[0]
    results.fullSync = runs[0]
    if (runs[1] !== undefined) results.fullSyncOtherPath = runs[1]
    for (const r of runs) {
      const sec = `2 full sync, ${r.path ?? 'default'} path`
      rows.push({ section: sec, metric: `${fmt(p.n)} x 1 KiB, ${r.sourceShards} source shards`, value: fmt(r.objectsPerSecond, ' obj/s'), target: '' })
      rows.push({ section: sec, metric: 'duration (AddPeer -> count = N)', value: fmt(r.seconds, ' s'), target: '' })
      rows.push({ section: sec, metric: 'CPU s: source / target (µs per object)', value: `${r.sourceCpuSeconds} / ${r.targetCpuSeconds} (${r.cpuMicrosPerObject})`, target: '' })
      for (const role of ['source', 'target'] as const) {
        const t = r.threadCpu[role]
        if (t !== undefined) rows.push({ section: sec, metric: `  ${role} CPU s by thread: main (waited) / busiest other / rest`, value: `${t.mainCpuSeconds} (${t.mainWaitSeconds}) / ${t.busiestOtherCpuSeconds} / ${t.restCpuSeconds}`, target: '' })
      }
      const rec = r.writes.recordsPerObject
      if (cfg.bound === undefined) rows.push({ section: sec, metric: `target disk writes per object (x content bytes), synced ${r.syncOrder === 1 ? 'first' : 'second'}`, value: `${fmt(r.writes.targetDiskBytesPerObject, ' B')} (${fmt(r.writes.targetDiskBytesOverContent)})`, target: '' })
      if (rec !== undefined) rows.push({ section: sec, metric: 'target records per object, by key kind', value: Object.entries(rec).filter(([, n]) => n >= 0.01).map(([k, n]) => `${k} ${n}`).join(', '), target: '' })
    }
    if (runs[1] !== undefined) rows.push({ section: '2 full sync', metric: `${runs[0].path ?? ''} / ${runs[1].path ?? ''} path, obj/s (CPU per object)`, value: `${round(runs[0].objectsPerSecond / runs[1].objectsPerSecond, 3)} (${round(runs[0].cpuMicrosPerObject / runs[1].cpuMicrosPerObject, 3)})`, target: '' })
  })
  const judgedRatios = fullSyncRatios(fullSync, baseline, rclone)
  if (judgedRatios !== undefined) {
    results.ratio = judgedRatios
    if (cfg.bound === undefined) {
      const r = judgedRatios
      rows.push({ section: '2 full sync', metric: 'RATIO full sync / baseline (raw TCP)', value: r.fullSyncOverBaseline.toFixed(3), target: `>= ${TARGETS.fullSyncRatio}`, ok: r.fullSyncOverBaseline >= TARGETS.fullSyncRatio })
      rows.push({ section: '2 full sync', metric: 'RATIO CPU per object / baseline\'s', value: r.cpuPerObjectOverBaseline.toFixed(3), target: `<= ${TARGETS.cpuPerObjectRatio}`, ok: r.cpuPerObjectOverBaseline <= TARGETS.cpuPerObjectRatio })
      rows.push({ section: '2 full sync', metric: 'RATIO full sync / rclone copy', value: r.fullSyncOverRclone?.toFixed(3) ?? 'n/a (no rclone section)', target: `>= ${TARGETS.rcloneRatio}`, ok: r.fullSyncOverRclone === undefined ? (want('rclone') ? false : undefined) : r.fullSyncOverRclone >= TARGETS.rcloneRatio })
    } else {
      rows.push({ section: '2 full sync', metric: `BOUND (--bound ${cfg.bound}: not a sync) / baseline`, value: judgedRatios.fullSyncOverBaseline.toFixed(3), target: 'not judged' })
    }
    rows.push({ section: '2 full sync', metric: '  vs gRPC 1 msg/object / 64 KiB msgs', value: `${judgedRatios.fullSyncOverGrpcPerObject?.toFixed(3) ?? 'n/a'} / ${judgedRatios.fullSyncOverGrpcBatched?.toFixed(3) ?? 'n/a'}`, target: '' })
  }

  await section('large', async () => {
    // Yardstick of the same run: the same files copied bare (no gRPC, no
    // checksum, no index), each made durable, as the nodes do.
    const raw = await runBaseline(cfg, 'tcp-files', p.largeCount, p.largeBytes)
    const r = await runFullSync(cfg, {
      label: 'large',
      count: p.largeCount,
      size: p.largeBytes,
      nodeArgs: fullFlags,
      shards: p.splitShards,
      splitThreshold: p.splitThreshold,
      loadConcurrency: 8,
      loadChannels: 4,
      timeoutMs: 600_000
    })
    const overRaw = round(r.mibPerSecond / raw.mibPerSecond, 3)
    results.largeObjects = { ...r, rawCopy: raw, overRawCopy: overRaw }
    rows.push({ section: '3 large objects', metric: `bare file copy over TCP, ${raw.objects} x 8 MiB (yardstick)`, value: fmt(raw.mibPerSecond, ' MiB/s'), target: '' })
    rows.push({ section: '3 large objects', metric: `${r.objects} x 8 MiB full sync`, value: fmt(r.mibPerSecond, ' MiB/s'), target: '' })
    if (cfg.bound === undefined) rows.push({ section: '3 large objects', metric: 'RATIO full sync / bare file copy', value: overRaw.toFixed(3), target: `>= ${TARGETS.largeOverBareCopy}`, ok: overRaw >= TARGETS.largeOverBareCopy })
    else rows.push({ section: '3 large objects', metric: `BOUND (--bound ${cfg.bound}: not a sync) / bare file copy`, value: overRaw.toFixed(3), target: 'not judged' })
    // On two cores both copies are CPU-bound: their CPU is what the ratio follows.
    rows.push({ section: '3 large objects', metric: 'CPU s source + target / bare sender + receiver', value: `${fmt(r.sourceCpuSeconds)} + ${fmt(r.targetCpuSeconds)} / ${fmt(raw.senderCpuSeconds)} + ${fmt(raw.receiverCpuSeconds)}`, target: '' })
    rows.push({ section: '3 large objects', metric: 'peak RSS (VmHWM) source / target', value: `${fmt(r.sourcePeakRssMiB)} / ${fmt(r.targetPeakRssMiB)} MiB`, target: '' })
    rows.push({ section: '3 large objects', metric: '  of which anonymous (sampled) source / target', value: `${fmt(r.sourcePeakAnonMiB)} / ${fmt(r.targetPeakAnonMiB)} MiB`, target: '(rest: mmapped LevelDB files)' })
  })

  await section('lag', async () => {
    const r = await runLag(cfg, { rate: p.lagRate, seconds: p.lagSeconds, warmupSeconds: p.lagWarmupSeconds, size: p.objectBytes, nodeArgs: [], shards: 0 })
    results.lag = r
    rows.push({ section: '4 incremental lag', metric: `${fmt(r.rate)} writes/s for ${r.seconds} s (${r.shards} shards), achieved`, value: fmt(r.achievedRate, ' /s'), target: '' })
    rows.push({ section: '4 incremental lag', metric: 'lag p50', value: fmt(r.lagMs.p50, ' ms'), target: '' })
    rows.push({ section: '4 incremental lag', metric: 'lag p99', value: fmt(r.lagMs.p99, ' ms'), target: `<= ${TARGETS.lagP99Ms} ms`, ok: r.lagMs.p99 <= TARGETS.lagP99Ms && r.missing === 0 })
    rows.push({ section: '4 incremental lag', metric: 'lag max', value: fmt(r.lagMs.max, ' ms'), target: '' })
    rows.push({ section: '4 incremental lag', metric: 'PUT latency p99 / missing', value: `${fmt(r.putLatencyMs.p99)} ms / ${r.missing}`, target: '' })
    const pauses = (rows: number[][] | undefined): string => rows === undefined ? '-' : rows.length === 0 ? '0' : `${rows.length} (max ${fmt(Math.max(...rows.map(x => x[1])))} ms)`
    rows.push({ section: '4 incremental lag', metric: 'main-thread pauses > 100 ms: source / target / bench', value: `${pauses(r.stalls.source?.pauses)} / ${pauses(r.stalls.target?.pauses)} / ${pauses(r.stalls.bench)}`, target: '' })
  })

  await section('split', async () => {
    const r = await runSplit(cfg, { entries: p.splitEntries, rate: p.splitWriterRate, nodeArgs: [], loadConcurrency: 128, loadChannels: 4 })
    results.splitStall = r
    rows.push({ section: '5 split stall', metric: `split of a ${fmt(r.entries)}-entry shard (${fmt(r.moved)} moved)`, value: fmt(r.splitSeconds * 1000, ' ms'), target: '' })
    rows.push({ section: '5 split stall', metric: 'max PUT latency, splitting shard', value: fmt(r.splittingShardMaxMs, ' ms'), target: `<= ${TARGETS.splitStallMs} ms`, ok: r.splittingShardMaxMs <= TARGETS.splitStallMs })
    const pre = Math.max(0, ...r.writers.map(w => w.beforeSplitMaxMs).filter(v => Number.isFinite(v)))
    const unaffected = (v: number): boolean => v <= Math.max(100, 3 * pre)
    rows.push({ section: '5 split stall', metric: 'max PUT latency, sibling shard (same bucket)', value: fmt(r.siblingShardMaxMs, ' ms'), target: `unaffected (<= max(100, 3x pre-split ${fmt(pre)} ms))`, ok: unaffected(r.siblingShardMaxMs) })
    rows.push({ section: '5 split stall', metric: 'max PUT latency, other bucket', value: fmt(r.otherBucketMaxMs, ' ms'), target: 'unaffected', ok: unaffected(r.otherBucketMaxMs) })
  })

  await section('memory', async () => {
    const [big, small] = p.memoryCounts
    // One source, grown between the two measurements (loading is the slow part).
    const [rs, rb] = await runGrowingSyncs(cfg, {
      label: 'memory',
      count: big,
      size: p.memoryObjectBytes,
      nodeArgs: [],
      shards: 0,
      splitThreshold: 0,
      loadConcurrency: 256,
      loadChannels: 8,
      timeoutMs: 900_000
    }, small, big)
    const runs = [rb, rs]
    const peak = (r: FullSyncRun): number => Math.max(r.sourcePeakRssMiB ?? NaN, r.targetPeakRssMiB ?? NaN)
    const growth = round(peak(rb) / peak(rs) - 1, 3)
    const anon = (r: FullSyncRun): number => Math.max(r.sourcePeakAnonMiB ?? NaN, r.targetPeakAnonMiB ?? NaN)
    const anonGrowth = round(anon(rb) / anon(rs) - 1, 3)
    const live = (r: FullSyncRun): number => Math.max(r.liveHeap.source?.maxLiveMiB ?? NaN, r.liveHeap.target?.maxLiveMiB ?? NaN)
    const liveGrowth = round(live(rb) / live(rs) - 1, 3)
    results.memory = { objectBytes: p.memoryObjectBytes, runs, peakGrowth: growth, peakAnonGrowth: anonGrowth, liveHeapGrowth: liveGrowth }
    for (const r of runs) {
      rows.push({ section: '6 memory', metric: `peak RSS src / dst, sync of ${fmt(r.objects)} x ${r.objectBytes} B (${r.sourceShards} shards)`, value: `${fmt(r.sourcePeakRssMiB)} / ${fmt(r.targetPeakRssMiB)} MiB`, target: r === rb ? `<= ${TARGETS.peakRssMiB} MiB` : '', ok: r === rb ? peak(r) <= TARGETS.peakRssMiB : undefined })
      rows.push({ section: '6 memory', metric: '  of which anonymous (sampled) src / dst', value: `${fmt(r.sourcePeakAnonMiB)} / ${fmt(r.targetPeakAnonMiB)} MiB`, target: '' })
      rows.push({ section: '6 memory', metric: '  V8 heap live after major GC, max src / dst', value: `${fmt(r.liveHeap.source?.maxLiveMiB)} / ${fmt(r.liveHeap.target?.maxLiveMiB)} MiB`, target: '' })
      rows.push({ section: '6 memory', metric: '  V8 heap live after the sync (full GC) src / dst', value: `${fmt(r.liveHeap.source?.endLiveMiB)} / ${fmt(r.liveHeap.target?.endLiveMiB)} MiB`, target: '' })
      rows.push({ section: '6 memory', metric: `  (sync rate ${fmt(r.objects)} x ${r.objectBytes} B)`, value: fmt(r.objectsPerSecond, ' obj/s'), target: '' })
    }
    rows.push({ section: '6 memory', metric: `peak RSS growth ${fmt(rb.objects)} vs ${fmt(rs.objects)}`, value: `${round(growth * 100)} %`, target: `<= ${TARGETS.rssGrowth * 100} %`, ok: growth <= TARGETS.rssGrowth })
    rows.push({ section: '6 memory', metric: '  growth of peak anonymous RSS', value: `${round(anonGrowth * 100)} %`, target: '' })
    rows.push({ section: '6 memory', metric: '  growth of live V8 heap', value: `${round(liveGrowth * 100)} %`, target: '' })
  })

  await section('scale', async () => {
    const r = await runScale(cfg, { count: p.scaleCount, size: p.memoryObjectBytes, shards: p.scaleShards, splitThreshold: p.scaleThreshold })
    results.scale = r
    rows.push({ section: '7 scale', metric: `${fmt(r.objects)} x ${r.objectBytes} B, threshold ${fmt(p.scaleThreshold)}: source / target shards`, value: `${fmt(r.sourceShards)} / ${fmt(r.targetShards)}`, target: '> 1,000 source shards', ok: cfg.quick ? undefined : r.sourceShards > 1000 })
    rows.push({ section: '7 scale', metric: 'full sync', value: `${fmt(r.objectsPerSecond, ' obj/s')} (${fmt(r.seconds, ' s')})`, target: 'completes' })
    rows.push({ section: '7 scale', metric: 'peak RSS src / dst', value: `${fmt(r.sourcePeakRssMiB)} / ${fmt(r.targetPeakRssMiB)} MiB`, target: '' })
    rows.push({ section: '7 scale', metric: `shardsync verify (${fmt(r.verifySeconds, ' s')})`, value: r.verify.slice(0, 48), target: 'identical', ok: r.identical })
  })

  await section('durability', async () => {
    const r = await runDurability(cfg, { smallCount: p.durabilitySmallCount, smallBytes: 1024, largeCount: p.durabilityLargeCount, largeBytes: 4 * 1024 * 1024, concurrency: 64 })
    results.durability = r
    rows.push({ section: '8 durability', metric: `--durability fsync / default, ${fmt(r.options.smallCount)} x 1 KiB PUTs`, value: `${fmt(r.smallRatio)} (${fmt(r.fsync.smallPerSecond)} / ${fmt(r.default.smallPerSecond)} obj/s)`, target: 'measured' })
    rows.push({ section: '8 durability', metric: `--durability fsync / default, ${fmt(r.options.largeCount)} x 4 MiB PUTs`, value: `${fmt(r.largeRatio)} (${fmt(r.fsync.largeMiBPerSecond)} / ${fmt(r.default.largeMiBPerSecond)} MiB/s)`, target: 'measured' })
  })

  await section('s3', async () => {
    const r = await runS3Bench(cfg, { smallCount: p.s3SmallCount, largeCount: p.s3LargeCount, smallConcurrency: 32, largeConcurrency: 2 })
    results.s3 = r
    for (const [name, x] of [['1 KiB', r.small], ['64 MiB', r.large]] as const) {
      const unit = name === '1 KiB' ? (f: { putPerSecond: number, getPerSecond: number }, k: 'putPerSecond' | 'getPerSecond') => `${fmt(f[k])} obj/s` : (f: { putMiBPerSecond: number, getMiBPerSecond: number }, k: 'putPerSecond' | 'getPerSecond') => `${fmt(k === 'putPerSecond' ? f.putMiBPerSecond : f.getMiBPerSecond)} MiB/s`
      rows.push({ section: '9 s3', metric: `S3 / gRPC PUT, ${fmt(x.count)} x ${name}`, value: `${fmt(x.putRatio)} (${unit(x.s3, 'putPerSecond')} / ${unit(x.grpc, 'putPerSecond')})`, target: 'measured' })
      rows.push({ section: '9 s3', metric: `S3 / gRPC GET, ${fmt(x.count)} x ${name}`, value: `${fmt(x.getRatio)} (${unit(x.s3, 'getPerSecond')} / ${unit(x.grpc, 'getPerSecond')})`, target: 'measured' })
    }
  })

  if (cfg.profileDir !== undefined) {
    try {
      const dir = cfg.profileDir
      const roles = Object.fromEntries(cfg.profiled)
      const files = fs.readdirSync(dir).filter(f => f.endsWith('.cpuprofile') && [...cfg.profiled.keys()].some(pid => f.includes(`.${pid}.`))).map(f => path.join(dir, f))
      const summaries = summarizeProfiles(files, 25, roles).sort((a, b) => (a.role ?? '').localeCompare(b.role ?? ''))
      results.profile = summaries
      for (const s of summaries) printSummary(s)
    } catch (err) {
      errors.profile = (err as Error).message
    }
  }

  // How busy the rest of the machine was while each figure was taken.
  const noise: string[] = []
  const add = (name: string, c: ContentionReport | undefined): void => { if (c !== undefined) noise.push(`${name} ${c.foreignCores}`) }
  const r = results as Record<string, any>
  add('baseline', r.baseline?.tcp?.contention)
  add('rclone', r.rclone?.contention)
  add('fullsync', r.fullSync?.contention)
  add('fullsync-other-path', r.fullSyncOtherPath?.contention)
  add('large', r.largeObjects?.contention)
  add('lag', r.lag?.contention)
  add('split', r.splitStall?.contention)
  for (const m of r.memory?.runs ?? []) add(m.label, m.contention)
  add('scale', r.scale?.contention)
  add('s3-1KiB', r.s3?.small?.contention)
  add('s3-64MiB', r.s3?.large?.contention)
  for (const n of noise) {
    const [name, cores] = n.split(' ')
    rows.push({ section: 'machine', metric: `cores used by OTHER processes during ${name}`, value: cores, target: '~0 for clean figures', ok: undefined })
  }

  const totalSeconds = round((now() - t0) / 1000, 1)
  const report = {
    meta: { ...machine(cfg.nodeEnv), startedAt, quick: cfg.quick, sections: [...(cfg.only.size > 0 ? cfg.only : SECTIONS)], params: p, targets: TARGETS, totalSeconds, sectionSeconds, profiled: cfg.profileDir !== undefined, nodeEnv: cfg.nodeEnv, nodeArgs: cfg.nodeArgs, nodeDefaults: NODE_DEFAULTS, pairing: cfg.pairing, bound: cfg.bound },
    ...results,
    errors
  }
  printTable(rows)
  process.stdout.write(`total ${totalSeconds} s${cfg.quick ? ' (quick)' : ''}; JSON: ${cfg.out}\n`)
  fs.mkdirSync(path.dirname(cfg.out), { recursive: true })
  fs.writeFileSync(cfg.out, JSON.stringify(report, null, 2) + '\n')
  if (!cfg.keep) fs.rmSync(cfg.root, { recursive: true, force: true })
  else process.stdout.write(`scratch kept in ${cfg.root}\n`)
  if (Object.keys(errors).length > 0) process.exitCode = 1
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
