/**
 * Scenarios 8, 9 and 10: writes on both sites, deletes, and a new bucket.
 *
 * 8.  Both sites write at once (each syncs from the other): to their own
 *     keys and to the same keys, while they sync and while they are apart,
 *     and shards split on both sides meanwhile. After convergence
 *     every key has the same version on both sites, and it is the one
 *     last-writer-wins (mtime, then site) picks among all versions the sites
 *     acknowledged; verify --deep is identical both ways.
 * 9.  Objects are deleted during full sync (some already copied, some not
 *     yet listed) and during incremental sync: the deletes replicate.
 * 10. A bucket created on the source after sync began appears on the target
 *     and converges, splits included.
 * 11. A target that finds a bucket already holding many entries creates its
 *     replica with enough shards for them (half full at its own threshold),
 *     so full sync does not set off a cascade of splits on the target.
 */
import t from 'tap'
import type { ListIndexResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListIndexResponse'
import type { ObjectInfo__Output } from '../../node/rpc/generated/shardsync/v1/ObjectInfo'
import { callUnary } from '../../node/rpc/clients'
import { connectAll, connectOneWay } from '../../scripts/lib/cluster'
import {
  assertConverged, bucketInfo, deleteMany, diffListings, isEmptyDiff, Ledger, listing, logs, makeBucket, makeKeys, objectCount,
  putMany, shardList, split, startSites, stopwatch, verifyDeep, waitAllIncremental, waitConverged, waitFor, waitLog, type NodeProcess
} from './helpers'

/** Last writer wins: newer mtime, then the greater site id. */
function newer (a: ObjectInfo__Output, b: ObjectInfo__Output): boolean {
  if (Number(a.mtime) !== Number(b.mtime)) return Number(a.mtime) > Number(b.mtime)
  return a.originSite > b.originSite
}

t.test('scenario 8: both sites write at once, to different and to the same keys', async t => {
  const lap = stopwatch(t)
  const siteArgs = ['--shards', '2', '--split-threshold', '400']
  const [east, west] = await startSites(t, [{ site: 'east', args: siteArgs }, { site: 'west', args: siteArgs }])
  const bucket = 'both-ways'
  await makeBucket(east, bucket, { shards: 2, splitThreshold: 400, autoSplit: true })
  await connectAll([east, west])
  await waitFor(async () => await bucketInfo(west, bucket) !== undefined, { what: 'west to create the bucket' })
  lap('bucket on both sites')

  const versions = new Map<string, ObjectInfo__Output[]>()
  const record = (infos: ObjectInfo__Output[]): void => {
    for (const i of infos) versions.set(i.key, [...(versions.get(i.key) ?? []), i])
  }

  // Phase 1, while both sites sync each other, all at once: each writes its
  // own keys, and both write the same 200 keys, twice over (the shards split
  // on both sides meanwhile).
  const same = makeKeys('same-', 200)
  const bothRounds = async (node: NodeProcess): Promise<void> => {
    for (let round = 0; round < 2; round++) record(await putMany(node.clients, bucket, same, { concurrency: 16 }))
  }
  await Promise.all([
    putMany(east.clients, bucket, makeKeys('east-', 400), { concurrency: 32 }).then(record),
    putMany(west.clients, bucket, makeKeys('west-', 400), { concurrency: 32 }).then(record),
    bothRounds(east),
    bothRounds(west)
  ])
  await waitConverged(east, west, bucket, { timeoutMs: 90_000 })
  lap('phase 1 (own and same keys, both sites at once, syncing) converged')

  // Phase 2, while the sites cannot reach each other (peers removed), again
  // all at once: each site deletes keys that came from the other, writes new
  // keys, and writes half of the same keys while the other site writes the
  // other half, then the other way round, so that the last write of each
  // same key comes from a known site (half of them from each). Then the
  // sites meet again and sync resolves every conflict.
  for (const [a, b] of [[east, west], [west, east]]) await callUnary(a.clients.admin, 'RemovePeer', { id: b.spec.site })
  const [firstHalf, secondHalf] = [same.slice(0, 100), same.slice(100)]
  const sameRounds = async (): Promise<void> => {
    await Promise.all([putMany(east.clients, bucket, firstHalf).then(record), putMany(west.clients, bucket, secondHalf).then(record)])
    await Promise.all([putMany(west.clients, bucket, firstHalf).then(record), putMany(east.clients, bucket, secondHalf).then(record)])
  }
  const deletedByEast = makeKeys('west-', 40, 0)
  const deletedByWest = makeKeys('east-', 40, 0)
  await Promise.all([
    sameRounds(),
    deleteMany(east.clients, bucket, deletedByEast),
    deleteMany(west.clients, bucket, deletedByWest),
    putMany(east.clients, bucket, makeKeys('east-late-', 150)).then(record),
    putMany(west.clients, bucket, makeKeys('west-late-', 150)).then(record)
  ])
  const deleted = [...deletedByEast, ...deletedByWest]
  for (const k of deleted) versions.delete(k)
  lap('phase 2 (both sites at once, apart) done')
  await connectAll([east, west])
  await waitConverged(east, west, bucket, { timeoutMs: 90_000 })
  lap('converged')

  const [e, w] = await Promise.all([listing(east, bucket), listing(west, bucket)])
  t.ok(isEmptyDiff(diffListings(e, w)), 'every key has the same version (etag, size, mtime, origin) on both sites')
  t.equal(e.size, versions.size, `both sites hold the ${versions.size} keys that were written and not deleted`)
  const wrong: string[] = []
  for (const [key, vs] of versions) {
    const winner = vs.reduce((best, v) => newer(v, best) ? v : best)
    const got = e.get(key)
    if (got === undefined || got.etag !== winner.etag || Number(got.mtime) !== Number(winner.mtime) || got.originSite !== winner.originSite) wrong.push(key)
  }
  t.same(wrong.slice(0, 20), [], 'for every key, both sites kept the version last-writer-wins picks among all acknowledged writes')
  const contested = [...versions.values()].filter(vs => new Set(vs.map(v => v.originSite)).size === 2)
  t.equal(contested.length, same.length, `all ${same.length} same keys were written by both sites`)
  const wonBy = contested.map(vs => vs.reduce((best, v) => newer(v, best) ? v : best).originSite)
  const byEast = wonBy.filter(s => s === 'east').length
  t.ok(byEast > 50 && byEast < 150, `contested keys won by east: ${byEast}, by west: ${wonBy.length - byEast}`)
  t.same(deleted.filter(k => e.has(k) || w.has(k)), [], 'keys deleted on either site are gone from both')

  const directions = [[east, west], [west, east]]
  const verified = await Promise.all(directions.map(async ([from, to]) => await verifyDeep(from, to)))
  directions.forEach(([from, to], i) => {
    const v = verified[i]
    t.equal(v.code, 0, `verify --deep ${from.spec.site} -> ${to.spec.site} exits 0`, { stdout: v.stdout.slice(0, 2000) })
    t.match(v.stdout, new RegExp(`^identical: 1 buckets, ${e.size} objects \\(deep\\)$`, 'm'), `${from.spec.site} -> ${to.spec.site}: identical`)
  })
  lap('verified both ways')
  for (const node of [east, west]) {
    const shards = await shardList(node, bucket)
    t.ok(shards.length > 2, `${node.spec.site}'s bucket split while both sites wrote (${shards.length} shards)`)
    t.ok(shards.every(s => s.state !== 'SPLIT_STATE_SPLITTING'), `no shard of ${node.spec.site} is left SPLITTING`)
    t.equal(shards.reduce((n, s) => n + Number(s.indexCount), 0), e.size, `${node.spec.site}: sum of index_count = object count`)
    t.equal(await objectCount(node, bucket), e.size, `${node.spec.site}: object_count = object count`)
  }
  t.ok(logs(east, 'split notice stored').length > 0 && logs(west, 'split notice stored').length > 0, 'each site stored split notices from the other')
})

t.test('scenario 9: objects deleted during full sync and during incremental sync', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--sync-rate', '250'] }])
  const bucket = 'deletes'
  await makeBucket(source, bucket, { shards: 2 })
  const ledger = new Ledger()
  const keys = makeKeys('obj-', 2400)
  await putMany(source.clients, bucket, keys, { ledger })
  // Where each key sits in its shard's listing: keys past the first page
  // (1,000 entries) are not listed by the target before it has copied 1,000
  // objects of that shard.
  const rank = new Map<string, number>()
  for (const shard of [0, 1]) (await indexKeys(source, bucket, shard)).forEach((k, i) => rank.set(k, i))
  await connectOneWay(source, target)
  await waitFor(async () => await objectCount(target, bucket) >= 200, { intervalMs: 50, what: 'target to copy its first objects' })
  lap('target in full sync')

  // During full sync: delete keys the target has already copied, and keys
  // it has not listed yet (so the test knows which case each delete is);
  // split shard 1 in the middle of it.
  const onTarget = await listing(target, bucket)
  const copied = keys.filter(k => onTarget.has(k)).filter((_, i) => i % 2 === 0).slice(0, 100)
  const notListed = keys.filter(k => (rank.get(k) ?? 0) >= 1000).filter((_, i) => i % 2 === 0)
  t.ok(copied.length >= 50 && notListed.length >= 100, `deleting ${copied.length} copied and ${notListed.length} not yet listed keys during full sync`)
  await deleteMany(source.clients, bucket, [...copied.slice(0, 50), ...notListed.slice(0, 50)], { ledger })
  t.equal((await split(source, bucket, 1)).newShard, 2)
  await deleteMany(source.clients, bucket, [...copied.slice(50), ...notListed.slice(50)], { ledger })
  const copiedSoFar = await objectCount(target, bucket)
  t.ok(copiedSoFar < 1000, `precondition: the target has copied only ${copiedSoFar} objects, so it listed no shard past its first page before the deletes`)
  t.equal(logs(target, 'shard entering incremental sync', { bucket }).length, 0, 'precondition: the target was still in full sync after the deletes')

  await waitAllIncremental(source, target, bucket)
  await waitConverged(source, target, bucket)
  lap('full sync done')
  // During incremental sync: deletes, overwrites, new keys (a quarter of
  // them deleted again at once, while the target may be fetching them), and
  // another split.
  await deleteMany(source.clients, bucket, keys.filter((k, i) => i % 8 === 4 && ledger.objects.has(k)), { ledger })
  await putMany(source.clients, bucket, keys.filter((k, i) => i % 8 === 2 && ledger.objects.has(k)).slice(0, 150), { ledger })
  const fresh = makeKeys('new-', 200)
  await putMany(source.clients, bucket, fresh, { ledger })
  await deleteMany(source.clients, bucket, fresh.filter((_, i) => i % 4 === 0), { ledger })
  t.equal((await split(source, bucket, 0)).newShard, 3)
  await deleteMany(source.clients, bucket, fresh.filter((_, i) => i % 4 === 1), { ledger })
  lap('incremental changes done')

  await assertConverged(t, source, target, bucket, { ledger })
  t.ok(ledger.deleted.size >= 550, `${ledger.deleted.size} deleted keys are absent on the target`)
  const sample = [...ledger.deleted].filter((_, i) => i % 25 === 0)
  const heads = await Promise.all(sample.map(async key => await callUnary(target.clients.object, 'HeadObject', { bucket, key }).then(() => 'present', (err: { code?: string }) => String(err.code))))
  t.same([...new Set(heads)], ['OBJECT_NOT_FOUND'], 'HeadObject on the target says OBJECT_NOT_FOUND for deleted keys')
})

