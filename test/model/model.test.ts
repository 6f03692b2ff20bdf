/**
 * Protocol model test of split-aware sync (issue 3): thousands of seeded
 * schedules of the real sync logic (node/sync/) against a simulated source
 * (test/model/sim-source.ts), each run by test/model/schedule.ts, with
 * splits at random points, notices dropped, delayed, duplicated and
 * reordered, target crashes and source RPC failures; every schedule must
 * converge. A failing schedule is reported with the seed that replays it.
 *
 * Owns only the choice of seeds, the coverage checks and the reporting.
 * Negative control: the same schedules with mode 'related-art' must find a
 * schedule that does not converge, which shows the model can fail.
 *
 * Environment:
 *   MODEL_SCHEDULES=N          schedules in the main run (default 2000)
 *   MODEL_BASE_SEED=S          first seed of the main run (default: random per run, printed)
 *   MODEL_SEED=S               replay one schedule, printing its event log if it fails
 *   MODEL_MODE=related-art     mode of the replayed schedule (default split-aware)
 *   MODEL_TRACE=1              print the event log of the replay even if it passes
 *   MODEL_ECHO_ANY=1           replay with target-made writes echoed into shards still in full
 *                              sync (half the schedules do so anyway; see schedule.ts)
 *   MODEL_NO_TOMBSTONES=1      replay with a source that lists no tombstones (negative control)
 *   MODEL_CONTROL_SCHEDULES=N  schedules of the negative control (default 150)
 *   MODEL_BUDGET_MS=MS         stop the main run early after this long (default 80000), so a
 *                              loaded CI box stays within the file's time; the count run is printed
 */
import t from 'tap'
import type { SyncMode } from '../../node/config'
import { emptyStats, type SimStats } from './sim-source'
import { runSchedule, type ScheduleResult } from './schedule'

const MAX_REPORTED = 5
const CONTROL_BASE_SEED = 0x5eed0001

