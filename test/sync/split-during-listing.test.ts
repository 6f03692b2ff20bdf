/**
 * Scenarios 1 and 2, and the negative control.
 *
 * 1. A source shard splits while the target is part-way through listing it:
 *    the keys that move to the new shard after the target's marker are no
 *    longer in the shard it is listing, and must come from the new shard's
 *    own full sync (found by the split notice, or by pulling).
 * 2. The new shard splits again (twice) before its own full sync starts.
 * Negative control: scenario 1 run with --sync-mode related-art on both
 * sites must lose exactly such moved keys; this proves scenario 1 can fail.
 *
 * The target's full sync is throttled (--sync-rate 300) so that listing the
 * bucket takes ~8 s; the split is forced once the target has logged
 * 'shard entering full sync' for shard 0 and copied its first objects, which
 * is seconds before it can reach its second page of shard 0.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import type { ListIndexResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListIndexResponse'
import { connectOneWay } from '../../scripts/lib/cluster'
import {
  assertConverged, bucketInfo, diffListings, incrementalShards, Ledger, listing, logs, makeBucket, makeKeys, putMany,
  shardList, split, startSites, stopwatch, verifyDeep, waitFor, waitLog, FULL_SYNC_PATH, type NodeProcess, type TestLike
} from './helpers'

const OBJECTS = 2400
const RATE = '300'

interface Setup { source: NodeProcess, target: NodeProcess, bucket: string, bucketId: string, ledger: Ledger, shard0Before: number }

/** Both sites, a 2-shard bucket of OBJECTS objects, target connected and listing slowly. */
async function setup (t: TestLike, bucket: string, modeArgs: string[] = []): Promise<Setup> {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [
    { site: 'src', args: modeArgs },
    { site: 'tgt', args: ['--sync-rate', RATE, ...modeArgs] }
  ])
  const created = await makeBucket(source, bucket, { shards: 2 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', OBJECTS), { ledger })
  lap(`started, loaded ${OBJECTS} objects`)
  const shard0Before = Number((await shardList(source, bucket))[0].indexCount)
  await connectOneWay(source, target)
  return { source, target, bucket, bucketId: created.id, ledger, shard0Before }
}

/** Waits until the target is part-way through listing shard 0, then splits it. */
async function splitShard0MidListing (t: TestLike, s: Setup): Promise<{ newShard: number, moved: number }> {
  const lap = stopwatch(t)
  const { source, target, bucket } = s
  await waitLog(target, 'shard entering full sync', { bucket, shard: 0 })
  await waitFor(async () => Number((await bucketInfo(target, bucket))?.objectCount ?? 0) >= 200, { intervalMs: 50, what: 'target to copy its first objects' })
  t.notOk(incrementalShards(target, bucket).has(0), 'precondition: the target has not finished listing shard 0 when it splits')
  lap('target copied its first objects')
  const r = await split(source, bucket, 0)
  lap('split done')
  t.equal(r.newShard, 2, 'shard 0 split into new shard 2 (= the shard count)')
  t.ok(r.moved > 0, `the split moved index entries (${r.moved})`)
  const copied = Number((await bucketInfo(target, bucket))?.objectCount ?? 0)
  t.ok(copied < OBJECTS, `precondition: the target had copied only ${copied}/${OBJECTS} objects when the split was done`)
  t.notOk(incrementalShards(target, bucket).has(0), 'precondition: the target was still listing shard 0 when the split was done')
  return r
}

t.test('scenario 1: a source shard splits while the target is part-way through listing it', async t => {
  const s = await setup(t, 'split-mid-listing')
  const { source, target, bucket, bucketId } = s
  const r = await splitShard0MidListing(t, s)

  const counts = await assertConverged(t, source, target, bucket, { ledger: s.ledger })
  t.equal(counts.sourceListed, OBJECTS, 'all objects are on the source')

  // The method at work, as the logs show it.
  const notice = `src:${bucketId}:0:${r.newShard}`
  await waitLog(source, 'split notice sent', { notice })
  t.ok(logs(source, 'split done', { bucket, shard: 0, newShard: 2 }).length === 1, 'source logged the split')
  const stored = await waitLog(target, 'split notice stored', { bucketId, shard: 0, newShard: 2 })
  t.equal(stored.peer, 'src', 'target stored the notice in the progress object of source shard 0')
  const found = logs(target, 'new source shard found: full sync started', { bucket, shard: 2 })
  t.equal(found.length, 1, 'target started full sync of new shard 2 exactly once')
  t.equal(found[0]?.parent, 0, 'new shard 2 was found as a child of shard 0')
  t.ok(['notice', 'pull'].includes(String(found[0]?.foundBy)), `found by ${String(found[0]?.foundBy)}`)
  const done0 = logs(target, 'shard entering incremental sync', { bucket, shard: 0 })[0]
  const done2 = logs(target, 'shard entering incremental sync', { bucket, shard: 2 })[0]
  t.ok(done0 !== undefined && done2 !== undefined, 'shards 0 and 2 both reached incremental sync')
  if (FULL_SYNC_PATH === 'list') {
    t.ok(Number(done0?.listed) < s.shard0Before, `target listed fewer entries in shard 0 (${String(done0?.listed)}) than it held before the split (${s.shard0Before}): the split really happened mid-listing`)
  } else {
    // One StreamShard call reads shard 0 through one iterator, i.e. one
    // LevelDB snapshot taken before the split: the moved keys still come
    // with it (harmless: shard 2's own full sync brings them too).
    t.ok(Number(done0?.listed) <= s.shard0Before, `target streamed at most the entries shard 0 held before the split (${String(done0?.listed)} of ${s.shard0Before})`)
  }
  t.ok(Number(done0?.listed) + Number(done2?.listed) >= s.shard0Before, 'shard 0 and new shard 2 together were listed completely')
})

t.test('negative control: scenario 1 with --sync-mode related-art loses objects', async t => {
  const modeArgs = ['--sync-mode', 'related-art']
  const s = await setup(t, 'split-mid-listing', modeArgs)
  const { source, target, bucket } = s
  await splitShard0MidListing(t, s)

  // Let the related-art target finish listing shards 0 and 1, then give it
  // several more rounds and tail polls: whatever it has not got by then, it
  // never gets (nothing in related-art mode ever looks at shard 2).
  await waitFor(() => incrementalShards(target, bucket).has(0) && incrementalShards(target, bucket).has(1), { timeoutMs: 60_000, what: 'related-art target to finish listing' })
  await new Promise(resolve => setTimeout(resolve, 3000))

  const d = diffListings(await listing(source, bucket), await listing(target, bucket))
  const missing = d.missing.length
  t.ok(missing > 0, `related-art target is missing ${missing} objects`)
  t.equal(d.extra.length, 0, 'and has nothing extra')
  const v = await verifyDeep(source, target, bucket, { deep: false })
  t.not(v.code, 0, 'verify exits non-zero')
  t.match(v.stdout, /^DIFFERENT: \d+ differences/m, 'verify reports DIFFERENT')
  t.equal((v.stdout.match(/^missing-on-target\t/gm) ?? []).length, missing, 'verify lists every missing object')

  // The lost objects are exactly ones the split moved to new shard 2.
  const inShard2 = new Set<string>()
  let marker = ''
  for (;;) {
    const page = await callUnary<object, ListIndexResponse__Output>(source.clients.sync, 'ListIndex', { bucket, shard: 2, marker, limit: 1000 })
    for (const e of page.entries) inShard2.add(e.key)
    if (page.nextMarker === '') break
    marker = page.nextMarker
  }
  t.same(d.missing.filter(k => !inShard2.has(k)), [], 'every missing object is one the split moved to shard 2')
  t.equal(logs(source, 'split notice sent').length, 0, 'related-art source sends no split notices')
  t.equal(logs(target, 'new source shard found: full sync started').length, 0, 'related-art target never starts the new shard')
})

t.test('scenario 2: the new shard splits again before its own full sync starts', async t => {
  const s = await setup(t, 'split-twice')
  const { source, target, bucket, bucketId } = s
  await splitShard0MidListing(t, s)
  // Shard 2 is full-synced only after the round's shards 0 and 1 are done,
  // seconds from now; split it, and its new shard, before that.
  t.equal(logs(target, 'shard entering full sync', { bucket, shard: 2 }).length, 0, 'precondition: target has not started listing shard 2')
  const r2 = await split(source, bucket, 2)
  t.equal(r2.newShard, 3, 'shard 2 split into shard 3')
  const r3 = await split(source, bucket, 3)
  t.equal(r3.newShard, 4, 'shard 3 split into shard 4')
  t.ok(r2.moved > 0 && r3.moved > 0, 'both splits moved entries')
  t.equal(logs(target, 'shard entering full sync', { bucket, shard: 2 }).length, 0, 'precondition: target still has not started listing shard 2 after both splits')

  await assertConverged(t, source, target, bucket, { ledger: s.ledger })
  const shards = await shardList(source, bucket)
  t.same(shards.map(x => x.state), ['SPLIT_STATE_SPLIT_DONE', 'SPLIT_STATE_UNSPLIT', 'SPLIT_STATE_SPLIT_DONE', 'SPLIT_STATE_SPLIT_DONE', 'SPLIT_STATE_UNSPLIT'], 'source split history 0->2->3->4')
  for (const [shard, parent] of [[2, 0], [3, 2], [4, 3]]) {
    const found = logs(target, 'new source shard found: full sync started', { bucket, shard })
    t.equal(found.length, 1, `target started new shard ${shard} once`)
    t.equal(found[0]?.parent, parent, `shard ${shard} was found as a child of shard ${parent} (by ${String(found[0]?.foundBy)})`)
    t.equal(logs(target, 'shard entering incremental sync', { bucket, shard }).length, 1, `shard ${shard} finished full sync`)
  }
  // Notices for 2:3 and 3:4 may arrive before the target has a progress
  // object for shards 2 and 3: then the seed says ignore them, and pulling
  // (QuerySplitState history) finds the shards anyway.
  const handled = [...logs(target, 'split notice stored', { bucketId }), ...logs(target, 'split notice ignored: no progress object for the source shard', { bucketId })]
  t.same(new Set(handled.map(l => `${String(l.shard)}:${String(l.newShard)}`)), new Set(['0:2', '2:3', '3:4']), 'every split notice reached the target and was stored or ignored')
})
