/**
 * Full sync between two real node processes (sections 2, 3 and 6).
 *
 * The source is loaded through PutObject (many streams in flight), its
 * auto-splits are allowed to settle, and it is restarted so that its peak
 * RSS (VmHWM) covers the sync only, not the load. Then a fresh target is
 * started, the pair is connected (connectOneWay: AddPeer on both, which also
 * makes the source sync back from the target, as any pair of sites does;
 * --pairing target connects the target only) and
 * the clock runs until the target's bucket object count (AdminService
 * NodeInfo) equals N, polled every 50 ms.
 */
import type { NodeProcess } from '../lib/cluster'
import { callUnary } from '../../node/rpc/clients'
import {
  connectPair, Contention, listShardsOf, liveHeap, type LiveHeap, noteProfiled, nodeEnv, profileEnv, loadObjects, now, objectCount, padKey, procCpuSeconds, procMemory, round, RssSampler, scratch, sleep, startNode, stopNodes,
  waitQuiet, waitSplitsSettled, type BenchConfig, type ContentionReport, type Scratch
} from './common'
import { threadCpuBetween, threadTimes, type ThreadCpu } from './thread-cpu'
import fs from 'node:fs'
import path from 'node:path'
import { Level } from 'level'
import { CONTENT_DIR } from '../../storage/content-store'

export interface FullSyncOptions {
  label: string
  count: number
  size: number
  /** Flags of both nodes (the same deployment config on both sites). */
  nodeArgs: string[]
  /** CreateBucket parameters on the source (0 = node default). */
  shards: number
  splitThreshold: number
  loadConcurrency: number
  loadChannels: number
  timeoutMs: number
  /** --full-sync-path of both nodes in this sync (a --node-arg still wins); unset: the node default. */
  path?: FullSyncPath
  /** After the sync, count the target's stored records by kind (records.perObject). */
  countRecords?: boolean
}

export type FullSyncPath = 'stream' | 'list'

/** What the target wrote for the sync: bytes to the disk, and the records it stores per object. */
export interface WriteAmplification {
  /**
   * write_bytes less cancelled_write_bytes of /proc/<pid>/io from AddPeer to
   * count = N: WAL, flushes and compactions so far (compaction still owed
   * then is not in it); 0 where the scratch directory is on tmpfs.
   */
  targetDiskBytes: number
  sourceDiskBytes: number
  /** targetDiskBytes / (objects x object bytes). */
  targetDiskBytesOverContent: number
  targetDiskBytesPerObject: number
  /** Records in the target's two LevelDBs after the sync, by key kind (storage/keys.ts), per object. */
  recordsPerObject?: Record<string, number>
}

export interface FullSyncRun {
  label: string
  objects: number
  objectBytes: number
  sourceShards: number
  targetShards: number
  loadSeconds: number
  loadObjectsPerSecond: number
  seconds: number
  objectsPerSecond: number
  mibPerSecond: number
  /** CPU seconds (all threads) used during the sync. */
  sourceCpuSeconds: number
  targetCpuSeconds: number
  /** CPU microseconds per object, both nodes together. */
  cpuMicrosPerObject: number
  /** The same CPU by thread (thread-cpu.ts); undefined off Linux. */
  threadCpu: { source?: ThreadCpu, target?: ThreadCpu }
  sourcePeakRssMiB?: number
  targetPeakRssMiB?: number
  /**
   * RSS sampled every 250 ms during the sync, max seen: total, anonymous
   * (heaps, buffers) and file-backed (mmapped LevelDB tables: page cache).
   */
  sampledPeakRssMiB: Record<string, { rssMiB: number, rssAnonMiB: number, rssFileMiB: number }>
  /** Once a second during the sync: [seconds, RSS MiB, anonymous MiB], per node. */
  rssTimeline: Record<string, Array<[number, number, number]>>
  /** Peak anonymous RSS of source / target (sampled): memory the process really holds. */
  sourcePeakAnonMiB?: number
  targetPeakAnonMiB?: number
  /**
   * V8 heap in use right after major collections (what the node keeps
   * alive, without collection pacing), from heap-preload.ts: the most over
   * the node's life until the sync ended, and after a full collection at
   * its end.
   */
  liveHeap: { source?: LiveHeap, target?: LiveHeap }
  /** Seconds from AddPeer until the target held its first object (start-up cost of a sync). */
  firstObjectSeconds?: number
  /** Process ids of the nodes during the sync (to match CPU profiles). */
  pids: { source?: number, target?: number }
  contention: ContentionReport
  /** The full-sync path both nodes ran (the target's log tells if it fell back to list). */
  path?: FullSyncPath
  /** With runFullSyncPaths: 1 if this sync ran first on its source, 2 second. */
  syncOrder?: number
  writes: WriteAmplification
}

