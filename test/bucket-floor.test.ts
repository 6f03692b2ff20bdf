/**
 * Bucket floors and drops in the store, on real LevelDB
 * (storage/object-store.ts applyBucketFloor / deleteBucket, storage/bucket-drop.ts):
 * the sweep deletes what is at or below the floor and keeps what is newer;
 * a bucket that ends empty is dropped, one that keeps a newer object stays;
 * no replicated put at or below the floor is accepted and local writes are
 * stamped above it; a drop job or a sweep left on disk (as a crash would
 * leave it) is finished when the store opens again.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { openDatabase } from '../storage/database'
import * as keys from '../storage/keys'
import { bucketRef, ObjectStore } from '../storage/object-store'
import type { BucketRecord } from '../storage/records'

const OPTS = { siteId: 'B', maxObjectBytes: 1024 * 1024, defaults: { initialShards: 2, splitThreshold: 1_000_000, autoSplit: false } }

async function open (t: { teardown: (fn: () => void) => void }): Promise<{ dir: string, store: ObjectStore }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-floor-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const store = await ObjectStore.open(await openDatabase(dir), OPTS)
  return { dir, store }
}

async function reopen (store: ObjectStore, dir: string): Promise<ObjectStore> {
  store.close()
  await store.db.close()
  return await ObjectStore.open(await openDatabase(dir), OPTS)
}

t.test('the sweep keeps newer objects, and the delete then loses', async t => {
  const { store } = await open(t)
  await store.createBucket({ name: 'keep' })
  const old = await store.putObject('keep', 'old', Buffer.from('o'))
  const newer = await store.putObject('keep', 'newer', Buffer.from('n'))
  // Above 'old' (same ms, greater site), below 'newer' (a later ms).
  const floor = { mtime: old.version.mtime, site: 'Z' }
  t.ok(newer.version.mtime > floor.mtime, 'newer is above the floor')
  t.equal(await store.applyBucketFloor('keep', floor, true), 'kept', 'a newer object is left: the bucket stays')
  const [o, n] = await store.getHeads('keep', ['old', 'newer'])
  t.equal(o?.deleted, true, 'the object below the floor is deleted')
  t.not(n?.deleted, true, 'the newer one is kept')
  t.same(store.getBucket('keep')?.floor, floor, 'the bucket keeps the floor')
  t.equal(store.getBucket('keep')?.sweeping, undefined, 'the sweep is finished')
})

t.test('an emptied bucket is dropped; writes respect the floor', async t => {
  const { store } = await open(t)
  await store.createBucket({ name: 'drop' })
  const old = await store.putObject('drop', 'old', Buffer.from('o'))
  const floor = { mtime: old.version.mtime + 1000, site: 'A' }
  t.equal(await store.applyBucketFloor('drop', floor, true), 'dropped', 'nothing newer: dropped')
  t.equal(store.getBucket('drop'), undefined, 'the bucket is gone')
  t.same((await store.listBucketTombstones()).map(x => [x.name, x.version]), [['drop', floor]], 'its tombstone is kept, with the delete version')

  await store.createBucket({ name: 'floor' })
  t.equal(await store.applyBucketFloor('floor', { mtime: Date.now() + 60_000, site: 'A' }, false), 'kept', 'a floor without drop keeps the bucket')
  const rec = store.getBucket('floor') as BucketRecord
  const local = await store.putObject('floor', 'local', Buffer.from('l'))
  t.ok(local.version.mtime > (rec.floor?.mtime ?? 0), 'a local write is stamped above the floor')
})

t.test('a drop job and a sweep left on disk finish at open', async t => {
  const { dir, store: first } = await open(t)
  await first.createBucket({ name: 'left' })
  const id = (first.getBucket('left') as BucketRecord).id
  // As a crash right after the drop batch leaves it: the job key, the storage still there.
  await first.db.batch([{ type: 'del', key: keys.bucketKey('left') }, { type: 'put', key: keys.bucketDropKey(id), value: { id, name: 'left' } }])
  await first.createBucket({ name: 'sweep' })
  await first.putObject('sweep', 'a', Buffer.from('a'))
  const rec = first.getBucket('sweep') as BucketRecord
  // As a crash right after the floor was saved: the record says a sweep (drop) is under way.
  await first.db.put(keys.bucketKey('sweep'), { ...rec, floor: { mtime: Date.now() + 60_000, site: 'A' }, sweeping: 'drop' })
  const store = await reopen(first, dir)
  t.teardown(async () => { store.close(); await store.db.close() })
  t.equal(store.getBucket('left'), undefined, 'the dropped bucket stays dropped')
  t.same(await store.db.keys({ ...keys.prefixRange(keys.shardsPrefix(id)) }).all(), [], 'its shard headers are gone')
  t.same(await store.db.keys({ ...keys.prefixRange(keys.BUCKET_DROPS_PREFIX) }).all(), [], 'the job is done')
  const deadline = Date.now() + 10_000
  while (store.getBucket('sweep') !== undefined && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  t.equal(store.getBucket('sweep'), undefined, 'the resumed sweep emptied and dropped the bucket')
  t.equal(bucketRef('x'), '@x')
})
