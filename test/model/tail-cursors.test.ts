/**
 * A race between the two loops of BucketSync (node/sync/bucket-sync.ts),
 * made deterministic: the tail loads its cursors from the progress objects
 * while a round brings another shard into incremental sync. The shard must
 * be tailed afterwards. (It was not: the tail kept the cursors it had
 * loaded, so the shard was left out of every poll until another shard
 * entered incremental sync, and writes to it never reached the target.)
 *
 * The real target side (ObjectStore, ProgressStore, ObjectTransfer,
 * BucketSync) over memory-level, against the protocol model's simulated
 * source with every fault off; the interleaving is forced by running the
 * round inside the tail's read of the progress objects.
 */
import { MemoryLevel } from 'memory-level'
import pino from 'pino'
import t from 'tap'
import { BucketSync } from '../../node/sync/bucket-sync'
import { RateLimiter } from '../../node/sync/rate-limiter'
import { ObjectTransfer } from '../../node/sync/transfer'
import type { Database } from '../../storage/database'
import { ObjectStore } from '../../storage/object-store'
import { ProgressStore } from '../../storage/progress-store'
import { routeKey } from '../../storage/routing'
import { NO_FAULTS, Rng, SimSource } from './sim-source'


t.test('a shard that enters incremental sync while the tail loads its cursors is tailed', async t => {
  const db = new MemoryLevel<string, unknown>({ valueEncoding: 'json' }) as unknown as Database
  await db.open()
  const store = await ObjectStore.open(db, { siteId: 'tgt', maxObjectBytes: 1 << 20, defaults: { initialShards: 1, splitThreshold: 1e9, autoSplit: false } })
  t.teardown(async () => { store.close(); await db.close() })
  const progress = new ProgressStore(db)
  const sim = new SimSource(new Rng(7), NO_FAULTS)
  sim.quiet = true
  const b = sim.createBucket('bkt', 2, 40)
  for (const key of b.keys) sim.write(b, key)

  // Shard 1 is SPLITTING: the first round syncs shard 0 and leaves shard 1
  // in full sync.
  await sim.beginSplit(b, b.shards[1])
  const client = sim.client({ dead: false })
  const [source] = await client.listBuckets()
  const sync = new BucketSync({
    localSite: 'tgt', client, store, progress, transfer: new ObjectTransfer(store, client, new RateLimiter(0)),
    mode: 'split-aware', intervalMs: 1000, shardConcurrency: 4, log: pino({ level: 'silent' })
  }, source)
  await sync.round()
  const states = async (): Promise<string[]> => (await progress.list(sim.site, b.id)).map(r => `${r.srcShard}:${r.state}`)
  t.same(await states(), ['0:incremental', '1:full'], 'before: shard 1 still in full sync')

  // The tail's next read of the progress objects: the split finishes and a
  // round brings shard 1 into incremental sync before that read returns.
  const list = progress.list.bind(progress)
  let during: (() => Promise<void>) | undefined = async () => {
    await sim.settle()
    await sync.round()
  }
  progress.list = async (site, bucketId) => {
    const recs = await list(site, bucketId)
    const run = during
    during = undefined
    if (run !== undefined) await run()
    return recs
  }
  await sync.tailStep(0)
  t.equal(during, undefined, 'the round ran inside the tail\'s read')
  t.same(await states(), ['0:incremental', '1:incremental', '2:incremental'], 'after: every shard in incremental sync')

  // A write to shard 1 after that must reach the target through the tail.
  const key = b.keys.find(k => routeKey(k, b.initialShards, b.shards) === 1)
  if (key === undefined) throw new Error('no key of shard 1')
  sim.write(b, key)
  const want = b.heads.get(key)?.etag
  for (let i = 0; i < 3; i++) await sync.tailStep(0)
  const head = await store.headObject('bkt', key).catch(() => undefined)
  t.equal(head?.etag, want, `the write to shard 1 (${key}) arrived`)
})