function envInt (name: string, fallback: number): number {
  const v = process.env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`)
  return n
}

function describe (r: ScheduleResult): string {
  return `${r.problems.join('; ')} (steps ${r.steps}, restarts ${r.restarts}, splits ${r.stats.splitsDone}); replay with MODEL_SEED=${r.seed}`
}

interface Batch { results: ScheduleResult[], failures: ScheduleResult[], totals: SimStats, ms: number }

/** Runs schedules base, base+1, ... until `count` ran or the time budget is spent. */
async function runBatch (base: number, count: number, mode: SyncMode, budgetMs = Infinity, extra: { noTombstones?: boolean, echoAnyShard?: boolean } = {}): Promise<Batch> {
  const totals = emptyStats()
  const results: ScheduleResult[] = []
  const failures: ScheduleResult[] = []
  const t0 = Date.now()
  for (let i = 0; i < count && Date.now() - t0 < budgetMs; i++) {
    const r = await runSchedule((base + i) >>> 0, { mode, ...extra })
    results.push(r)
    for (const k of Object.keys(totals) as Array<keyof SimStats>) totals[k] += r.stats[k]
    if (!r.ok) failures.push(r)
  }
  return { results, failures, totals, ms: Date.now() - t0 }
}

const replay = process.env.MODEL_SEED
if (replay !== undefined && replay !== '') {
  t.test(`replay of schedule ${replay}`, async (t) => {
    const mode: SyncMode = process.env.MODEL_MODE === 'related-art' ? 'related-art' : 'split-aware'
    const r = await runSchedule(envInt('MODEL_SEED', 0), { mode, trace: true, echoAnyShard: process.env.MODEL_ECHO_ANY === '1', noTombstones: process.env.MODEL_NO_TOMBSTONES === '1' })
    if (!r.ok || process.env.MODEL_TRACE === '1') t.comment((r.trace ?? []).join('\n'))
    t.comment(`stats ${JSON.stringify(r.stats)}`)
    t.ok(r.ok, r.ok ? `schedule ${r.seed} converges (${mode})` : describe(r))
  })
} else {
  t.test('split-aware sync converges on every schedule', async (t) => {
    const count = envInt('MODEL_SCHEDULES', 2000)
    const base = envInt('MODEL_BASE_SEED', Math.floor(Math.random() * 2 ** 32))
    t.comment(`${count} schedules, seeds ${base}..${(base + count - 1) >>> 0} (MODEL_BASE_SEED=${base})`)
    const b = await runBatch(base, count, 'split-aware', envInt('MODEL_BUDGET_MS', 80_000))
    const s = b.totals
    t.comment(`ran ${b.results.length} schedules in ${(b.ms / 1000).toFixed(1)} s: ${b.failures.length} failed`)
    t.comment(`source: ${s.writes} writes, ${s.deletes} deletes, ${s.echoes} echoed target writes, ${s.parked} parked; splits ${s.splitsBegun} begun, ${s.splitsDone} done`)
    t.comment(`faults: ${s.failures} RPC failures in ${s.rpcs} RPCs, ${s.crashes} crashes (${s.crashesInFullSync} mid-full-sync); notices ${s.noticesSent} delivered, ${s.noticesDropped} dropped, ${s.noticesDelayed} delayed, ${s.noticesDuplicated} duplicated, ${s.noticesReordered} reordered, ${s.noticesForged} forged`)
    t.comment(`splits of new shards before their sync started: ${s.splitsOfUnstartedNewShards}; splits while the shard was being listed: ${s.splitsWhileListed}`)
    if (b.failures.length > 0) t.comment(`failing seeds: ${b.failures.slice(0, 100).map(r => r.seed).join(' ')}`)
    for (const r of b.failures.slice(0, MAX_REPORTED)) t.fail(`schedule ${r.seed} did not converge: ${describe(r)}`)
    t.equal(b.failures.length, 0, `${b.failures.length} of ${b.results.length} schedules did not converge`)
    if (b.results.length >= 200) {
      // The fault mix the model promises must actually occur.
      t.ok(s.noticesDropped > 0, 'notices were dropped')
      t.ok(s.noticesDelayed > 0, 'notices were delayed')
      t.ok(s.noticesDuplicated > 0, 'notices were duplicated')
      t.ok(s.noticesReordered > 0, 'notices were reordered')
      t.ok(s.noticesForged > 0, 'notices were forged')
      t.ok(s.splitsOfUnstartedNewShards > 0, 'new shards split before their sync started')
      t.ok(s.splitsWhileListed > 0, 'shards split while being listed')
      t.ok(s.crashesInFullSync > 0, 'target crashed mid-full-sync')
      t.ok(s.failures > 0, 'source RPCs failed')
      t.ok(s.echoes > 0, 'writes that came from the target were left out of pulls')
    }
  })

  t.test('negative control: related-art mode does not converge on some schedule', async (t) => {
    const count = envInt('MODEL_CONTROL_SCHEDULES', 150)
    const b = await runBatch(CONTROL_BASE_SEED, count, 'related-art')
    t.comment(`related-art: ${b.failures.length} of ${b.results.length} schedules did not converge (${(b.ms / 1000).toFixed(1)} s)`)
    const first = b.failures[0]
    if (first !== undefined) t.comment(`e.g. schedule ${first.seed}: ${first.problems.join('; ')} (MODEL_MODE=related-art MODEL_SEED=${first.seed})`)
    t.ok(b.failures.length > 0, 'the model finds a non-converging schedule in related-art mode')
  })

  t.test('negative control: full sync without listed tombstones does not converge on some schedule', async (t) => {
    // Split-aware sync, but the source lists live entries only (as before
    // invariant 17), with target-made writes echoed into shards in full sync.
    const count = envInt('MODEL_CONTROL_SCHEDULES', 150)
    const b = await runBatch(CONTROL_BASE_SEED, count, 'split-aware', Infinity, { noTombstones: true, echoAnyShard: true })
    t.comment(`no tombstones: ${b.failures.length} of ${b.results.length} schedules did not converge (${(b.ms / 1000).toFixed(1)} s)`)
    const first = b.failures[0]
    if (first !== undefined) t.comment(`e.g. schedule ${first.seed}: ${first.problems.join('; ')} (MODEL_NO_TOMBSTONES=1 MODEL_SEED=${first.seed})`)
    t.ok(b.failures.some(r => r.problems.some(p => p.includes('deleted at the source still at the target'))), 'the model finds a delete that full sync without tombstones loses')
  })
}
