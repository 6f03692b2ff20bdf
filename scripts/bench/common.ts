/**
 * Shared helpers of `npm run bench`: configuration, timing, statistics,
 * /proc readings, a fast loader through the public PutObject API, and node
 * start-up with a per-section scratch directory.
 *
 * Everything here talks to the nodes only through their public gRPC API
 * (ObjectService, SyncService, AdminService); nothing reaches into storage.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import http2 from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import { callUnary } from '../../node/rpc/clients'
import { leveldbPatches, leveldbTableReads } from '../../storage/database'
import type { NodeInfoResponse__Output } from '../../node/rpc/generated/shardsync/v1/NodeInfoResponse'
import type { ListShardsResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListShardsResponse'
import type { ObjectInfo__Output } from '../../node/rpc/generated/shardsync/v1/ObjectInfo'
import type { ObjectServiceClient } from '../../node/rpc/generated/shardsync/v1/ObjectService'
import { loadShardsyncProto } from '../../node/rpc/proto'
import { MAX_MESSAGE_BYTES } from '../../node/rpc/server'
import { connectOneWay, NodeProcess, type NodeSpec } from '../lib/cluster'
import { rowsSince } from './pause-monitor'

export interface BenchConfig {
  quick: boolean
  out: string
  /** Sections to run (all when empty). */
  only: Set<string>
  /** Write V8 CPU profiles of the measured node processes here. */
  profileDir?: string
  /** pid -> "section/role" of every profiled node process. */
  profiled: Map<number, string>
  /** Extra environment of every node process (--node-env), for experiments. */
  nodeEnv: Record<string, string>
  /** --node-arg: flags added to the command line of every measured node. */
  nodeArgs: string[]
  /**
   * How pairs are connected: 'both' = connectOneWay (AddPeer on both nodes,
   * as the cluster helper and real deployments do; the source then also
   * syncs back from the target), 'target' = AddPeer on the target only (no
   * reverse sync, no split notices: the target learns splits by pulling).
   */
  pairing: 'both' | 'target'
  /**
   * --bound: the experiment of bound-preload.ts ('target': the target's
   * storage work removed; 'both': the source's reads too). Undefined for
   * real measurements.
   */
  bound?: 'target' | 'both'
  /** Keep scratch directories and node logs. */
  keep: boolean
  /** --scale-source DIR: where the scale run stores its loaded source, and reuses it (scale.ts). */
  scaleSource?: string
  /** Longest wait for a quiet machine before each measurement (0 = do not wait). */
  quietMaxWaitMs: number
  root: string
  log: (line: string) => void
}

export const now = (): number => performance.now()

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

export function round (n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** Nearest-rank percentile of an unsorted list (copied and sorted). */
/** The median run by `rate` (the slower of the middle two for an even count), as every repeated copy of the bench picks it. */
export function medianRun<T> (runs: T[], rate: (r: T) => number): T {
  const sorted = [...runs].sort((a, b) => rate(a) - rate(b))
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))
  return sorted[rank]
}

export function summarize (values: number[]): { count: number, p50: number, p90: number, p99: number, max: number, mean: number } {
  let sum = 0
  let max = -Infinity
  for (const v of values) { sum += v; if (v > max) max = v }
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(values.length > 0 ? max : NaN),
    mean: round(values.length > 0 ? sum / values.length : NaN)
  }
}

/**
 * Memory of a process, MiB: VmHWM (peak RSS since start), VmRSS now, and
 * what RSS is made of now: anonymous memory (heaps, buffers) and file-backed
 * pages (LevelDB reads its table files through mmap, so pages it read count
 * in RSS although they are page cache the kernel can drop).
 */
export function procMemory (pid: number | undefined): { peakRssMiB: number, rssMiB: number, rssAnonMiB: number, rssFileMiB: number } | undefined {
  if (pid === undefined) return undefined
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { peakRssMiB: round(kib('VmHWM') / 1024), rssMiB: round(kib('VmRSS') / 1024), rssAnonMiB: round(kib('RssAnon') / 1024), rssFileMiB: round(kib('RssFile') / 1024) }
  } catch {
    return undefined
  }
}

/** Total CPU seconds (user + system) a process has used so far. */
export function procCpuSeconds (pid: number | undefined): number {
  if (pid === undefined) return NaN
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based).
    const ticks = Number(fields[11]) + Number(fields[12])
    return ticks / 100
  } catch {
    return NaN
  }
}