export const BUCKET = 'bench'

/** A loaded source node (bucket BUCKET) in its own scratch directory. */
export interface LoadedSource {
  s: Scratch
  source: NodeProcess
  /** The source's flags as started (a path flag is put before them for each sync). */
  args: string[]
  loaded: number
  loadSeconds: number
  loadPerSecond: number
}

export async function startSource (cfg: BenchConfig, o: FullSyncOptions): Promise<LoadedSource> {
  const s = scratch(cfg, `fullsync-${o.label}`)
  const source = await startNode(cfg, s, 'src', o.nodeArgs, nodeEnv(cfg, false))
  try {
    await callUnary(source.clients.object, 'CreateBucket', { name: BUCKET, initialShards: o.shards, splitThreshold: o.splitThreshold })
  } catch (err) {
    await stopNodes(source)
    s.cleanup()
    throw err
  }
  return { s, source, args: [...(source.spec.args ?? [])], loaded: 0, loadSeconds: 0, loadPerSecond: 0 }
}

/** Loads objects obj-<loaded>.. obj-<count-1>, so that a source can grow between two measurements. */
export async function loadUpTo (cfg: BenchConfig, src: LoadedSource, o: FullSyncOptions, count: number): Promise<void> {
  const from = src.loaded
  cfg.log(`  [${o.label}] loading ${count - from} objects of ${o.size} B into the source`)
  const load = await loadObjects(src.source.address, BUCKET, {
    count: count - from, size: o.size, concurrency: o.loadConcurrency, channels: o.loadChannels, key: i => padKey('obj-', from + i), log: cfg.log, label: o.label
  })
  src.loaded = count
  src.loadSeconds = load.seconds
  src.loadPerSecond = load.perSecond
}

/**
 * Restarts the source (fresh VmHWM), starts a fresh target with site id
 * `targetSite`, connects them and waits for the target to hold `count`
 * objects. The target is stopped afterwards and removed as a peer of the
 * source, so that the source can be synced again to another target.
 */
