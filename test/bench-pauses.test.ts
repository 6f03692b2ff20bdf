/**
 * The lag section's stall report (scripts/bench/pause-monitor.ts, read by
 * readStalls from what heap-preload.ts writes):
 * - PauseMonitor notes a main thread blocked for 300 ms as one pause of
 *   about 300 ms that began when the block did, and no pause under
 *   PAUSE_MS. Shown to fail with the threshold check removed (every tick
 *   is a pause) and with the start taken as the time noticed.
 * - A real node process with the real preload (--require, as the bench
 *   starts measured nodes) that blocks for 400 ms: readStalls finds that
 *   pause on the clock of `since`, without signalling the process.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { readStalls, sleep } from '../scripts/bench/common'
import { PAUSE_MS, PauseMonitor } from '../scripts/bench/pause-monitor'

function block (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* the main thread does nothing else */ }
}

t.test('PauseMonitor: a blocked main thread is one pause, from when it began', async t => {
  // Other test files run beside this one, so the thread may also be held
  // up now and then: the checks look for the block, not for silence.
  const monitor = new PauseMonitor().start()
  t.teardown(() => monitor.stop())
  await sleep(200)
  const blockedAt = Date.now()
  block(300)
  await sleep(100)
  t.ok(monitor.pauses.every(p => p[1] > PAUSE_MS), `only pauses over ${PAUSE_MS} ms are noted`)
  const found = monitor.pauses.filter(p => p[1] >= 250)
  t.equal(found.length, 1, 'the block is one pause')
  const [began, ms] = found[0] ?? [0, 0]
  t.ok(ms >= 250 && ms <= 2000, `of about 300 ms (${ms})`)
  t.ok(Math.abs(began - blockedAt) <= 150, `that began when the block did (${began - blockedAt} ms off)`)
  t.same(monitor.since(blockedAt + 1000), [], 'since: later pauses only')
  const rel = monitor.since(blockedAt - 2000).filter(p => p[1] >= 250)
  t.ok(rel.length === 1 && rel[0][0] >= 1.8 && rel[0][0] <= 2.2, `since: seconds from it (${JSON.stringify(rel)})`)
})

t.test('readStalls: a node process under the preload, blocked for 400 ms', async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-pauses-'))
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }))
  const heapDir = path.join(root, 'heap')
  fs.mkdirSync(heapDir, { recursive: true })
  const preload = path.join(__dirname, '..', 'scripts', 'bench', 'heap-preload.js')
  const since = Date.now()
  const script = 'setTimeout(() => { const end = Date.now() + 400; while (Date.now() < end) {} ; setTimeout(() => {}, 300) }, 300)'
  const child = spawn(process.execPath, ['--require', preload, '-e', script], { env: { ...process.env, BENCH_HEAP_DIR: heapDir }, stdio: 'ignore' })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  t.equal(code, 0, 'the child ran to the end')
  const stalls = readStalls({ root } as unknown as Parameters<typeof readStalls>[0], child.pid, since)
  t.ok(stalls !== undefined, 'the preload wrote its file')
  const all = stalls?.pauses ?? []
  const pauses = all.filter(p => p[1] >= 350)
  t.ok(pauses.length >= 1, `the block is a pause (${JSON.stringify(all)})`)
  // A later long pause may be a loaded machine starving the child; none may start inside the block.
  const [start, ms] = pauses[0] ?? [0, 0]
  const inside = all.filter(p => p !== pauses[0] && p[0] >= start && p[0] < start + ms / 1000)
  t.same(inside, [], `the block is one pause, not several (${JSON.stringify(all)})`)
  t.ok(pauses[0]?.[1] <= 2000, 'of about 400 ms')
  t.ok(pauses[0]?.[0] >= 0.2 && pauses[0]?.[0] <= 3, 'on the clock of since, in seconds')
  t.same(readStalls({ root } as unknown as Parameters<typeof readStalls>[0], 1, since), undefined, 'no file: undefined')
})