/** Busy and steal CPU seconds of the whole machine so far (/proc/stat, USER_HZ = 100). */
function machineTicks (): { busy: number, steal: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal
    return { busy: (f[0] + f[1] + f[2] + f[5] + f[6]) / 100, steal: (f[7] ?? 0) / 100 }
  } catch {
    return { busy: NaN, steal: NaN }
  }
}

export interface ContentionReport {
  wallSeconds: number
  /** Cores the whole machine kept busy on average during the window. */
  machineBusyCores: number
  /** Cores used by the bench and the processes it measured. */
  ownCores: number
  /** Cores used by everything else (other work on the machine): noise. */
  foreignCores: number
  /** Cores stolen by the hypervisor. */
  stealCores: number
}

/**
 * Watches how busy the machine is during a measurement, so that a figure
 * taken while something else was using the CPUs can be recognised. Own CPU
 * = the bench process plus the CPU seconds the caller reports for its
 * children; foreign = machine busy - own.
 */
export class Contention {
  private readonly t0 = now()
  private readonly m0 = machineTicks()
  private readonly c0 = process.cpuUsage()

  stop (childCpuSeconds: number): ContentionReport {
    const wall = (now() - this.t0) / 1000
    const m = machineTicks()
    const c = process.cpuUsage(this.c0)
    const own = (c.user + c.system) / 1e6 + (Number.isNaN(childCpuSeconds) ? 0 : childCpuSeconds)
    const busy = m.busy - this.m0.busy
    return {
      wallSeconds: round(wall, 2),
      machineBusyCores: round(busy / wall, 2),
      ownCores: round(own / wall, 2),
      foreignCores: round(Math.max(0, busy - own) / wall, 2),
      stealCores: round((m.steal - this.m0.steal) / wall, 2)
    }
  }
}

/**
 * Waits (at most maxWaitMs) until the machine is nearly idle: busy cores
 * over a 1 s window below `threshold`. Other work on a shared machine skews
 * every figure; this avoids starting a measurement in the middle of it, and
 * the caller records how busy the machine was anyway (Contention).
 */
export async function waitQuiet (cfg: BenchConfig, what: string, threshold = 0.35): Promise<{ waitedSeconds: number, busyCores: number }> {
  const maxWaitMs = cfg.quietMaxWaitMs
  const t0 = now()
  if (maxWaitMs <= 0) return { waitedSeconds: 0, busyCores: NaN }
  let busyCores = NaN
  for (;;) {
    const a = machineTicks()
    await sleep(1000)
    busyCores = round(machineTicks().busy - a.busy, 2)
    if (busyCores <= threshold) break
    if (now() - t0 > maxWaitMs) {
      cfg.log(`  (machine still busy: ${busyCores} cores in use by others; measuring ${what} anyway)`)
      break
    }
    if (now() - t0 < 1100) cfg.log(`  (machine busy: ${busyCores} cores; waiting up to ${maxWaitMs / 1000}s before ${what})`)
  }
  return { waitedSeconds: round((now() - t0) / 1000, 1), busyCores }
}

/**
 * Samples RSS of some processes every intervalMs, keeping the peaks seen
 * (total, anonymous, file-backed) and, once per timelineMs, a point of the
 * timeline: [seconds since start, RSS MiB, anonymous MiB]. The timeline
 * shows whether a peak grows through a sync or is one burst.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined
  private readonly t0 = now()
  private nextPoint = 0
  readonly peak = new Map<string, { rssMiB: number, rssAnonMiB: number, rssFileMiB: number }>()
  readonly timeline = new Map<string, Array<[number, number, number]>>()
  constructor (private readonly pids: Record<string, number | undefined>, intervalMs = 250, private readonly timelineMs = 1000) {
    this.timer = setInterval(() => this.sample(), intervalMs)
    this.timer.unref()
  }

  sample (): void {
    const t = now() - this.t0
    const point = t >= this.nextPoint
    // The next period boundary: a stall yields one point, not a burst of catch-up points.
    if (point) this.nextPoint = (Math.floor(t / this.timelineMs) + 1) * this.timelineMs
    for (const [name, pid] of Object.entries(this.pids)) {
      const m = procMemory(pid)
      if (m === undefined) continue
      const p = this.peak.get(name) ?? { rssMiB: 0, rssAnonMiB: 0, rssFileMiB: 0 }
      this.peak.set(name, { rssMiB: Math.max(p.rssMiB, m.rssMiB), rssAnonMiB: Math.max(p.rssAnonMiB, m.rssAnonMiB), rssFileMiB: Math.max(p.rssFileMiB, m.rssFileMiB) })
      if (point) {
        const line = this.timeline.get(name) ?? []
        line.push([round(t / 1000, 1), m.rssMiB, m.rssAnonMiB])
        this.timeline.set(name, line)
      }
    }
  }

  stop (): Record<string, { rssMiB: number, rssAnonMiB: number, rssFileMiB: number }> {
    this.sample()
    clearInterval(this.timer)
    return Object.fromEntries(this.peak)
  }
}

// ---- nodes ------------------------------------------------------------------

/** Connects target to source as configured by --pairing (see BenchConfig.pairing). */
export async function connectPair (cfg: BenchConfig, source: NodeProcess, target: NodeProcess): Promise<void> {
  if (cfg.pairing === 'both') {
    await connectOneWay(source, target)
    return
  }
  await callUnary(target.clients.admin, 'AddPeer', { id: source.spec.site, address: source.address })
}

