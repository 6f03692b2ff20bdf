/**
 * Bucket lifecycle model (issue 26, hole 3): seeded schedules of random
 * bucket creates and deletes racing object writes on two sites
 * (test/model/bucket-lifecycle.ts), each checked at quiescence: both sites
 * identical, no acknowledged write later than every delete lost, nothing of
 * a deleted generation older than its delete back. Negative controls: the
 * behaviour before this change and a "delete wins" rule must both fail.
 *
 *   LIFECYCLE_SCHEDULES=N   schedules of the main run (default 10000)
 *   LIFECYCLE_SEED=S        replay one schedule and print its log
 */
import t from 'tap'
import { runLifecycle, type LifecycleMode } from './bucket-lifecycle'

const N = Number(process.env.LIFECYCLE_SCHEDULES ?? 10000)
const BASE = 0x0b0c0000

function run (mode: LifecycleMode, count: number): { failures: ReturnType<typeof runLifecycle>[], totals: Record<string, number> } {
  const failures = []
  const totals: Record<string, number> = {}
  for (let i = 0; i < count; i++) {
    const r = runLifecycle(BASE + i, mode)
    for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v
    if (!r.ok) failures.push(r)
  }
  return { failures, totals }
}

if (process.env.LIFECYCLE_SEED !== undefined) {
  const r = runLifecycle(Number(process.env.LIFECYCLE_SEED), (process.env.LIFECYCLE_MODE ?? 'rule') as LifecycleMode)
  console.log(r.log.join('\n'))
  console.log(r.problems.join('\n'))
  t.ok(r.ok, 'replayed schedule holds')
} else {
  t.test(`${N} schedules with the rule converge`, async t => {
    const { failures, totals } = run('rule', N)
    t.comment(`totals: ${JSON.stringify(totals)}`)
    for (const f of failures.slice(0, 3)) t.comment(`seed ${f.seed}: ${f.problems.slice(0, 3).join('; ')}`)
    t.equal(failures.length, 0, 'every schedule holds the invariants')
    // The schedules reach the races the rule is about.
    t.ok(totals.bucketDeletes > N / 2, 'bucket deletes happen')
    t.ok(totals.deletesLost > 0, 'a delete loses to a later write on the other site')
    t.ok(totals.revives > 0, 'a deleting site revives the bucket')
    t.ok(totals.merges > 0, 'concurrent creates merge')
  })

  for (const mode of ['no-replication', 'delete-wins'] as const) {
    t.test(`negative control: ${mode} fails`, async t => {
      const { failures } = run(mode, 500)
      t.comment(failures[0] !== undefined ? `seed ${failures[0].seed}: ${failures[0].problems[0]}` : 'no failure')
      t.ok(failures.length > 0, `${failures.length} of 500 schedules fail`)
    })
  }
}
