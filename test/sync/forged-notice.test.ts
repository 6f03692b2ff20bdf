/**
 * Issue 26, hole 1: a split notice the source never sent.
 *
 * While the target full-syncs the source's shard 0 (throttled), a third
 * party holding the node's credentials sends the target
 * NotifyReshardComplete "src:<bucketId>:0:1" before the source has split.
 * Before notices were confirmed with the source, the target recorded shard
 * 1 at once; when the source's real split of 0 -> 1 began, the target listed
 * shard 1 while it was still being filled, declared it done and tailed it,
 * and every entry that moved in afterwards was lost (1,899 of 6,000 in the
 * issue), with wait-synced exiting 0. A notice naming shard 2^31-1 left a
 * progress object no source shard would ever complete.
 *
 * Now a notice is a hint: the target asks the source (QuerySplitState) and
 * refuses what the source does not confirm with NOTICE_UNCONFIRMED, storing
 * nothing; the source's own notice, sent once the split is done, is
 * confirmed and stored.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import type { SyncStatusResponse__Output } from '../../node/rpc/generated/shardsync/v1/SyncStatusResponse'
import { connectOneWay, runCli } from '../../scripts/lib/cluster'
import { isShardsyncError } from '../../storage/errors'
import {
  assertConverged, bucketInfo, Ledger, logs, makeBucket, makeKeys, putMany, split, startSites, stopwatch, waitFor, waitLog, type NodeProcess
} from './helpers'

async function sendNotice (node: NodeProcess, info: string): Promise<string> {
  try {
    await callUnary(node.clients.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: info })
    return 'accepted'
  } catch (err) {
    return isShardsyncError(err) ? err.code : 'not a shardsync error'
  }
}

async function shardsOnTarget (target: NodeProcess, bucket: string): Promise<Array<{ shard: number, byNotice: number[] }>> {
  const s = await callUnary<object, SyncStatusResponse__Output>(target.clients.admin, 'SyncStatus', {})
  const b = s.peers.flatMap(p => p.buckets).find(x => x.bucket === bucket)
  return (b?.shardStatus ?? []).map(x => ({ shard: x.shard, byNotice: x.newShardsByNotice }))
}

t.test('a forged split notice is refused, stores nothing, and loses nothing', async t => {
  const lap = stopwatch(t)
  const [source, target] = await startSites(t, [
    // Each migration page pauses, so the split is still filling shard 1 while the target runs rounds.
    { site: 'src', args: ['--fault-split-pause-ms', '2500'] },
    { site: 'tgt', args: ['--sync-rate', '1000'] }
  ])
  const bucket = 'forged'
  const { id: bucketId } = await makeBucket(source, bucket, { shards: 1 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', 6000), { ledger, size: 32 })
  lap('loaded 6,000 objects into one shard')
  await connectOneWay(source, target)
  await waitLog(target, 'shard entering full sync', { bucket, shard: 0 })
  await waitFor(async () => Number((await bucketInfo(target, bucket))?.objectCount ?? 0) >= 200, { intervalMs: 50, what: 'target to copy its first objects' })
  t.equal(logs(target, 'shard entering incremental sync', { bucket }).length, 0, 'precondition: the target is still in full sync of shard 0')

  t.equal(await sendNotice(target, `src:${bucketId}:0:1`), 'NOTICE_UNCONFIRMED', 'a notice for a split the source has not made is refused')
  t.equal(await sendNotice(target, `src:${bucketId}:0:2147483647`), 'NOTICE_UNCONFIRMED', 'a notice naming shard 2^31-1 is refused')
  t.same(await shardsOnTarget(target, bucket), [{ shard: 0, byNotice: [] }], 'nothing was recorded: one progress object, no new shard')

  const splitting = split(source, bucket, 0)
  await waitLog(source, 'split started', { bucket, shard: 0 })
  // The same forged notice, now while shard 1 is being filled: still not a finished split.
  t.equal(await sendNotice(target, `src:${bucketId}:0:1`), 'NOTICE_UNCONFIRMED', 'a notice for a split still moving entries is refused')
  t.equal((await splitting).newShard, 1, 'the source split 0 -> 1')
  lap('split done')

  await assertConverged(t, source, target, bucket, { ledger, timeoutMs: 120_000 })
  const stored = await waitLog(target, 'split notice stored', { bucketId, shard: 0, newShard: 1 })
  t.ok(stored, 'the source\'s own notice, sent after the split, was confirmed and stored')
  const w = await runCli(['wait-synced', '--node', target.address, '--timeout', '60'], { timeoutMs: 90_000 })
  t.equal(w.code, 0, 'wait-synced exits 0', { stderr: w.stderr })
  t.same((await shardsOnTarget(target, bucket)).map(s => s.shard), [0, 1], 'the target syncs exactly the source\'s shards')
})
