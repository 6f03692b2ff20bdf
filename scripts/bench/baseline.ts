/**
 * Section 1, the yardstick: a bare streamed copy of N objects of 1 KiB
 * between two Node processes, LevelDB on both ends, batched writes on the
 * receiver. Run over a raw TCP socket (length-prefixed frames: the bare copy,
 * and the yardstick the ratio is taken against) and over gRPC (one
 * server-streaming call, the transport shardsync uses; one message per
 * object, and ~64 KiB messages of many objects), so that the transport's own
 * cost and the cost of per-object messages are visible too. See
 * baseline-peer.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import { medianRun, waitQuiet, Contention, procCpuSeconds, procMemory, round, scratch, type BenchConfig, type ContentionReport } from './common'

const PEER = path.join(__dirname, 'baseline-peer.js')

/**
 * grpc: one server-streaming call, one protobuf message {key, data} per object.
 * grpc-batched: the same call, messages of ~64 KiB holding many objects.
 * tcp: one socket, length-prefixed frames coalesced into ~64 KiB writes.
 * tcp-files: large objects as files, one socket, each file written and
 * fdatasync'ed on the receiver (the yardstick of the large section).
 */
export type Transport = 'grpc' | 'grpc-batched' | 'tcp' | 'tcp-files'

export interface BaselineRun {
  transport: Transport
  objects: number
  objectBytes: number
  seconds: number
  objectsPerSecond: number
  mibPerSecond: number
  senderCpuSeconds: number
  receiverCpuSeconds: number
  /** CPU µs per object, sender and receiver together (from the unrounded seconds). */
  cpuMicrosPerObject: number
  senderPeakRssMiB?: number
  contention: ContentionReport
}

function child (role: string, args: unknown): { proc: ChildProcess, next: () => Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, [PEER, role, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const rl = readline.createInterface({ input: proc.stdout as NodeJS.ReadableStream })
  const queue: Array<Record<string, unknown>> = []
  const waiting: Array<(v: Record<string, unknown>) => void> = []
  const failed: Array<(e: Error) => void> = []
  rl.on('line', (line) => {
    let v: Record<string, unknown>
    try { v = JSON.parse(line) } catch { return }
    const w = waiting.shift()
    failed.shift()
    if (w !== undefined) w(v); else queue.push(v)
  })
  proc.on('exit', (code) => { if (code !== 0) for (const f of failed.splice(0)) f(new Error(`baseline ${role} exited ${code}: ${stderr.trim()}`)) })
  return {
    proc,
    next: async () => {
      const v = queue.shift()
      if (v !== undefined) return v
      return await new Promise((resolve, reject) => { waiting.push(resolve); failed.push(reject) })
    }
  }
}

/** One transport: the sender preloads once, then `reps` receivers copy everything (fresh LevelDB each). */
export async function runBaseline (cfg: BenchConfig, transport: Transport, count: number, size: number, reps = 1): Promise<BaselineRun & { reps: number[] }> {
  const s = scratch(cfg, `baseline-${transport}`)
  const sender = child('sender', { transport, dir: path.join(s.dir, 'sender'), count, size, batch: 1000 })
  let receiver: ReturnType<typeof child> | undefined
  try {
    const ready = await sender.next()
    const runs: BaselineRun[] = []
    for (let r = 0; r < reps; r++) {
      if (r === 0) await waitQuiet(cfg, `baseline ${transport}`)
      const cpu0 = procCpuSeconds(sender.proc.pid)
      const contention = new Contention()
      receiver = child('receiver', { transport, dir: path.join(s.dir, `receiver-${r}`), count, size, batch: 1000, address: ready.address })
      const result = await receiver.next()
      const senderCpu = procCpuSeconds(sender.proc.pid) - cpu0
      const receiverCpu = Number(result.cpuSeconds)
      const busy = contention.stop(senderCpu + receiverCpu)
      const n = Number(result.count)
      if (n !== count) throw new Error(`baseline copied ${n} of ${count} objects`)
      const seconds = Number(result.ms) / 1000
      runs.push({
        transport,
        objects: n,
        objectBytes: size,
        seconds: round(seconds, 2),
        objectsPerSecond: Math.round(n / seconds),
        mibPerSecond: round(n * size / seconds / 2 ** 20),
        senderCpuSeconds: round(senderCpu, 2),
        receiverCpuSeconds: round(receiverCpu, 2),
        cpuMicrosPerObject: round((senderCpu + receiverCpu) / n * 1e6, 2),
        senderPeakRssMiB: procMemory(sender.proc.pid)?.peakRssMiB,
        contention: busy
      })
    }
    // The median run (by rate) stands for the transport; all rates are kept.
    return { ...medianRun(runs, r => r.objectsPerSecond), reps: runs.map(r => r.objectsPerSecond) }
  } finally {
    sender.proc.kill('SIGTERM')
    receiver?.proc.kill('SIGKILL')
    await new Promise(resolve => setTimeout(resolve, 200))
    s.cleanup()
  }
}
