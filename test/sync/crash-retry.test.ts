/**
 * Scenarios 4, 5 and 6: a shard that stays SPLITTING, and crashes.
 *
 * 4. The target finds the source shard SPLITTING and must retry on a later
 *    cycle. --fault-split-pause-ms keeps the split going for seconds; the
 *    split is forced once the target is half-way through the shard, so its
 *    check after the last page sees SPLITTING, and the rounds after that see
 *    it before listing. Writes to the splitting shard complete while it is
 *    SPLITTING (they never wait for a split) and replicate too.
 * 5. The target is killed (SIGKILL) mid-full-sync and restarted: it resumes
 *    from its saved marker (no second 'shard entering full sync', and every
 *    entry of the shard is counted as listed exactly once) and converges.
 * 6. The source is killed (SIGKILL) mid-split and restarted: the split is
 *    finished at start-up, no shard is left SPLITTING, the target converges.
 */
import t from 'tap'
import { connectOneWay } from '../../scripts/lib/cluster'
import {
  assertConverged, deleteMany, Ledger, logs, makeBucket, makeKeys, markLog, objectCount, putMany, shardList, split,
  randomBody, startSites, stopwatch, waitConverged, waitFor, waitLog
} from './helpers'
import { putObject } from '../../node/cli/object-commands'

const SPLITTING_RETRY_MSG = 'source shard is SPLITTING: full sync round abandoned, retry next cycle'
const SPLITTING_LATE_MSG = 'source shard began SPLITTING during the listing: not done yet, retry next cycle'

t.test('scenario 4: the target sees SPLITTING and retries on a later cycle', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [
    { site: 'src', args: ['--fault-split-pause-ms', '3500'] },
    { site: 'tgt', args: ['--sync-rate', '1000'] }
  ])
  const bucket = 'splitting-retry'
  // One shard: 2,000 entries are two migration pages, so the split stays
  // SPLITTING for two pauses (7 s), several times what the target needs to
  // list the rest of the shard.
  await makeBucket(source, bucket, { shards: 1 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', 2000), { ledger })
  await connectOneWay(source, target)
  await waitFor(async () => await objectCount(target, bucket) >= 1000, { intervalMs: 50, what: 'target half-way through shard 0' })
  t.equal(logs(target, 'shard entering incremental sync', { bucket }).length, 0, 'precondition: target is still listing shard 0')
  lap('target half-way through shard 0')

  const splitting = split(source, bucket, 0)
  await waitLog(source, 'split started', { bucket, shard: 0 })
  t.equal((await shardList(source, bucket))[0].state, 'SPLIT_STATE_SPLITTING', 'source shard 0 is SPLITTING')
  // Writes to the splitting shard do not wait for the split; they must
  // still reach the target (moving keys are logged on the new shard).
  const resolvedAt: number[] = []
  const during = Promise.all(makeKeys('during-split-', 30).map(async key => {
    ledger.put(await putObject(source.clients, bucket, key, randomBody(100)))
    resolvedAt.push(Date.now())
  }))
  await waitLog(target, SPLITTING_RETRY_MSG, { bucket, shard: 0 }, { timeoutMs: 30_000 })
  t.pass('target abandoned a round because the source shard was SPLITTING')
  t.equal(logs(target, 'shard entering incremental sync', { bucket, shard: 0 }).length, 0, 'shard 0 did not go incremental while SPLITTING')
  const r = await splitting
  t.equal(r.newShard, 1, 'the split finished: new shard 1')
  await during
  const splitDone = await waitLog(source, 'split done', { bucket, shard: 0 })
  t.ok(Math.max(...resolvedAt) < Date.parse(String(splitDone.time)), 'every write to the shard completed while it was still SPLITTING')
  lap('split done')

  await assertConverged(t, source, target, bucket, { ledger })
  const retries = logs(target, SPLITTING_RETRY_MSG, { bucket, shard: 0 }).length
  const late = logs(target, SPLITTING_LATE_MSG, { bucket, shard: 0 }).length
  t.ok(retries >= 1, `rounds abandoned before listing: ${retries}; after the last page: ${late}`)
  const incremental = logs(target, 'shard entering incremental sync', { bucket, shard: 0 })
  t.equal(incremental.length, 1, 'shard 0 went incremental once, after the split')
  t.ok(Date.parse(String(incremental[0]?.time)) >= Date.parse(String(splitDone.time)), 'and only after the split was done')
  const found = logs(target, 'new source shard found: full sync started', { bucket, shard: 1 })
  t.equal(found.length, 1, `new shard 1 was started (found by ${String(found[0]?.foundBy)})`)
})

