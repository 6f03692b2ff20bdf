/**
 * Scenarios 3 and 7: splits the target is not told about, or not there for.
 *
 * 3a. Every split notice is dropped by the source (--fault-drop-notices):
 *     the target must find every new shard by pulling (QuerySplitState's
 *     split history and ListShards), including a new shard's new shard.
 * 3b. The target is down while shards split (and objects change): after a
 *     restart it must pull everything; the source's durable outbox delivers
 *     the notices once the target is back.
 * 7.  Six or more rounds of (organic) splits happen while the target is
 *     stopped; then it starts and converges.
 */
import t from 'tap'
import { connectOneWay } from '../../scripts/lib/cluster'
import {
  assertConverged, bucketInfo, deleteMany, Ledger, logs, makeBucket, makeKeys, markLog, putMany, shardList, split,
  startSites, stopwatch, waitAllIncremental, waitConverged, waitFor, waitLog
} from './helpers'

t.test('scenario 3a: all split notices dropped (--fault-drop-notices): pulling finds every new shard', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [
    { site: 'src', args: ['--fault-drop-notices'] },
    { site: 'tgt', args: ['--sync-rate', '300'] }
  ])
  const bucket = 'dropped-notices'
  const { id: bucketId } = await makeBucket(source, bucket, { shards: 2 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', 1600), { ledger })
  lap('loaded')
  await connectOneWay(source, target)
  await waitLog(target, 'shard entering full sync', { bucket, shard: 0 })
  await waitFor(async () => Number((await bucketInfo(target, bucket))?.objectCount ?? 0) >= 200, { intervalMs: 50, what: 'target to copy its first objects' })
  t.notOk(logs(target, 'shard entering incremental sync', { bucket }).length > 0, 'precondition: target is still in full sync of shards 0 and 1')
  // Split both shards mid-listing, and one new shard before its full sync.
  t.equal((await split(source, bucket, 0)).newShard, 2)
  t.equal((await split(source, bucket, 1)).newShard, 3)
  t.equal((await split(source, bucket, 2)).newShard, 4)
  lap('three splits done')

  await assertConverged(t, source, target, bucket, { ledger })
  for (const notice of [`src:${bucketId}:0:2`, `src:${bucketId}:1:3`, `src:${bucketId}:2:4`]) {
    await waitLog(source, 'split notice dropped by fault switch', { notice })
  }
  t.pass('the source dropped all three notices')
  t.equal(logs(source, 'split notice sent').length, 0, 'the source sent no notice')
  t.equal(logs(target, 'split notice stored').length + logs(target, 'split notice ignored: no progress object for the source shard').length, 0, 'the target received no notice')
  for (const [shard, parent] of [[2, 0], [3, 1], [4, 2]]) {
    const found = logs(target, 'new source shard found: full sync started', { bucket, shard })
    t.equal(found.length, 1, `new shard ${shard} started once`)
    t.equal(found[0]?.foundBy, 'pull', `new shard ${shard} was found by pulling`)
    t.equal(found[0]?.parent, parent, `new shard ${shard} is a child of ${parent}`)
  }
})

