/**
 * CPU of a measured node split by thread, for the full-sync sections: its
 * main thread (JavaScript, gRPC, the sync loop), its busiest other thread,
 * and the rest. In a target during full sync the busiest other thread is
 * LevelDB's one background thread, compacting (a gdb backtrace of that
 * thread: DBImpl::BackgroundCompaction); the rest are libuv's pool (LevelDB
 * reads and batch writes, file I/O) and V8's platform workers (GC).
 *
 * Read from /proc/<pid>/task/<tid>/schedstat: ns on a core and ns runnable
 * but waiting for one, per thread, so the main thread's wait shows how much
 * the two cores held it up. Linux only; elsewhere every figure is undefined.
 * A thread that ends between the two readings is left out.
 */
import fs from 'node:fs'
import { round } from './common'

export type ThreadTimes = Map<number, { runNs: number, waitNs: number }>

export interface ThreadCpu {
  mainCpuSeconds: number
  /** Main thread runnable but not running (both cores busy elsewhere). */
  mainWaitSeconds: number
  busiestOtherCpuSeconds: number
  restCpuSeconds: number
  threads: number
}

/** Per-thread run and wait times of a process so far, or undefined. */
export function threadTimes (pid: number | undefined): ThreadTimes | undefined {
  if (pid === undefined) return undefined
  try {
    const out: ThreadTimes = new Map()
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')
        out.set(Number(tid), { runNs: Number(run), waitNs: Number(wait) })
      } catch {
        // the thread ended while the list was read
      }
    }
    return out
  } catch {
    return undefined
  }
}

/** What each thread used between two readings of the same process. */
export function threadCpuBetween (pid: number | undefined, before: ThreadTimes | undefined, after: ThreadTimes | undefined): ThreadCpu | undefined {
  if (pid === undefined || before === undefined || after === undefined) return undefined
  let main = { run: 0, wait: 0 }
  const others: number[] = []
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { runNs: 0, waitNs: 0 }
    const run = a.runNs - b.runNs
    if (tid === pid) main = { run, wait: a.waitNs - b.waitNs }
    else others.push(run)
  }
  others.sort((x, y) => y - x)
  const s = (ns: number): number => round(ns / 1e9, 2)
  return {
    mainCpuSeconds: s(main.run),
    mainWaitSeconds: s(main.wait),
    busiestOtherCpuSeconds: s(others[0] ?? 0),
    restCpuSeconds: s(others.slice(1).reduce((x, y) => x + y, 0)),
    threads: after.size
  }
}
