/**
 * The bench's CPU split by thread (scripts/bench/thread-cpu.ts) and the
 * record of the main thread's waits for a core that --profile adds
 * (scripts/bench/sched-preload.ts):
 * - threadCpuBetween splits two readings into main, busiest other and the
 *   rest, counting a thread born between them from zero;
 * - on a real child process whose worker thread burns CPU while its main
 *   thread sleeps, the busiest other thread carries that CPU, not main;
 * - a real child under the preload that makes 20 LevelDB gets and 3 batch
 *   writes has them counted in SCHED.<pid>.json (none without the wrap),
 *   and the profile summary of that pid prints them.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { sleep } from '../scripts/bench/common'
import { printSummary, summarizeProfile } from '../scripts/bench/profile'
import type { SchedReport } from '../scripts/bench/sched-preload'
import { threadCpuBetween, threadTimes, type ThreadTimes } from '../scripts/bench/thread-cpu'

const ROOT = path.join(__dirname, '..', '..')
const linux = process.platform === 'linux' ? false : 'reads /proc'

t.test('threadCpuBetween: main, busiest other, rest; a new thread counts from zero', async t => {
  const s = (runS: number, waitS = 0): { runNs: number, waitNs: number } => ({ runNs: runS * 1e9, waitNs: waitS * 1e9 })
  const before: ThreadTimes = new Map([[100, s(1, 0.2)], [101, s(0.5)], [102, s(0)]])
  const after: ThreadTimes = new Map([[100, s(3, 0.7)], [101, s(3)], [102, s(0.4)], [103, s(0.3)]])
  t.same(threadCpuBetween(100, before, after), {
    mainCpuSeconds: 2,
    mainWaitSeconds: 0.5,
    busiestOtherCpuSeconds: 2.5,
    restCpuSeconds: 0.7,
    threads: 4
  })
  t.equal(threadCpuBetween(100, undefined, after), undefined, 'no reading: no figures')
})

t.test('a worker burning CPU is the busiest other thread, not main', { skip: linux }, async t => {
  const child = spawn(process.execPath, ['-e', `
    const { Worker } = require('node:worker_threads')
    process.stdin.once('data', () => {
      // It stays alive after burning: a thread that has ended is not read.
      // It burns 400 ms of its own CPU time (not of wall time, which a busy machine would shorten).
      const w = new Worker("const fs = require('node:fs'); const onCpu = () => Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]); const end = onCpu() + 400e6; while (onCpu() < end) { for (let i = 0; i < 1e5; i++); }; require('node:worker_threads').parentPort.postMessage('burnt'); setInterval(() => {}, 1000)", { eval: true })
      w.once('message', () => process.stdout.write('done'))
    })
    process.stdin.resume()
  `], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill() })
  await sleep(300)
  const before = threadTimes(child.pid)
  const done = new Promise(resolve => child.stdout.once('data', resolve))
  child.stdin.write('go')
  await done
  const split = threadCpuBetween(child.pid, before, threadTimes(child.pid))
  t.ok(split !== undefined, 'read')
  if (split === undefined) return
  t.ok(split.busiestOtherCpuSeconds >= 0.25, `the worker: ${split.busiestOtherCpuSeconds} s`)
  t.ok(split.mainCpuSeconds < split.busiestOtherCpuSeconds / 2, `main: ${split.mainCpuSeconds} s`)
})

t.test('sched-preload counts LevelDB calls and the main thread\'s time', { skip: linux }, async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-sched-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const r = spawnSync(process.execPath, ['--require', path.join(ROOT, 'dist', 'scripts', 'bench', 'sched-preload.js'), '-e', `
    const { Level } = require('level')
    ;(async () => {
      const db = new Level(${JSON.stringify(path.join(dir, 'db'))})
      await db.open()
      for (let i = 0; i < 3; i++) await db.batch().put('k' + i, 'v').write()
      for (let i = 0; i < 20; i++) await db.get('k' + (i % 3))
      await db.getMany(['k0', 'k1'])
      await db.close()
      process.stdout.write(String(process.pid))
    })()
  `], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, BENCH_CPU_PROF_DIR: dir }, timeout: 30_000 })
  t.equal(r.status, 0, r.stderr)
  const report = JSON.parse(fs.readFileSync(path.join(dir, `SCHED.${r.stdout}.json`), 'utf8')) as SchedReport
  t.equal(report.pid, Number(r.stdout))
  t.equal(report.calls.get.n, 20, 'every get')
  t.equal(report.calls.batchWrite.n, 3, 'every batch write')
  t.equal(report.calls.getMany.n, 1, 'the getMany')
  t.ok(report.runMs > 0 && report.waitMs >= 0 && report.wallMs >= report.runMs / 2, `main thread: ${report.runMs} ms on a core, ${report.waitMs} ms waiting`)
  t.ok(report.calls.get.waitMs <= report.calls.get.wallMs + 1, 'a call waits no longer than it lasts')

  // The summary of the same pid's profile (a minimal one) carries it.
  const profile = path.join(dir, `CPU.1.${r.stdout}.0.1.cpuprofile`)
  fs.writeFileSync(profile, JSON.stringify({ nodes: [{ id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [] }], startTime: 0, endTime: 1000, samples: [1], timeDeltas: [1000] }))
  const summary = summarizeProfile(profile)
  t.same(summary.sched, report)
  const lines: string[] = []
  printSummary(summary, l => lines.push(l))
  t.ok(lines.some(l => l.includes(`${Math.round(report.runMs)} ms on a core`) && l.includes('LevelDB calls (24)')), 'printed above the profile')
})