t.test('scenario 5: the target is killed mid-full-sync, restarted, and resumes', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--sync-rate', '500'] }])
  const bucket = 'target-crash'
  const OBJECTS = 2400
  await makeBucket(source, bucket, { shards: 1 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', OBJECTS), { ledger })
  await connectOneWay(source, target)
  // Past 1,000 copied objects, the first page (1,000 entries) is done and its
  // marker saved: the second page is copied only after that.
  await waitFor(async () => await objectCount(target, bucket) >= 1200, { intervalMs: 50, what: 'target half-way through the shard' })
  await target.kill9()
  lap('target killed')
  const restart = markLog(target, 'restart')
  t.equal(logs(target, 'shard entering full sync', { bucket, shard: 0 }).length, 1, 'the first process entered full sync of shard 0')
  t.equal(logs(target, 'shard entering incremental sync', { bucket }).length, 0, 'and was killed before finishing it')

  await target.restart()
  const kept = await objectCount(target, bucket)
  t.ok(kept >= 1200 && kept < OBJECTS, `the restarted target kept the ${kept} objects it had copied`)
  await waitConverged(source, target, bucket)
  t.equal(logs(target, 'shard entering full sync', { bucket, shard: 0 }, restart).length, 0, 'the restarted target did not start shard 0 over (it resumed from its marker)')
  await waitLog(target, 'shard entering incremental sync', { bucket, shard: 0 }, { since: restart })
  const done = logs(target, 'shard entering incremental sync', { bucket, shard: 0 }, restart)
  t.equal(done.length, 1, 'the restarted target finished full sync of shard 0')
  t.equal(done[0]?.listed, OBJECTS, 'over both processes, every entry of the shard was listed exactly once')

  // Incremental sync works after the crash too; then the full checks.
  await putMany(source.clients, bucket, makeKeys('after-', 100), { ledger })
  await deleteMany(source.clients, bucket, makeKeys('obj-', 50, 100), { ledger })
  await assertConverged(t, source, target, bucket, { ledger })
})

t.test('scenario 6: the source is killed mid-split and restarted', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [
    { site: 'src', args: ['--fault-split-pause-ms', '2500'] },
    { site: 'tgt', args: ['--sync-rate', '1000'] }
  ])
  const bucket = 'source-crash'
  await makeBucket(source, bucket, { shards: 2 })
  const ledger = new Ledger()
  const total = 1600
  await putMany(source.clients, bucket, makeKeys('obj-', total), { ledger })
  await connectOneWay(source, target)
  await waitFor(async () => await objectCount(target, bucket) >= 500, { intervalMs: 50, what: 'target part-way through full sync' })

  const splitting = split(source, bucket, 0).then(() => undefined, (err: { code?: string }) => err)
  await waitLog(source, 'split started', { bucket, shard: 0 })
  // Kill once the first migration page has moved (the splitter then pauses
  // 2.5 s before it goes on or marks the split done).
  await waitFor(async () => {
    const shards = await shardList(source, bucket)
    return shards.length === 3 && shards[0].state === 'SPLIT_STATE_SPLITTING' && Number(shards[2].indexCount) > 0
  }, { intervalMs: 20, what: 'first migration page' })
  await source.kill9()
  lap('source killed mid-split')
  const failed = await splitting
  t.ok(failed !== undefined, `the SplitShard call failed (${String(failed?.code)})`)

  const restart = markLog(source, 'restart')
  await source.restart()
  lap('source restarted')
  const resumed = logs(source, 'interrupted splits finished', {}, restart)
  t.equal(resumed.length, 1, 'the restarted source finished the interrupted split at start-up')
  t.equal(resumed[0]?.resumed, 1, 'one split was resumed')
  const shards = await shardList(source, bucket)
  t.same(shards.map(s => s.state), ['SPLIT_STATE_SPLIT_DONE', 'SPLIT_STATE_UNSPLIT', 'SPLIT_STATE_UNSPLIT'], 'no shard is stuck SPLITTING; shard 0 is SPLIT_DONE')
  t.same(shards[0].children, [2], 'shard 0 has new shard 2 as its child')
  t.equal(shards.reduce((n, s) => n + Number(s.indexCount), 0), total, 'no index entry was lost or duplicated by the crash')

  await putMany(source.clients, bucket, makeKeys('after-restart-', 200), { ledger })
  await assertConverged(t, source, target, bucket, { ledger })
  const found = logs(target, 'new source shard found: full sync started', { bucket, shard: 2 })
  t.equal(found.length, 1, `target started new shard 2 (found by ${String(found[0]?.foundBy)})`)
})
