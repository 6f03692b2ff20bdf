/**
 * An idle, synced pair does not re-read the source's shard list every sync
 * interval (node/sync/bucket-sync.ts, Rounds): a round with nothing to do
 * runs once a sweep (ROUND_SWEEP_INTERVALS intervals), and a split of an
 * incremental source shard, its notice dropped (--fault-drop-notices), is
 * still found by pulling (the tail sees the shard count grow and asks for a
 * round; the sweep would find it too, later).
 *
 * Why it matters: a round reads every progress object of the bucket and
 * the source's whole ListShards, work that grows with the shard count.
 *
 * Fails on the old behaviour (a round every interval): the source then
 * answers a ListShards for every interval of the idle window, about 25 in
 * 5 s at 200 ms, where the test allows 6.
 *
 * The second test: splits whose notices arrive cost the target a targeted
 * round each (the parent and its new shard), not a full pass with the
 * source's whole shard list. Fails on a full pass per notice: 12 splits
 * then cost at least 12 ListShards, where the test allows 6 (the tail sees
 * the count grow before a notice comes; a full pass follows
 * PULL_GRACE_INTERVALS later, at most one per grace).
 */
import t from 'tap'
import { connectOneWay } from '../../scripts/lib/cluster'
import { ROUND_SWEEP_INTERVALS } from '../../node/sync/bucket-sync'
import { metrics, value } from '../ops/prom'
import { makeBucket, makeKeys, putMany, split, startSites, waitAllIncremental, waitConverged, waitLog } from './helpers'

const SPLITS = 12

const INTERVAL_MS = 200
const IDLE_MS = 5000

t.test('idle rounds: no shard list per interval, a split still found through the tail', async t => {
  t.ok(IDLE_MS < INTERVAL_MS * ROUND_SWEEP_INTERVALS, 'the idle window is shorter than a sweep')
  const [src, tgt] = await startSites(t, [
    { site: 'src', args: ['--metrics', '127.0.0.1:0', '--sync-interval-ms', String(INTERVAL_MS), '--fault-drop-notices'] },
    { site: 'tgt', args: ['--metrics', '127.0.0.1:0', '--sync-interval-ms', String(INTERVAL_MS)] }
  ])
  const bucket = 'idle-b'
  await makeBucket(src, bucket, { shards: 4 })
  await putMany(src.clients, bucket, makeKeys('k-', 200), { size: 32 })
  await connectOneWay(src, tgt)
  await waitAllIncremental(src, tgt, bucket, { timeoutMs: 60_000 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })

  const listShards = async (): Promise<number> => value(await metrics(src), 'shardsync_rpc_requests_total', { method: 'ListShards' }) ?? 0
  const before = await listShards()
  const t0 = Date.now()
  await new Promise(resolve => setTimeout(resolve, IDLE_MS))
  const idle = (await listShards()) - before
  const intervals = Math.floor((Date.now() - t0) / INTERVAL_MS)
  t.ok(idle <= 6, `ListShards answered ${idle} times in ${intervals} idle intervals (a round each interval would be about ${intervals})`)

  // A split of an incremental shard, its notice dropped: found by pulling,
  // and what is written to it afterwards arrives.
  const s = await split(src, bucket, 0)
  await waitLog(tgt, 'new source shard found: full sync started', { shard: s.newShard, foundBy: 'pull' }, { timeoutMs: 60_000 })
  await putMany(src.clients, bucket, makeKeys('after-', 100), { size: 32 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })
  t.pass('converged after the split')
})

t.test('splits with their notices: a targeted round each, no shard list per split', async t => {
  const [src, tgt] = await startSites(t, [
    { site: 'src', args: ['--metrics', '127.0.0.1:0', '--sync-interval-ms', String(INTERVAL_MS)] },
    { site: 'tgt', args: ['--sync-interval-ms', String(INTERVAL_MS)] }
  ])
  const bucket = 'notice-b'
  await makeBucket(src, bucket, { shards: 4 })
  await putMany(src.clients, bucket, makeKeys('k-', 400), { size: 32 })
  await connectOneWay(src, tgt)
  await waitAllIncremental(src, tgt, bucket, { timeoutMs: 60_000 })

  const listShards = async (): Promise<number> => value(await metrics(src), 'shardsync_rpc_requests_total', { method: 'ListShards' }) ?? 0
  const before = await listShards()
  for (let i = 0; i < SPLITS; i++) {
    const s = await split(src, bucket, i % 4)
    await waitLog(tgt, 'new source shard found: full sync started', { shard: s.newShard }, { timeoutMs: 60_000 })
  }
  const pulls = (await listShards()) - before
  t.ok(pulls <= SPLITS / 2, `${SPLITS} splits cost ${pulls} ListShards (a full pass per notice would be at least ${SPLITS})`)
  await putMany(src.clients, bucket, makeKeys('after-', 100), { size: 32 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })
  t.pass('converged after the splits')
})