t.test('scenario 3b: the target is down while shards split: on restart it pulls everything', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt' }])
  const bucket = 'target-down'
  const { id: bucketId } = await makeBucket(source, bucket, { shards: 2 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', 800), { ledger })
  await connectOneWay(source, target)
  await waitAllIncremental(source, target, bucket)
  await waitConverged(source, target, bucket)
  lap('initial sync done')

  const restartMark = markLog(target, 'restart')
  await target.stop()
  const sourceMark = markLog(source, 'target down')
  // While the target is down: new objects, overwrites, deletes, a few
  // multi-chunk objects (over 1 MiB), and three splits (one of a new shard).
  await putMany(source.clients, bucket, makeKeys('obj-', 600, 800), { ledger })
  await putMany(source.clients, bucket, makeKeys('obj-', 100, 0), { ledger })
  await deleteMany(source.clients, bucket, makeKeys('obj-', 100, 500), { ledger })
  await putMany(source.clients, bucket, makeKeys('big-', 4), { ledger, size: i => 1_500_000 + i * 1000, concurrency: 2 })
  t.equal((await split(source, bucket, 0)).newShard, 2)
  t.equal((await split(source, bucket, 1)).newShard, 3)
  t.equal((await split(source, bucket, 2)).newShard, 4)
  await putMany(source.clients, bucket, makeKeys('after-split-', 200), { ledger })
  await waitLog(source, 'split notice not acknowledged; will retry', {}, { since: sourceMark })
  t.pass('the source could not deliver its notices while the target was down')
  lap('changes and splits done while the target was down')

  await target.restart()
  // The durable outbox delivers every notice once the target is back (after
  // the sender's back-off, up to 30 s), while the target converges.
  const delivered = Promise.all([`src:${bucketId}:0:2`, `src:${bucketId}:1:3`, `src:${bucketId}:2:4`]
    .map(async notice => await waitLog(source, 'split notice sent', { notice }, { timeoutMs: 60_000 })))
  await assertConverged(t, source, target, bucket, { ledger })
  for (const [shard, parent] of [[2, 0], [3, 1], [4, 2]]) {
    const found = logs(target, 'new source shard found: full sync started', { bucket, shard }, restartMark)
    t.equal(found.length, 1, `restarted target started new shard ${shard} (child of ${parent}) once, found by ${String(found[0]?.foundBy)}`)
    t.equal(found[0]?.parent, parent)
  }
  await delivered
  t.pass('all three notices were delivered after the restart')
  lap('notices delivered')
})

t.test('scenario 7: six or more rounds of splits while the target is stopped', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt' }])
  const bucket = 'many-splits'
  // Organic splits: every shard splits by itself at 300 index entries.
  await makeBucket(source, bucket, { shards: 2, splitThreshold: 300, autoSplit: true })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', 400), { ledger })
  await connectOneWay(source, target)
  await waitAllIncremental(source, target, bucket)
  await waitConverged(source, target, bucket)
  const shardsBefore = (await shardList(source, bucket)).length
  lap(`initial sync done (${shardsBefore} shards)`)

  const restartMark = markLog(target, 'restart')
  await target.stop()
  const sourceMark = markLog(source, 'target stopped')
  for (let round = 0; round < 4; round++) {
    await putMany(source.clients, bucket, makeKeys(`r${round}-`, 500), { ledger })
    await deleteMany(source.clients, bucket, makeKeys(round === 0 ? 'obj-' : `r${round - 1}-`, 40, 100), { ledger })
  }
  await waitFor(async () => (await shardList(source, bucket)).every(s => s.state !== 'SPLIT_STATE_SPLITTING'), { what: 'organic splits to finish' })
  // 2,200+ live objects in shards of fewer than 300 take at least 8 shards,
  // so there were at least 6 splits; force more if not (never expected).
  while (logs(source, 'split done', { bucket }, sourceMark).length < 6) {
    const largest = (await shardList(source, bucket)).sort((a, b) => Number(b.indexCount) - Number(a.indexCount))[0]
    await split(source, bucket, largest.shard)
  }
  const splitsWhileDown = logs(source, 'split done', { bucket }, sourceMark)
  const shards = await shardList(source, bucket)
  t.ok(splitsWhileDown.length >= 6, `${splitsWhileDown.length} splits happened while the target was stopped (${shardsBefore} -> ${shards.length} shards)`)
  t.ok(splitsWhileDown.some(l => Number(l.shard) >= shardsBefore), 'some of them split shards that were themselves new')
  lap('splits done while the target was stopped')

  await target.restart()
  await assertConverged(t, source, target, bucket, { ledger, timeoutMs: 90_000 })
  await waitAllIncremental(source, target, bucket)
  const found = new Set(logs(target, 'new source shard found: full sync started', { bucket }, restartMark).map(l => Number(l.shard)))
  const fresh = shards.filter(s => s.shard >= shardsBefore).map(s => s.shard)
  t.same(fresh.filter(s => !found.has(s)), [], `the restarted target started every one of the ${fresh.length} new shards`)
})
