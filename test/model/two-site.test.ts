/**
 * Two-site protocol model (issue 26; test/model/two-site.ts): seeded
 * schedules of both sites writing, overwriting and deleting, splitting,
 * syncing each other, crashing mid-step, reporting positions, trimming logs,
 * collecting tombstones, going away past the retention and exchanging lost,
 * duplicated, reordered and forged notices; each checked at quiescence
 * (both sites equal to last-writer-wins over every acknowledged write and
 * delete; every shard tailed; logs trimmed and tombstones collected).
 * Negative controls: each broken variant must fail on some schedule.
 *
 *   TWO_SITE_SCHEDULES=N   schedules of the main run (default 10000)
 *   TWO_SITE_SEED=S        replay one schedule and print its trace
 *   TWO_SITE_MODE=M        mode of the replay (default split-aware)
 */
import t from 'tap'
import { runTwoSite, type TwoSiteMode, type TwoSiteResult, type TwoSiteStats } from './two-site'

const N = Number(process.env.TWO_SITE_SCHEDULES ?? 10000)
const BASE = 0x25170000
const CONTROL_SCHEDULES = 1500

function run (mode: TwoSiteMode, count: number): { failures: TwoSiteResult[], totals: Record<string, number> } {
  const failures: TwoSiteResult[] = []
  const totals: Record<string, number> = {}
  for (let i = 0; i < count; i++) {
    const r = runTwoSite(BASE + i, mode)
    for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v
    if (!r.ok) failures.push(r)
  }
  return { failures, totals }
}

if (process.env.TWO_SITE_SEED !== undefined) {
  t.test('replay', async t => {
    const r = runTwoSite(Number(process.env.TWO_SITE_SEED), (process.env.TWO_SITE_MODE ?? 'split-aware') as TwoSiteMode, { trace: true })
    t.comment((r.trace ?? []).join('\n'))
    t.ok(r.ok, r.problems.join('; '))
  })
} else {
  t.test(`${N} two-site schedules converge`, async t => {
    const t0 = Date.now()
    const { failures, totals } = run('split-aware', N)
    t.comment(`${N} schedules in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(totals)}`)
    for (const f of failures.slice(0, 5)) t.fail(`seed ${f.seed}: ${f.problems.join('; ')} (replay: TWO_SITE_SEED=${f.seed})`)
    t.equal(failures.length, 0, 'every schedule converges')
    const s = totals as unknown as TwoSiteStats
    if (N >= 1000) {
      for (const k of ['deletes', 'splits', 'resyncs', 'trimmed', 'collected', 'crashes', 'aways', 'noticesLost', 'noticesForged', 'listedTombstones'] as const) {
        t.ok(s[k] > 0, `the fault mix includes ${k} (${s[k]})`)
      }
    }
  })

  const controls: Array<[TwoSiteMode, string]> = [
    ['related-art', 'no split awareness'],
    ['no-tombstones', 'listings without tombstones'],
    ['trim-ignores-peer', 'trimming and collection ignoring the peer'],
    ['gc-on-expiry', 'tombstones of an expired peer collected'],
    ['gc-no-drain', 'tombstones collected before draining the peer'],
    ['trust-notices', 'notices trusted unconfirmed']
  ]
  for (const [mode, what] of controls) {
    t.test(`negative control: ${what} (${mode}) fails on some schedule`, async t => {
      const { failures } = run(mode, CONTROL_SCHEDULES)
      const first = failures[0]
      t.comment(`${mode}: ${failures.length} of ${CONTROL_SCHEDULES} schedules fail${first !== undefined ? `; e.g. seed ${first.seed}: ${first.problems.join('; ')}` : ''}`)
      t.ok(failures.length > 0, `${mode} fails on some schedule`)
    })
  }
}
