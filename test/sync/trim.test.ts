/**
 * Issue 26, hole 4: sync logs and tombstones are trimmed, so a pair can run
 * for ever (docs/design.md, invariant 18). Real node processes:
 *
 *   a. Both sites write, overwrite and delete; once both have passed every
 *      change, each trims its logs to the head and collects every
 *      tombstone, and the sites are identical. (Before trimming, the log
 *      only grew: the counts stay at their peak; shown with the trimmer off.)
 *   b. A peer away longer than the retention: the source trims past it but
 *      keeps its tombstones; back, the peer gets LOG_TRIMMED, full-syncs the
 *      shards again, and ends identical, with every delete applied (no
 *      resurrection) and its own newer writes kept.
 *   c. RemovePeer releases what the removed peer held: logs and tombstones
 *      go once nobody else needs them. PullChanges from below a trimmed
 *      floor fails with FAILED_PRECONDITION / LOG_TRIMMED.
 */
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { callUnary, createClients } from '../../node/rpc/clients'
import type { SyncStatusResponse__Output } from '../../node/rpc/generated/shardsync/v1/SyncStatusResponse'
import { ShardsyncError } from '../../storage/errors'
import { connectAll } from '../../scripts/lib/cluster'
import {
  deleteMany, listing, logs, makeBucket, makeKeys, putMany, shardList, startSites, verifyDeep, waitConverged, waitFor,
  type NodeProcess
} from './helpers'

const TRIM_ARGS = ['--log-trim-interval-ms', '300', '--position-report-ms', '200']

async function kept (node: NodeProcess): Promise<{ logEntries: number, tombstones: number }> {
  const s = await callUnary<object, SyncStatusResponse__Output>(node.clients.admin, 'SyncStatus', { summaryOnly: true })
  return { logEntries: Number(s.logEntries), tombstones: Number(s.tombstones) }
}

async function errorOf (p: Promise<unknown>): Promise<{ status?: number, code: string }> {
  try {
    await p
    return { code: 'no error' }
  } catch (err) {
    if (!(err instanceof ShardsyncError)) return { code: String(err) }
    return { status: (err.cause as grpc.ServiceError | undefined)?.code, code: err.code }
  }
}

t.test('a: logs are trimmed and tombstones collected once both sites have passed them', { timeout: 240_000 }, async t => {
  const [a, b] = await startSites(t, [{ site: 'a', args: TRIM_ARGS }, { site: 'b', args: TRIM_ARGS }])
  const bucket = 'trim-a'
  await makeBucket(a, bucket, { shards: 4 })
  await connectAll([a, b])
  const keys = makeKeys('k', 300)
  await putMany(a.clients, bucket, keys, { size: 64, concurrency: 16 })
  await putMany(a.clients, bucket, keys.slice(0, 100), { size: 32, concurrency: 16 })
  await deleteMany(a.clients, bucket, keys.slice(100, 200))
  await waitFor(async () => (await listing(b, bucket)).size > 0, { what: 'the bucket to reach b' })
  const mine = makeKeys('b', 60)
  await putMany(b.clients, bucket, mine, { size: 16 })
  await deleteMany(b.clients, bucket, mine.slice(0, 20))
  await waitConverged(a, b, bucket)
  const peak = { a: await kept(a), b: await kept(b) }
  t.comment(`kept right after convergence: a ${JSON.stringify(peak.a)}, b ${JSON.stringify(peak.b)}`)

  const settled = await waitFor(async () => {
    const now = { a: await kept(a), b: await kept(b) }
    return now.a.logEntries === 0 && now.b.logEntries === 0 && now.a.tombstones === 0 && now.b.tombstones === 0 ? now : undefined
  }, { what: 'both sites to trim every log entry and collect every tombstone', timeoutMs: 120_000 })
  t.same(settled, { a: { logEntries: 0, tombstones: 0 }, b: { logEntries: 0, tombstones: 0 } }, 'nothing kept once both sites passed everything')
  const v = await verifyDeep(a, b, bucket)
  t.equal(v.code, 0, 'verify --deep: identical', { stdout: v.stdout })
  const onB = await listing(b, bucket)
  t.equal(onB.size, 300 - 100 + 40, 'b holds exactly the live objects')
  t.notOk(keys.slice(100, 200).some(k => onB.has(k)), 'no deleted key is back on b')
  t.notOk(mine.slice(0, 20).some(k => onB.has(k)), "no key b deleted is back")
  // After collection, a delete of a key whose tombstone is gone still
  // replicates: the state machine does not depend on the tombstone.
  await deleteMany(a.clients, bucket, keys.slice(0, 10))
  await waitConverged(a, b, bucket)
  const later = await listing(b, bucket)
  t.notOk(keys.slice(0, 10).some(k => later.has(k)), 'later deletes replicate after collection')
})