/**
 * Environment of a node process: --node-env additions, plus (if `measured`)
 * the heap log (heap-preload.ts), with --profile what makes it write a
 * CPU profile and its main thread's waits for a core on exit
 * (cpu-profile-preload.ts, sched-preload.ts), and with --bound the
 * experiment for its `role` (bound-preload.ts).
 */
export function nodeEnv (cfg: BenchConfig, measured: boolean, role?: 'source' | 'target', objectBytes?: number): Record<string, string> | undefined {
  const env: Record<string, string> = { ...cfg.nodeEnv }
  const preload = (file: string): void => {
    const flag = `--require ${path.join(__dirname, file)}`
    env.NODE_OPTIONS = env.NODE_OPTIONS === undefined ? flag : `${env.NODE_OPTIONS} ${flag}`
  }
  if (measured) {
    preload('heap-preload.js')
    env.BENCH_HEAP_DIR = heapDir(cfg)
  }
  if (measured && cfg.profileDir !== undefined) {
    preload('cpu-profile-preload.js')
    preload('sched-preload.js')
    env.BENCH_CPU_PROF_DIR = cfg.profileDir
  }
  if (measured && cfg.bound !== undefined && (role === 'target' || (role === 'source' && cfg.bound === 'both'))) {
    preload('bound-preload.js')
    env.BENCH_BOUND_ROLE = role
    env.BENCH_BOUND_BYTES = String(objectBytes ?? 1024)
  }
  return Object.keys(env).length > 0 ? env : undefined
}