export async function measureSync (cfg: BenchConfig, src: LoadedSource, o: FullSyncOptions, targetSite = 'dst', afterSync?: (source: NodeProcess, target: NodeProcess) => Promise<void>): Promise<FullSyncRun> {
  const source = src.source
  const count = src.loaded
  const sourceShards = await waitSplitsSettled(source, BUCKET)
  const loaded = await objectCount(source, BUCKET)
  if (loaded !== count) throw new Error(`source holds ${loaded} objects, expected ${count}`)
  cfg.log(`  [${o.label}] loaded in ${src.loadSeconds}s (${src.loadPerSecond}/s), ${sourceShards} source shards; restarting the source`)
  const pathArgs = o.path === undefined ? [] : ['--full-sync-path', o.path]
  source.spec.env = profileEnv(cfg, 'source', o.size)
  source.spec.args = [...pathArgs, ...src.args]
  await source.restart()
  noteProfiled(cfg, `${o.label}/source`, source)
  let target: NodeProcess | undefined
  let result: FullSyncRun
  try {
    target = await startNode(cfg, src.s, targetSite, [...pathArgs, ...o.nodeArgs], profileEnv(cfg, 'target', o.size))
    const dst = target
    noteProfiled(cfg, `${o.label}/target`, dst)
    await waitQuiet(cfg, `full sync ${o.label}`)
    const cpuSrc0 = procCpuSeconds(source.proc?.pid)
    const cpuDst0 = procCpuSeconds(dst.proc?.pid)
    const threadsSrc0 = threadTimes(source.proc?.pid)
    const threadsDst0 = threadTimes(dst.proc?.pid)
    const ioSrc0 = diskWriteBytes(source.proc?.pid)
    const ioDst0 = diskWriteBytes(dst.proc?.pid)
    const sampler = new RssSampler({ source: source.proc?.pid, target: dst.proc?.pid })
    const contention = new Contention()

    const t0 = now()
    const startedAt = Date.now()
    await connectPair(cfg, source, dst)
    let firstObject: number | undefined
    let lastCount = 0
    let lastLog = t0
    const deadline = t0 + o.timeoutMs
    for (;;) {
      const c = await objectCount(dst, BUCKET)
      if (c > 0 && firstObject === undefined) firstObject = (now() - t0) / 1000
      if (c >= count) break
      if (now() > deadline) throw new Error(`full sync ${o.label}: target holds ${c} of ${count} after ${o.timeoutMs} ms`)
      if (now() - lastLog > 5000) {
        cfg.log(`  [${o.label}] sync: ${c}/${count} (${Math.round((c - lastCount) / ((now() - lastLog) / 1000))}/s)`)
        lastLog = now()
        lastCount = c
      }
      await sleep(50)
    }
    const seconds = (now() - t0) / 1000
    const cpuSrc = procCpuSeconds(source.proc?.pid) - cpuSrc0
    const cpuDst = procCpuSeconds(dst.proc?.pid) - cpuDst0
    const threads = {
      source: threadCpuBetween(source.proc?.pid, threadsSrc0, threadTimes(source.proc?.pid)),
      target: threadCpuBetween(dst.proc?.pid, threadsDst0, threadTimes(dst.proc?.pid))
    }
    const targetDiskBytes = diskWriteBytes(dst.proc?.pid) - ioDst0
    const sourceDiskBytes = diskWriteBytes(source.proc?.pid) - ioSrc0
    const busy = contention.stop(cpuSrc + cpuDst)
    const sampled = sampler.stop()
    const memSrc = procMemory(source.proc?.pid)
    const memDst = procMemory(dst.proc?.pid)
    const heap = { source: await liveHeap(cfg, source.proc?.pid, startedAt), target: await liveHeap(cfg, dst.proc?.pid, startedAt) }
    const targetShards = (await listShardsOf(dst, BUCKET)).shards.length
    if (afterSync !== undefined) await afterSync(source, dst)
    result = {
      label: o.label,
      objects: count,
      objectBytes: o.size,
      sourceShards,
      targetShards,
      loadSeconds: src.loadSeconds,
      loadObjectsPerSecond: src.loadPerSecond,
      seconds: round(seconds, 2),
      objectsPerSecond: Math.round(count / seconds),
      mibPerSecond: round(count * o.size / seconds / 2 ** 20),
      sourceCpuSeconds: round(cpuSrc, 2),
      targetCpuSeconds: round(cpuDst, 2),
      cpuMicrosPerObject: Math.round((cpuSrc + cpuDst) / count * 1e6),
      threadCpu: threads,
      sourcePeakRssMiB: memSrc?.peakRssMiB,
      targetPeakRssMiB: memDst?.peakRssMiB,
      sampledPeakRssMiB: sampled,
      rssTimeline: Object.fromEntries(sampler.timeline),
      sourcePeakAnonMiB: sampled.source?.rssAnonMiB,
      targetPeakAnonMiB: sampled.target?.rssAnonMiB,
      liveHeap: heap,
      firstObjectSeconds: firstObject === undefined ? undefined : round(firstObject, 2),
      pids: { source: source.proc?.pid, target: dst.proc?.pid },
      contention: busy,
      path: o.path,
      writes: {
        targetDiskBytes,
        sourceDiskBytes,
        targetDiskBytesOverContent: round(targetDiskBytes / (count * o.size), 2),
        targetDiskBytesPerObject: Math.round(targetDiskBytes / count)
      }
    }
  } finally {
    if (target !== undefined) {
      await callUnary(source.clients.admin, 'RemovePeer', { id: targetSite }).catch(() => {})
      await stopNodes(target)
    }
  }
  if (o.countRecords === true && target?.spec.dataDir !== undefined) {
    try {
      result.writes.recordsPerObject = await recordsPerObject(target.spec.dataDir, count)
    } catch (err) {
      cfg.log(`  [${o.label}] could not count the target's records: ${(err as Error).message}`)
    }
  }
  // The path the target really ran: a source without StreamShard is read listed (node/sync/shard-sync.ts).
  if (o.path === 'stream' && (target?.logged('source does not serve StreamShard: full sync falls back to the listed path').length ?? 0) > 0) result.path = 'list'
  return result
}