t.test('b: a peer away past the retention resyncs: no resurrection, its newer writes kept', { timeout: 300_000 }, async t => {
  const args = [...TRIM_ARGS, '--log-retention-age-ms', '1500']
  const [a, b] = await startSites(t, [{ site: 'a', args }, { site: 'b', args }])
  const bucket = 'trim-b'
  await makeBucket(a, bucket, { shards: 4 })
  await connectAll([a, b])
  const keys = makeKeys('k', 200)
  await putMany(a.clients, bucket, keys, { size: 64, concurrency: 16 })
  await waitConverged(a, b, bucket)

  await b.stop()
  await deleteMany(a.clients, bucket, keys.slice(0, 50))
  await putMany(a.clients, bucket, keys.slice(50, 100), { size: 48, concurrency: 16 })
  await putMany(a.clients, bucket, makeKeys('n', 50), { size: 48, concurrency: 16 })
  // Past the retention a trims its logs past b, but keeps the tombstones b has not passed.
  const floors = await waitFor(async () => {
    const shards = await shardList(a, bucket)
    return shards.every(s => Number(s.logFloor) === Number(s.logSeq)) ? shards : undefined
  }, { what: 'a to trim its logs past the away peer', timeoutMs: 60_000 })
  t.ok(floors.some(s => Number(s.logFloor) > 0), 'a trimmed past b')
  t.ok((await kept(a)).tombstones >= 50, 'the tombstones b has not passed are kept (expiry releases logs, never tombstones)')

  await b.restart()
  // b's own writes, made after it is back, are newer than a's versions.
  const newer = keys.slice(100, 110)
  await putMany(b.clients, bucket, newer, { size: 24 })
  await waitFor(() => logs(b, 'the source trimmed its log past our position (LOG_TRIMMED): shards are full-synced again').length > 0, { what: 'b to get LOG_TRIMMED and resync', timeoutMs: 60_000 })
  await waitConverged(a, b, bucket)
  const onB = await listing(b, bucket)
  const onA = await listing(a, bucket)
  t.notOk(keys.slice(0, 50).some(k => onB.has(k)), 'every delete made while b was away is applied on b: no resurrection')
  t.ok(keys.slice(50, 100).every(k => onB.get(k)?.size === 48), "a's overwrites made while b was away reached b")
  t.ok(newer.every(k => onB.get(k)?.originSite === 'b' && onA.get(k)?.originSite === 'b'), "b's newer writes are kept, on both sites")
  t.equal(onB.size, 150 + 50, 'b holds exactly the live objects')
  const v = await verifyDeep(a, b, bucket)
  t.equal(v.code, 0, 'verify --deep: identical', { stdout: v.stdout })
  await waitFor(async () => (await kept(a)).tombstones === 0, { what: 'a to collect the tombstones once b passed them', timeoutMs: 120_000 })
})

t.test('c: RemovePeer releases what the peer held; a pull below the floor gets LOG_TRIMMED', { timeout: 240_000 }, async t => {
  const [a, b] = await startSites(t, [{ site: 'a', args: TRIM_ARGS }, { site: 'b', args: TRIM_ARGS }])
  const bucket = 'trim-c'
  await makeBucket(a, bucket, { shards: 2 })
  await connectAll([a, b])
  const keys = makeKeys('k', 100)
  await putMany(a.clients, bucket, keys, { size: 32, concurrency: 16 })
  await waitConverged(a, b, bucket)
  await b.kill9()
  await deleteMany(a.clients, bucket, keys.slice(0, 40))
  const mark = (await kept(a))
  t.ok(mark.logEntries >= 40 && mark.tombstones >= 40, `a keeps what the away peer needs (${JSON.stringify(mark)})`)
  // Several trim passes go by; b (no retention by age here: 7 days) still holds.
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.ok((await kept(a)).tombstones >= 40, 'a still keeps the tombstones while b is configured')

  await callUnary(a.clients.admin, 'RemovePeer', { id: 'b' })
  const after = await waitFor(async () => {
    const k = await kept(a)
    return k.logEntries === 0 && k.tombstones === 0 ? k : undefined
  }, { what: 'a to release what b held', timeoutMs: 60_000 })
  t.same(after, { logEntries: 0, tombstones: 0 }, 'RemovePeer released the logs and tombstones b held')
  t.same(await errorOf(callUnary(a.clients.admin, 'RemovePeer', { id: 'b' })), { status: grpc.status.NOT_FOUND, code: 'PEER_NOT_FOUND' }, 'removing it again: NOT_FOUND / PEER_NOT_FOUND')

  const raw = createClients(a.address, { metadata: { 'shardsync-site': 'b' } })
  t.teardown(() => raw.close())
  const shards = await shardList(a, bucket)
  const trimmed = shards.find(s => Number(s.logFloor) > 0)
  t.ok(trimmed !== undefined, 'a shard of a has a log floor')
  const e = await errorOf(callUnary(raw.sync, 'PullChanges', { bucket, cursors: [{ shard: trimmed?.shard ?? 0, afterSeq: 0 }], limit: 10, waitMs: 0 }))
  t.same(e, { status: grpc.status.FAILED_PRECONDITION, code: 'LOG_TRIMMED' }, 'PullChanges from below the floor: FAILED_PRECONDITION / LOG_TRIMMED')
  const ok = await callUnary<object, { entries: unknown[] }>(raw.sync, 'PullChanges', { bucket, cursors: [{ shard: trimmed?.shard ?? 0, afterSeq: Number(trimmed?.logFloor ?? 0) }], limit: 10, waitMs: 0 })
  t.same(ok.entries, [], 'from the floor itself: answered (nothing after it)')
})