function heapDir (cfg: BenchConfig): string {
  const dir = path.join(cfg.root, 'heap')
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

export interface LiveHeap {
  /** Major collections so far, and the most heap in use right after one. */
  majorGcs: number
  maxLiveMiB: number
  /** The most the heap held (in use or not). */
  maxHeapTotalMiB: number
  /** The most the young generation held, and the most off-heap (Buffer) memory, at a major collection. */
  maxNewSpaceMiB?: number
  maxExternalMiB?: number
  /** In use after the full collection that SIGUSR2 asked for. */
  endLiveMiB?: number
  /** Major collections since `since` (see liveHeap): [seconds, live MiB, heap total MiB, external MiB]. */
  gcTimeline?: number[][]
}

/**
 * What heap-preload.ts reports for a node process, after asking it for a
 * full collection now (SIGUSR2). Undefined if it wrote nothing. `since`
 * (epoch ms) starts the timeline of collections.
 */
export async function liveHeap (cfg: BenchConfig, pid: number | undefined, since?: number): Promise<LiveHeap | undefined> {
  if (pid === undefined) return undefined
  const file = path.join(heapDir(cfg), `heap.${pid}.json`)
  const read = (): { majorGcs: number, maxLiveBytes: number, maxHeapTotalBytes: number, maxNewSpaceBytes?: number, maxExternalBytes?: number, endLiveBytes: number, gcs?: number[][] } | undefined => {
    try { return JSON.parse(fs.readFileSync(file, 'utf8')) } catch { return undefined }
  }
  // No file: the process does not have the preload, and SIGUSR2 would kill it.
  if (read() === undefined) return undefined
  try { process.kill(pid, 'SIGUSR2') } catch { return undefined }
  const deadline = now() + 3000
  let s = read()
  while ((s === undefined || s.endLiveBytes < 0) && now() < deadline) {
    await sleep(50)
    s = read()
  }
  if (s === undefined) return undefined
  return {
    majorGcs: s.majorGcs,
    maxLiveMiB: round(s.maxLiveBytes / 2 ** 20),
    maxHeapTotalMiB: round(s.maxHeapTotalBytes / 2 ** 20),
    maxNewSpaceMiB: s.maxNewSpaceBytes !== undefined ? round(s.maxNewSpaceBytes / 2 ** 20) : undefined,
    maxExternalMiB: s.maxExternalBytes !== undefined ? round(s.maxExternalBytes / 2 ** 20) : undefined,
    endLiveMiB: s.endLiveBytes >= 0 ? round(s.endLiveBytes / 2 ** 20) : undefined,
    gcTimeline: since === undefined || s.gcs === undefined ? undefined : rowsSince(s.gcs, since)
  }
}

/** Stalls of one process since an instant: event-loop pauses and long collections. */
export interface Stalls {
  /** [seconds since, ms]: the main thread did not run for ms (pause-monitor.ts). */
  pauses: number[][]
  /** [seconds since, ms, kind]: collections that took over 50 ms (kind: 1 minor, 2 major, 4 incremental, 8 weak callbacks). */
  longGcs: number[][]
}

/**
 * What heap-preload.ts noted of a node's stalls since `since` (epoch ms),
 * read without disturbing the node. Undefined without the preload.
 */
export function readStalls (cfg: BenchConfig, pid: number | undefined, since: number): Stalls | undefined {
  if (pid === undefined) return undefined
  let s: { pauses?: number[][], longGcs?: number[][] }
  try { s = JSON.parse(fs.readFileSync(path.join(heapDir(cfg), `heap.${pid}.json`), 'utf8')) } catch { return undefined }
  return { pauses: rowsSince(s.pauses, since), longGcs: rowsSince(s.longGcs, since) }
}

/** The environment of a measured node (profiled with --profile; with --bound, the experiment for its role). */
export function profileEnv (cfg: BenchConfig, role?: 'source' | 'target', objectBytes?: number): Record<string, string> | undefined {
  return nodeEnv(cfg, true, role, objectBytes)
}

/** Remembers which profile file belongs to which node (by pid). */
export function noteProfiled (cfg: BenchConfig, role: string, n: NodeProcess): void {
  if (cfg.profileDir !== undefined && n.proc?.pid !== undefined) cfg.profiled.set(n.proc.pid, role)
}

export interface Scratch { dir: string, cleanup: () => void }

/** A scratch directory for one section, removed afterwards unless --keep. */
export function scratch (cfg: BenchConfig, name: string): Scratch {
  const dir = fs.mkdtempSync(path.join(cfg.root, `${name}-`))
  return { dir, cleanup: () => { if (!cfg.keep) fs.rmSync(dir, { recursive: true, force: true }) } }
}

/**
 * Starts a measured node whose data and log live in the scratch directory,
 * with the section's flags, then the run's --node-arg flags (later ones
 * win). Logs stay at 'info': NodeProcess.start waits for the 'listening'
 * line, which is an info line, so '--log-level warn' would never come up.
 */
export async function startNode (cfg: BenchConfig, s: Scratch, site: string, args: string[], env?: Record<string, string>): Promise<NodeProcess> {
  const spec: NodeSpec = {
    site,
    dataDir: path.join(s.dir, `${site}-data`),
    args: ['--log-level', 'info', ...args, ...cfg.nodeArgs],
    logFile: path.join(s.dir, `${site}.log`),
    env
  }
  fs.mkdirSync(spec.dataDir as string, { recursive: true })
  return await new NodeProcess(spec).start(0)
}

export async function nodeInfo (n: NodeProcess): Promise<NodeInfoResponse__Output> {
  return await callUnary<object, NodeInfoResponse__Output>(n.clients.admin, 'NodeInfo', {}, 10_000)
}

/** Live object count of one bucket (NodeInfo), or -1 if the node has no such bucket yet. */
export async function objectCount (n: NodeProcess, bucket: string): Promise<number> {
  const b = (await nodeInfo(n)).buckets.find(x => x.name === bucket)
  return b === undefined ? -1 : Number(b.objectCount)
}

export async function listShardsOf (n: NodeProcess, bucket: string): Promise<ListShardsResponse__Output> {
  return await callUnary<object, ListShardsResponse__Output>(n.clients.sync, 'ListShards', { bucket }, 10_000)
}

/** Waits until no shard of the bucket is SPLITTING and the shard count held still for a while. */
export async function waitSplitsSettled (n: NodeProcess, bucket: string, timeoutMs = 300_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let last = -1
  let stableSince = Date.now()
  for (;;) {
    const { shards } = await listShardsOf(n, bucket)
    const splitting = shards.some(s => s.state === 'SPLIT_STATE_SPLITTING')
    if (shards.length !== last || splitting) { last = shards.length; stableSince = Date.now() }
    if (!splitting && Date.now() - stableSince >= 500) return shards.length
    if (Date.now() > deadline) throw new Error(`splits of ${bucket} did not settle`)
    await sleep(100)
  }
}

/** Stops nodes, ignoring failures (so that a failed section still cleans up). */
export async function stopNodes (...nodes: Array<NodeProcess | undefined>): Promise<void> {
  await Promise.all(nodes.map(async n => await n?.stop().catch(() => null)))
}

// ---- loading -----------------------------------------------------------------

/**
 * ObjectService clients on separate HTTP/2 connections (a local subchannel
 * pool each), so that many concurrent PutObject streams are not all
 * squeezed through one connection's flow control.
 */
export function objectClients (address: string, channels: number): ObjectServiceClient[] {
  const v1 = loadShardsyncProto().grpcObject.shardsync.v1
  return Array.from({ length: channels }, (_, i) => new v1.ObjectService(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.primary_user_agent': `bench-${i}`
  }))
}

