/**
 * Preloaded (NODE_OPTIONS=--require) with cpu-profile-preload.ts into the
 * measured nodes by `npm run bench -- --profile DIR`: how long the node's
 * main thread waited for a core, and where.
 *
 * A V8 CPU profile books wall time: a sample's interval goes to whatever
 * JavaScript was on the stack, also while the thread was runnable but not
 * running. On two cores shared by two nodes and their LevelDB threads that
 * is not rare: every LevelDB read or write queues work to libuv's pool, and
 * waking a pool thread often hands it the main thread's core. The profile
 * then shows that wait as self time of the LevelDB call. This preload reads
 * the main thread's scheduler statistics (/proc/self/task/<pid>/schedstat:
 * ns on a core, ns runnable and waiting) when the process starts and when it
 * exits, and around the synchronous part of the LevelDB calls that queue
 * work (get, getMany, a chained batch's write). A wait counted between two
 * reads began and ended between them (the kernel adds it when the thread
 * gets a core back), so a call's share is its own. Cost: two small file
 * reads per call, a few thousand calls in a full sync.
 *
 * Written on exit to $BENCH_CPU_PROF_DIR/SCHED.<pid>.json (SchedReport);
 * profile.ts prints it with the profile of the same pid. Linux only: where
 * the file is missing nothing is wrapped and nothing written.
 */
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

export interface CallWaits { n: number, wallMs: number, waitMs: number }

export interface SchedReport {
  pid: number
  /** Main thread, from this preload to exit. */
  runMs: number
  waitMs: number
  wallMs: number
  /** Synchronous part of each wrapped LevelDB call, summed. */
  calls: Record<string, CallWaits>
}

const STAT = `/proc/self/task/${process.pid}/schedstat`

function readSched (): [number, number] {
  const [run, wait] = fs.readFileSync(STAT, 'latin1').split(' ')
  return [Number(run), Number(wait)]
}

function wrap (proto: Record<string, unknown>, method: string, into: CallWaits): void {
  const original = proto[method] as (...args: unknown[]) => unknown
  proto[method] = function (this: unknown, ...args: unknown[]): unknown {
    const wait0 = readSched()[1]
    const t0 = performance.now()
    try {
      return original.apply(this, args)
    } finally {
      into.wallMs += performance.now() - t0
      into.waitMs += (readSched()[1] - wait0) / 1e6
      into.n++
    }
  }
}

const dir = process.env.BENCH_CPU_PROF_DIR
if (dir !== undefined && dir !== '' && fs.existsSync(STAT)) {
  const [run0, wait0] = readSched()
  const wall0 = performance.now()
  const calls: Record<string, CallWaits> = { get: { n: 0, wallMs: 0, waitMs: 0 }, getMany: { n: 0, wallMs: 0, waitMs: 0 }, batchWrite: { n: 0, wallMs: 0, waitMs: 0 } }
  try {
    // Resolved from the node's own module tree, as the node resolves it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ClassicLevel } = require('classic-level')
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ChainedBatch } = require('classic-level/chained-batch.js')
    wrap(ClassicLevel.prototype, '_get', calls.get)
    wrap(ClassicLevel.prototype, '_getMany', calls.getMany)
    wrap(ChainedBatch.prototype, '_write', calls.batchWrite)
  } catch {
    // No classic-level here: the totals are still written.
  }
  process.on('exit', () => {
    const [run, wait] = readSched()
    const ms = (x: number): number => Math.round(x * 10) / 10
    const report: SchedReport = {
      pid: process.pid,
      runMs: ms((run - run0) / 1e6),
      waitMs: ms((wait - wait0) / 1e6),
      wallMs: ms(performance.now() - wall0),
      calls: Object.fromEntries(Object.entries(calls).map(([k, c]) => [k, { n: c.n, wallMs: ms(c.wallMs), waitMs: ms(c.waitMs) }]))
    }
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, `SCHED.${process.pid}.json`), JSON.stringify(report))
  })
}
