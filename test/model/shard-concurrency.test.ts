/**
 * --sync-shard-concurrency: a round of BucketSync (node/sync/bucket-sync.ts)
 * full-syncs at most that many source shards at once, and really runs them
 * side by side when allowed to.
 *
 * The real target side (ObjectStore over LevelDB, ProgressStore,
 * ObjectTransfer, BucketSync) against the protocol model's simulated source
 * with every fault off; each ListIndex answer is held back a few
 * milliseconds so that shards being copied at the same time overlap, and
 * the shards with a listing in flight are counted.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import t, { type Test } from 'tap'
import { BucketSync } from '../../node/sync/bucket-sync'
import { RateLimiter } from '../../node/sync/rate-limiter'
import type { SourceClient } from '../../node/sync/source-client'
import { ObjectTransfer } from '../../node/sync/transfer'
import { openDatabase } from '../../storage/database'
import { ObjectStore } from '../../storage/object-store'
import { ProgressStore } from '../../storage/progress-store'
import { NO_FAULTS, Rng, SimSource, type SimFaults } from './sim-source'

const FAULTS: SimFaults = { ...NO_FAULTS, pageCap: 10 }
const SHARDS = 8
const KEYS = 240

async function fullSyncWith (t: Test, shardConcurrency: number): Promise<{ maxShards: number, objects: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-concurrency-'))
  const db = await openDatabase(dir)
  const store = await ObjectStore.open(db, { siteId: 'tgt', maxObjectBytes: 1 << 20, defaults: { initialShards: 1, splitThreshold: 1e9, autoSplit: false } })
  t.teardown(async () => {
    store.close()
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const sim = new SimSource(new Rng(11), FAULTS)
  sim.quiet = true
  const b = sim.createBucket('bkt', SHARDS, KEYS)
  for (const key of b.keys) sim.write(b, key)

  // Shards with a ListIndex call in flight, and the most at any moment.
  const listing = new Map<number, number>()
  let maxShards = 0
  const inner = sim.client({ dead: false })
  const client: SourceClient = {
    ...inner,
    listIndex: async (bucket, shard, marker, limit) => {
      listing.set(shard, (listing.get(shard) ?? 0) + 1)
      maxShards = Math.max(maxShards, listing.size)
      try {
        await new Promise(resolve => setTimeout(resolve, 3))
        return await inner.listIndex(bucket, shard, marker, limit)
      } finally {
        const n = (listing.get(shard) ?? 1) - 1
        if (n === 0) listing.delete(shard)
        else listing.set(shard, n)
      }
    }
  }
  const [source] = await client.listBuckets()
  const sync = new BucketSync({
    localSite: 'tgt', client, store, progress: new ProgressStore(db), transfer: new ObjectTransfer(store, client, new RateLimiter(0)),
    mode: 'split-aware', intervalMs: 1000, shardConcurrency, log: pino({ level: 'silent' })
  }, source)
  await sync.round()
  let objects = 0
  let startAfter = ''
  for (;;) {
    const page = await store.listObjects('bkt', { startAfter, limit: 1000 })
    objects += page.objects.length
    if (page.nextStartAfter === '') break
    startAfter = page.nextStartAfter
  }
  return { maxShards, objects }
}

t.test('one shard at a time at --sync-shard-concurrency 1', async t => {
  const r = await fullSyncWith(t, 1)
  t.equal(r.maxShards, 1, 'never two shards listed at once')
  t.equal(r.objects, KEYS, 'every object copied')
})

t.test('up to three shards at once at --sync-shard-concurrency 3', async t => {
  const r = await fullSyncWith(t, 3)
  t.ok(r.maxShards <= 3, `at most 3 shards listed at once (saw ${r.maxShards})`)
  t.ok(r.maxShards >= 2, `shards copied side by side (saw ${r.maxShards})`)
  t.equal(r.objects, KEYS, 'every object copied')
})
