/**
 * Shard count and split rate limits on real node processes (issue 27,
 * finding 6): CreateBucket refuses more initial shards than --max-shards,
 * a forced split at the cap gets FAILED_PRECONDITION / SHARD_LIMIT, splits
 * beyond --split-rate-limit get RESOURCE_EXHAUSTED / SPLIT_RATE_LIMITED,
 * refusals change no shard; auto-split stops at the cap (logged once, the
 * shard grows past its threshold) and writes go on.
 */
import * as grpc from '@grpc/grpc-js'
import t, { type Test } from 'tap'
import { createBucket, listShards, putObject } from '../../node/cli/object-commands'
import { callUnary } from '../../node/rpc/clients'
import { NodeProcess, waitFor } from '../../scripts/lib/cluster'
import { ShardsyncError } from '../../storage/errors'

t.setTimeout(300_000)

async function refused (t: Test, what: string, p: Promise<unknown>, status: grpc.status, code: string): Promise<void> {
  try {
    await p
    t.fail(`${what}: succeeded`)
  } catch (err) {
    t.ok(err instanceof ShardsyncError, `${what}: ShardsyncError`)
    t.equal(((err as ShardsyncError).cause as grpc.ServiceError | undefined)?.code, status, `${what}: ${grpc.status[status]}`)
    t.equal((err as ShardsyncError).code, code, `${what}: ${code}`)
  }
}

const split = async (n: NodeProcess, bucket: string, shard: number): Promise<unknown> => await callUnary(n.clients.admin, 'SplitShard', { bucket, shard })
const shardCount = async (n: NodeProcess, bucket: string): Promise<number> => (await listShards(n.clients, bucket)).shards.length

t.test('forced splits: the shard cap and the split rate', async (t) => {
  const node = new NodeProcess({ site: 'A', args: ['--shards', '1', '--max-shards', '8', '--split-rate-limit', '3', '--split-rate-interval-ms', '600000'] })
  await node.start()
  t.teardown(async () => { await node.stop() })

  await refused(t, 'CreateBucket with 9 initial shards', createBucket(node.clients, 'toomany', { shards: 9 }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
  t.same((await callUnary<object, { buckets: unknown[] }>(node.clients.object, 'ListBuckets', {})).buckets, [], 'no bucket created')

  await createBucket(node.clients, 'full', { shards: 8, autoSplit: false })
  await refused(t, 'split of an 8-shard bucket', split(node, 'full', 3), grpc.status.FAILED_PRECONDITION, 'SHARD_LIMIT')
  t.equal(await shardCount(node, 'full'), 8, 'still 8 shards')

  await createBucket(node.clients, 'forced', { shards: 1, autoSplit: false })
  for (const s of [0, 0, 1]) await split(node, 'forced', s)
  t.equal(await shardCount(node, 'forced'), 4, 'three splits done')
  await refused(t, 'fourth split in the window', split(node, 'forced', 2), grpc.status.RESOURCE_EXHAUSTED, 'SPLIT_RATE_LIMITED')
  t.equal(await shardCount(node, 'forced'), 4, 'still 4 shards')
  // The window is per bucket.
  await createBucket(node.clients, 'other', { shards: 1, autoSplit: false })
  await split(node, 'other', 0)
  t.equal(await shardCount(node, 'other'), 2, 'another bucket splits')
})

t.test('auto-split stops at the cap; writes go on', async (t) => {
  const node = new NodeProcess({ site: 'A', args: ['--shards', '2', '--max-shards', '4'] })
  await node.start()
  t.teardown(async () => { await node.stop() })
  await callUnary(node.clients.object, 'CreateBucket', { name: 'auto', initialShards: 2, splitThreshold: 5, autoSplit: true })
  for (let i = 0; i < 80; i++) await putObject(node.clients, 'auto', `k${i}`, Buffer.from(`v${i}`))
  await waitFor(() => node.logged('bucket reached --max-shards: auto-split stops, its shards grow past the split threshold').length > 0, { what: 'the cap log line' })
  await waitFor(async () => (await listShards(node.clients, 'auto')).shards.every(s => s.state !== 'SPLIT_STATE_SPLITTING'), { what: 'splits to settle' })
  for (let i = 80; i < 120; i++) await putObject(node.clients, 'auto', `k${i}`, Buffer.from(`v${i}`))
  const shards = (await listShards(node.clients, 'auto')).shards
  t.equal(shards.length, 4, 'four shards, the cap')
  t.equal(shards.reduce((n, s) => n + Number(s.indexCount), 0), 120, 'every object indexed')
  t.ok(shards.some(s => Number(s.indexCount) > 5), 'a shard grew past its threshold')
  t.equal(node.logged('bucket reached --max-shards: auto-split stops, its shards grow past the split threshold').length, 1, 'logged once')
  t.equal(node.logged('auto-split failed').length, 0, 'no failed auto-splits')
})