export function closeClients (clients: grpc.Client[]): void {
  for (const c of clients) c.close()
}

const PUT_CHUNK = 256 * 1024

/** One PutObject call: a single message for small bodies, 256 KiB chunks with back-pressure otherwise. */
export async function put (client: ObjectServiceClient, bucket: string, key: string, body: Buffer, deadlineMs = 120_000): Promise<ObjectInfo__Output> {
  return await new Promise<ObjectInfo__Output>((resolve, reject) => {
    const call = client.PutObject({ deadline: Date.now() + deadlineMs }, (err, res) => err !== null ? reject(err) : resolve(res as ObjectInfo__Output))
    if (body.length <= PUT_CHUNK) {
      call.write({ bucket, key, data: body })
      call.end()
      return
    }
    let off = 0
    const pump = (): void => {
      while (off < body.length) {
        const msg = off === 0 ? { bucket, key, data: body.subarray(0, PUT_CHUNK) } : { data: body.subarray(off, off + PUT_CHUNK) }
        off += PUT_CHUNK
        if (!call.write(msg)) { call.once('drain', pump); return }
      }
      call.end()
    }
    pump()
  })
}

/** Random bytes to slice object bodies from (bodies differ by offset and a stamped index). */
export class BodyPool {
  private readonly pool: Buffer
  constructor (bytes = 32 * 1024 * 1024) { this.pool = crypto.randomBytes(bytes) }

  /** A fresh buffer of `size` bytes for object i. */
  body (i: number, size: number): Buffer {
    const out = Buffer.allocUnsafe(size)
    const span = this.pool.length - size
    const off = span > 0 ? (i * 7919) % span : 0
    this.pool.copy(out, 0, off, off + Math.min(size, this.pool.length))
    if (size >= 8) out.writeUInt32BE(i >>> 0, 0)
    return out
  }
}

/**
 * A lean PutObject client for bulk loading: the gRPC wire protocol spoken
 * directly over node:http2 (one request per object, one length-prefixed
 * protobuf PutObjectRequest message, status from the trailers). Same public
 * API and bytes on the wire as grpc-js, at a fraction of grpc-js's
 * per-call CPU, so that on a small machine the loader leaves the CPUs to the
 * node being loaded. Bodies up to 4 MiB (one message).
 *
 * Open-loop writers (the lag section) can hold thousands of requests at
 * once when the node falls behind (beyond its 128 concurrent streams they
 * wait in the session). With node:http2's default session memory limit
 * (10 MB) the session then refused new streams (NGHTTP2_ENHANCE_YOUR_CALM)
 * and was destroyed: every later PUT of the run failed, and a short stall
 * of the node lost half or all of a lag run. The limit is raised so that
 * a backlog shows as PUT latency instead.
 */
const PUTTER_SESSION_MEMORY_MB = 1024

export class H2Putter {
  private readonly sessions: http2.ClientHttp2Session[]
  private next = 0

  constructor (address: string, sessions: number) {
    this.sessions = Array.from({ length: sessions }, () => {
      const s = http2.connect(`http://${address}`, { maxSessionMemory: PUTTER_SESSION_MEMORY_MB })
      s.on('error', () => {})
      return s
    })
  }