/** Bytes a process has caused to be written to the disk so far, less those cancelled (/proc/<pid>/io); NaN off Linux. */
function diskWriteBytes (pid: number | undefined): number {
  if (pid === undefined) return NaN
  try {
    // Pages dirtied but never written (files deleted first: LevelDB logs,
    // compacted tables) count in write_bytes and again in cancelled_write_bytes.
    const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8')
    const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN)
    return field('write_bytes') - field('cancelled_write_bytes')
  } catch {
    return NaN
  }
}

/** Records of a stopped node's two LevelDBs by key kind (the key up to its first '!'), divided by `objects`. */
async function recordsPerObject (dataDir: string, objects: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const dir of [dataDir, path.join(dataDir, CONTENT_DIR)]) {
    const db = new Level<string, string>(dir, { createIfMissing: false })
    await db.open()
    try {
      for await (const key of db.keys()) {
        const bang = key.indexOf('!')
        const kind = bang < 0 ? key : key.slice(0, bang)
        counts[kind] = (counts[kind] ?? 0) + 1
      }
    } finally {
      await db.close()
    }
  }
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, round(n / objects, 3)]))
}

export async function runFullSync (cfg: BenchConfig, o: FullSyncOptions): Promise<FullSyncRun> {
  const src = await startSource(cfg, o)
  try {
    await loadUpTo(cfg, src, o, o.count)
    return await measureSync(cfg, src, o)
  } finally {
    await stopNodes(src.source)
    src.s.cleanup()
  }
}

/** Two syncs of one growing source: `small` objects, then `big` (the memory section). */
export async function runGrowingSyncs (cfg: BenchConfig, o: FullSyncOptions, small: number, big: number): Promise<[FullSyncRun, FullSyncRun]> {
  const src = await startSource(cfg, { ...o, label: 'memory' })
  try {
    await loadUpTo(cfg, src, { ...o, label: `memory-${small}` }, small)
    const a = await measureSync(cfg, src, { ...o, label: `memory-${small}` }, 'dst1')
    cfg.log(`  ${small}: ${a.objectsPerSecond}/s, peak RSS source ${a.sourcePeakRssMiB} MiB, target ${a.targetPeakRssMiB} MiB`)
    await loadUpTo(cfg, src, { ...o, label: `memory-${big}` }, big)
    const b = await measureSync(cfg, src, { ...o, label: `memory-${big}` }, 'dst2')
    cfg.log(`  ${big}: ${b.objectsPerSecond}/s, peak RSS source ${b.sourcePeakRssMiB} MiB, target ${b.targetPeakRssMiB} MiB`)
    return [a, b]
  } finally {
    await stopNodes(src.source)
    src.s.cleanup()
  }
}

/**
 * One source, loaded once, full-synced once per path to a fresh target of
 * its own (site dst-<path>), both nodes on that path: the two paths compared
 * in one run (issue 28). Synced in the order given (--repeat alternates
 * it: the second sync finds the source's tables compacted and cached),
 * returned in the order of `paths`; each sync restarts the source. Counts
 * the target's records unless `bound` (the bound's preload stores a layout
 * of its own).
 */
export async function runFullSyncPaths (cfg: BenchConfig, o: FullSyncOptions, paths: FullSyncPath[], reversed = false): Promise<FullSyncRun[]> {
  if (cfg.nodeArgs.some(a => a.startsWith('--full-sync-path'))) throw new Error('the full-sync section runs both paths: leave --full-sync-path out of --node-arg')
  const src = await startSource(cfg, o)
  try {
    await loadUpTo(cfg, src, o, o.count)
    const runs = new Map<FullSyncPath, FullSyncRun>()
    for (const p of reversed ? [...paths].reverse() : paths) {
      const run = await measureSync(cfg, src, { ...o, label: `${o.label}-${p}`, path: p, countRecords: cfg.bound === undefined }, `dst-${p}`)
      cfg.log(`  [${o.label}] ${p} path: ${run.objectsPerSecond}/s, ${run.cpuMicrosPerObject} µs CPU per object${run.path !== p ? ` (ran ${String(run.path)}: the source has no StreamShard)` : ''}`)
      runs.set(p, { ...run, syncOrder: runs.size + 1 })
    }
    return paths.map(p => runs.get(p) as FullSyncRun)
  } finally {
    await stopNodes(src.source)
    src.s.cleanup()
  }
}
