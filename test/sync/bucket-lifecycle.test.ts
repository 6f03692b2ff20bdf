/**
 * Bucket lifecycle on real node processes (issue 26, hole 3; the rule is in
 * node/sync/bucket-rules.ts and modelled in test/model/bucket-lifecycle.ts):
 *
 * 1. A bucket deleted on A disappears from B.
 * 2. A delete on A racing a later write on B (the sites apart): the delete
 *    loses, and the bucket with B's write ends on both sites.
 * 3. Delete and re-create of a name on A: B gets the new bucket (new
 *    generation) and none of the old objects.
 * Plus the client codes: DeleteBucket on a non-empty bucket, BUCKET_NOT_EMPTY;
 * on an unknown one, BUCKET_NOT_FOUND.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import { isShardsyncError } from '../../storage/errors'
import { connectAll } from '../../scripts/lib/cluster'
import { bucketInfo, deleteMany, listing, makeBucket, makeKeys, putMany, startSites, waitConverged, waitFor, type NodeProcess } from './helpers'

async function deleteBucket (node: NodeProcess, name: string): Promise<void> {
  await callUnary(node.clients.object, 'DeleteBucket', { name })
}

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return isShardsyncError(err) ? err.code : String(err) }
  return undefined
}

async function apart (a: NodeProcess, b: NodeProcess): Promise<void> {
  for (const [x, y] of [[a, b], [b, a]]) await callUnary(x.clients.admin, 'RemovePeer', { id: y.spec.site })
}

t.test('DeleteBucket codes: non-empty and unknown', async t => {
  const [a] = await startSites(t, [{ site: 'a' }])
  await makeBucket(a, 'full', { shards: 2 })
  await putMany(a.clients, 'full', ['k'])
  t.equal(await codeOf(deleteBucket(a, 'full')), 'BUCKET_NOT_EMPTY', 'a bucket holding an object is not deleted')
  t.ok(await bucketInfo(a, 'full'), 'and is still there')
  t.equal(await codeOf(deleteBucket(a, 'nosuch')), 'BUCKET_NOT_FOUND', 'an unknown bucket is NOT_FOUND')
})

t.test('scenario 1: a bucket deleted on A disappears from B', async t => {
  const [a, b] = await startSites(t, [{ site: 'a' }, { site: 'b' }])
  await makeBucket(a, 'gone', { shards: 2 })
  const keys = makeKeys('k', 20)
  await putMany(a.clients, 'gone', keys)
  await connectAll([a, b])
  await waitConverged(a, b, 'gone')
  await deleteMany(a.clients, 'gone', keys)
  await waitFor(async () => (await listing(b, 'gone')).size === 0, { what: 'B to apply the object deletes' })
  await deleteBucket(a, 'gone')
  await waitFor(async () => await bucketInfo(b, 'gone') === undefined, { what: 'B to drop the bucket', timeoutMs: 30_000 })
  t.equal(await bucketInfo(a, 'gone'), undefined, 'gone on A')
  t.equal(await bucketInfo(b, 'gone'), undefined, 'gone on B')
})

t.test('scenario 2: a delete on A racing a later write on B keeps the write on both sites', async t => {
  const [a, b] = await startSites(t, [{ site: 'a' }, { site: 'b' }])
  const made = await makeBucket(a, 'race', { shards: 2 })
  await connectAll([a, b])
  await waitFor(async () => await bucketInfo(b, 'race') !== undefined, { what: 'B to create the replica' })
  await apart(a, b)
  await deleteBucket(a, 'race')
  // Written after the delete: later in (mtime, site) order.
  const [late] = await putMany(b.clients, 'race', ['late'])
  await connectAll([a, b])
  await waitFor(async () => (await listing(a, 'race')).get('late') !== undefined, { what: 'the late write to reach A', timeoutMs: 30_000 })
  for (const n of [a, b]) {
    const got = (await listing(n, 'race')).get('late')
    t.equal(got?.etag, late.etag, `${n.spec.site} holds the late write`)
    const info = await bucketInfo(n, 'race')
    t.equal(info?.generationId, made.generationId, `${n.spec.site}: the same generation (the delete lost)`)
  }
})

t.test('scenario 3: delete and re-create on A gives B the new bucket, none of the old objects', async t => {
  const [a, b] = await startSites(t, [{ site: 'a' }, { site: 'b' }])
  const old = await makeBucket(a, 'again', { shards: 2 })
  const oldKeys = makeKeys('old-', 30)
  await putMany(a.clients, 'again', oldKeys)
  await connectAll([a, b])
  await waitConverged(a, b, 'again')
  // A empties and deletes it, and makes the name again at once, while apart
  // from B (B still holds the old objects).
  await apart(a, b)
  await deleteMany(a.clients, 'again', oldKeys)
  await deleteBucket(a, 'again')
  const fresh = await makeBucket(a, 'again', { shards: 2 })
  t.not(fresh.generationId, old.generationId, 'a new generation')
  await putMany(a.clients, 'again', ['new'])
  await connectAll([a, b])
  await waitFor(async () => (await bucketInfo(b, 'again'))?.generationId === fresh.generationId, { what: 'B to hold the new generation', timeoutMs: 30_000 })
  await waitConverged(a, b, 'again')
  for (const n of [a, b]) t.same([...(await listing(n, 'again')).keys()], ['new'], `${n.spec.site} holds only the new object`)
})
