/**
 * Issue 26, hole 2: a delete that a full sync cannot see in the log.
 *
 * Site B is still in its first, throttled full sync of site A (one shard at
 * a time) when B writes 60 keys. They reach A (A tails B), and A deletes
 * them. For the shards of A that B has not begun to list yet, the deletes
 * are older than the log position B takes before listing them, so B's
 * incremental sync never sees them; and before invariant 17 the listing
 * held live entries only, so B kept its copies for good while both sites
 * reported caught up (49 of 60 in the issue).
 *
 * Now a delete leaves a tombstone entry in the index, the full sync lists
 * tombstones with the live entries (ListIndex include_deleted), and the
 * target applies each by last-writer-wins: both sites end identical, with
 * the deletes applied.
 *
 * The same schedule with B in related-art mode (list live entries only, as
 * before) is the negative control: some deleted keys stay on B.
 */
import t from 'tap'
import { connectAll } from '../../scripts/lib/cluster'
import {
  bucketInfo, deleteMany, incrementalShards, listing, logs, makeBucket, makeKeys, putMany, shardList, startSites, stopwatch,
  verifyDeep, waitAllIncremental, waitConverged, waitFor, type NodeProcess, type TestLike
} from './helpers'

const SHARDS = 32
const LOADED = 3000
const B_KEYS = 60

interface Outcome { a: NodeProcess, b: NodeProcess, bucket: string, kept: string[], shardsListedBeforeDelete: number }

async function runSchedule (t: TestLike, mode: 'split-aware' | 'related-art'): Promise<Outcome> {
  const lap = stopwatch(t)
  const [a, b] = await startSites(t, [
    { site: 'a' },
    // B copies slowly and lists one of A's shards at a time, so most of A's
    // shards are listed only after A's deletes.
    { site: 'b', args: ['--sync-rate', '400', '--sync-shard-concurrency', '1', '--sync-mode', mode] }
  ])
  const bucket = 'listed-deletes'
  await makeBucket(a, bucket, { shards: SHARDS })
  await putMany(a.clients, bucket, makeKeys('a-', LOADED), { size: 32, concurrency: 32 })
  lap(`loaded ${LOADED} objects into ${SHARDS} shards of a`)
  await connectAll([a, b])
  await waitFor(async () => await bucketInfo(b, bucket) !== undefined, { what: 'b to create the bucket' })

  // B's own writes, while it is still in its first full sync of A.
  const mine = makeKeys('b-', B_KEYS)
  await putMany(b.clients, bucket, mine, { size: 16 })
  await waitFor(async () => {
    const onA = await listing(a, bucket)
    return mine.every(k => onA.get(k)?.originSite === 'b')
  }, { what: "b's writes to reach a" })
  // A deletes them before B lists most of A's shards.
  await deleteMany(a.clients, bucket, mine)
  const shardsListedBeforeDelete = incrementalShards(b, bucket).size
  lap(`a deleted b's ${B_KEYS} keys; b had finished ${shardsListedBeforeDelete} of ${SHARDS} shards of a`)
  t.ok(shardsListedBeforeDelete < SHARDS / 2, 'precondition: b had not yet listed most shards of a when a deleted')

  await waitAllIncremental(a, b, bucket, { timeoutMs: 120_000 })
  lap('b finished full sync of every shard of a')
  const onB = await listing(b, bucket)
  return { a, b, bucket, kept: mine.filter(k => onB.has(k)), shardsListedBeforeDelete }
}

t.test('a delete older than the listing start still wins (split-aware: tombstones listed)', async t => {
  const { a, b, bucket, kept } = await runSchedule(t, 'split-aware')
  t.same(kept.slice(0, 10), [], 'no key a deleted is live on b')
  await waitConverged(a, b, bucket, { timeoutMs: 60_000 })
  await waitConverged(b, a, bucket, { timeoutMs: 60_000 })
  const onA = await listing(a, bucket)
  t.equal(onA.size, LOADED, 'a holds its own objects and none of the deleted ones')
  for (const [from, to] of [[a, b], [b, a]]) {
    const v = await verifyDeep(from, to, bucket)
    t.equal(v.code, 0, `verify --deep ${from.spec.site} -> ${to.spec.site} exits 0`, { stdout: v.stdout.slice(0, 2000) })
  }
  const shards = await shardList(b, bucket)
  t.ok(shards.reduce((n, s) => n + Number(s.indexCount), 0) === LOADED, "b's index counts live entries only")
  t.ok(logs(b, 'shard entering incremental sync', { bucket }).length >= SHARDS, 'b went incremental on every shard')
})

t.test('negative control: related-art full sync (live entries only) keeps deleted keys', async t => {
  const { kept } = await runSchedule(t, 'related-art')
  t.comment(`related-art: ${kept.length} of ${B_KEYS} deleted keys still live on b`)
  t.ok(kept.length > 0, 'without listed tombstones some deleted keys stay live on b')
})