/** Keys of one source shard's index, in listing order. */
async function indexKeys (node: NodeProcess, bucket: string, shard: number): Promise<string[]> {
  const out: string[] = []
  let marker = ''
  for (;;) {
    const page = await callUnary<object, ListIndexResponse__Output>(node.clients.sync, 'ListIndex', { bucket, shard, marker, limit: 1000 })
    out.push(...page.entries.map(e => e.key))
    if (page.nextMarker === '') return out
    marker = page.nextMarker
  }
}

t.test('scenario 10: a bucket created after sync began appears on the target and converges', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt' }])
  const firstLedger = new Ledger()
  await makeBucket(source, 'first', { shards: 2 })
  await putMany(source.clients, 'first', makeKeys('obj-', 300), { ledger: firstLedger })
  await connectOneWay(source, target)
  await waitAllIncremental(source, target, 'first')
  await waitConverged(source, target, 'first')
  t.equal(await bucketInfo(target, 'later'), undefined, 'precondition: the target has no bucket "later"')
  lap('sync of the first bucket done')

  // A new bucket with organic splits, written to while the target finds it.
  await makeBucket(source, 'later', { shards: 3, splitThreshold: 200, autoSplit: true })
  const ledger = new Ledger()
  await putMany(source.clients, 'later', makeKeys('obj-', 1200), { ledger, concurrency: 32 })
  await putMany(source.clients, 'first', makeKeys('more-', 100), { ledger: firstLedger })
  lap('later bucket written')

  await assertConverged(t, source, target, 'later', { ledger })
  await waitLog(target, 'bucket created from peer', { bucket: 'later' })
  t.pass('the target created "later" when it found it on the source')
  t.ok((await shardList(source, 'later')).length > 3, 'the new bucket split on the source')
  await waitConverged(source, target, 'first')
  const v = await verifyDeep(source, target)
  t.equal(v.code, 0, 'verify --deep over all buckets exits 0')
  t.match(v.stdout, new RegExp(`^identical: 2 buckets, ${ledger.size + firstLedger.size} objects \\(deep\\)$`, 'm'), 'both buckets identical')
})

t.test('scenario 11: a replica of a big bucket starts with enough shards, and does not split while it fills', async t => {
  // The target's threshold is 40, so each shard should start at most 20
  // entries full: 400 source entries call for 20 shards. With the node
  // default (2) instead, the target would split about 4 levels deep while
  // full sync fills it.
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--shards', '2', '--split-threshold', '40'] }])
  const ledger = new Ledger()
  await makeBucket(source, 'big', { shards: 2 })
  await putMany(source.clients, 'big', makeKeys('obj-', 400), { ledger, concurrency: 32 })
  await connectOneWay(source, target)
  const created = await waitLog(target, 'bucket created from peer', { bucket: 'big' })
  t.equal(created.initialShards, 20, 'the replica was created with 400 / (40 / 2) = 20 shards')
  t.equal(created.sourceEntries, 400, 'sized from the source shards\' index counts')
  await assertConverged(t, source, target, 'big', { ledger })
  t.equal(logs(target, 'split started').length, 0, 'the target did not split while full sync filled it')
  t.equal((await shardList(target, 'big')).length, 20, 'the replica still has its 20 shards')
})