  async put (bucket: string, key: string, body: Buffer, timeoutMs = 120_000): Promise<void> {
    const session = this.sessions[this.next++ % this.sessions.length]
    const msg = encodePutObjectRequest(bucket, key, body)
    const frame = Buffer.allocUnsafe(5 + msg.length)
    frame[0] = 0
    frame.writeUInt32BE(msg.length, 1)
    msg.copy(frame, 5)
    await new Promise<void>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': '/shardsync.v1.ObjectService/PutObject',
        'content-type': 'application/grpc',
        te: 'trailers'
      })
      let status: string | undefined
      let message = ''
      const take = (h: http2.IncomingHttpHeaders): void => {
        if (h['grpc-status'] !== undefined) { status = String(h['grpc-status']); message = String(h['grpc-message'] ?? '') }
      }
      req.on('response', take)
      req.on('trailers', take)
      req.on('data', () => {})
      req.on('error', reject)
      req.setTimeout(timeoutMs, () => req.close(http2.constants.NGHTTP2_CANCEL))
      req.on('close', () => status === '0' ? resolve() : reject(new Error(`PutObject ${key}: grpc-status ${status ?? 'none'} ${decodeURIComponent(message)}`)))
      req.end(frame)
    })
  }

  close (): void {
    for (const s of this.sessions) s.close()
  }
}

function varint (n: number, out: number[]): void {
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
}

/** PutObjectRequest { bucket = 1; key = 2; data = 3 } in protobuf wire format. */
export function encodePutObjectRequest (bucket: string, key: string, data: Buffer): Buffer {
  const b = Buffer.from(bucket, 'utf8')
  const k = Buffer.from(key, 'utf8')
  const head: number[] = [0x0a]
  varint(b.length, head)
  const keyHead: number[] = [0x12]
  varint(k.length, keyHead)
  const dataHead: number[] = [0x1a]
  varint(data.length, dataHead)
  return Buffer.concat([Buffer.from(head), b, Buffer.from(keyHead), k, Buffer.from(dataHead), data])
}

export interface LoadOptions {
  count: number
  size: number
  concurrency: number
  channels: number
  key: (i: number) => string
  log?: (line: string) => void
  label?: string
}

/**
 * Loads objects with many PutObject streams in flight over several
 * connections. Returns the rate achieved (the loader is not what is being
 * measured, but its rate is reported for context).
 */
export async function loadObjects (address: string, bucket: string, o: LoadOptions): Promise<{ count: number, seconds: number, perSecond: number }> {
  const lean = o.size <= 4 * 1024 * 1024
  const clients = lean ? [] : objectClients(address, o.channels)
  const h2 = lean ? new H2Putter(address, o.channels) : undefined
  const pool = new BodyPool(Math.max(o.size * 4, 4 * 1024 * 1024))
  const started = now()
  let next = 0
  let done = 0
  let lastReport = started
  const worker = async (w: number): Promise<void> => {
    const client = clients[w % Math.max(1, clients.length)]
    while (next < o.count) {
      const i = next++
      let attempt = 0
      for (;;) {
        try {
          if (h2 !== undefined) await h2.put(bucket, o.key(i), pool.body(i, o.size))
          else await put(client, bucket, o.key(i), pool.body(i, o.size))
          break
        } catch (err) {
          if (++attempt >= 5) throw err
          await sleep(200 * attempt)
        }
      }
      done++
      if (o.log !== undefined && now() - lastReport > 5000) {
        lastReport = now()
        o.log(`  ${o.label ?? 'load'}: ${done}/${o.count} (${Math.round(done / ((lastReport - started) / 1000))}/s)`)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, async (_, w) => await worker(w)))
  } finally {
    closeClients(clients)
    h2?.close()
  }
  const seconds = (now() - started) / 1000
  return { count: o.count, seconds: round(seconds, 2), perSecond: Math.round(o.count / seconds) }
}

export function padKey (prefix: string, i: number, width = 9): string {
  return prefix + String(i).padStart(width, '0')
}

export function machine (nodeEnv: Record<string, string> = {}): Record<string, unknown> {
  const cpus = os.cpus()
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemGiB: round(os.totalmem() / 2 ** 30, 1),
    // How the measured nodes read LevelDB tables: mapped ones count in RSS.
    leveldbTableReads: leveldbTableReads({ ...process.env, ...nodeEnv }),
    // Which of scripts/build-leveldb.js's changes the measured nodes run with.
    leveldbPatches: leveldbPatches({ ...process.env, ...nodeEnv }) ?? 'stock prebuilt binary'
  }
}
