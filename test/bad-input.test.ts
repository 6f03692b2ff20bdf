/**
 * Bad input against a real node process: every bad request gets the right
 * gRPC status and stable "shardsync-code", its details carry no stack trace,
 * and it changes nothing stored (ListBuckets + ListObjects + ListShards,
 * including log sequence numbers, compared with a baseline after every
 * case; at the end LevelDB itself is checked for leftover chunks/markers).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import t, { type Test } from 'tap'
import { createBucket, listBuckets, listShards, putObject } from '../node/cli/object-commands'
import { callUnary, createClients, type Clients } from '../node/rpc/clients'
import type { GetObjectResponse__Output } from '../node/rpc/generated/shardsync/v1/GetObjectResponse'
import type { ListObjectsResponse__Output } from '../node/rpc/generated/shardsync/v1/ListObjectsResponse'
import type { ObjectInfo__Output } from '../node/rpc/generated/shardsync/v1/ObjectInfo'
import type { PutObjectRequest } from '../node/rpc/generated/shardsync/v1/PutObjectRequest'
import { loadShardsyncProto } from '../node/rpc/proto'
import { fromServiceError } from '../node/rpc/status-map'
import { NodeProcess } from '../scripts/lib/cluster'
import { auditContent } from './content-audit'
import { openDatabase } from '../storage/database'
import { ShardsyncError } from '../storage/errors'

// Also when run directly with node (tap's default root timeout is 30 s).
t.setTimeout(300_000)

const MAX_OBJECT = 3 * 1024 * 1024
const logFile = path.join(os.tmpdir(), `shardsync-bad-input-${process.pid}.log`)
const node = new NodeProcess({ site: 'A', logFile, args: ['--shards', '4', '--split-threshold', '1000', '--max-object-bytes', String(MAX_OBJECT)] })
let siteB: Clients
let siteC: Clients

t.before(async () => {
  await node.start()
  const c = node.clients
  await createBucket(c, 'good', { shards: 2 })
  await createBucket(c, 'other.bucket-1', { shards: 1 })
  for (let i = 0; i < 20; i++) await putObject(c, 'good', `k${i}`, Buffer.from(`value ${i}`))
  await putObject(c, 'other.bucket-1', 'só/ünïcødé', Buffer.from('x'))
  await callUnary(c.admin, 'AddPeer', { id: 'B', address: '127.0.0.1:1' })
  siteB = createClients(node.address, { metadata: { 'shardsync-site': 'B' } })
  siteC = createClients(node.address, { metadata: { 'shardsync-site': 'C' } })
})
t.teardown(async () => {
  siteB?.close()
  siteC?.close()
  await node.stop().catch(() => {})
  if (!t.passing() && fs.existsSync(logFile)) t.comment(fs.readFileSync(logFile, 'utf8').split('\n').filter(l => !l.includes('split notice rejected')).slice(-20).join('\n'))
  fs.rmSync(node.dataDir, { recursive: true, force: true })
  fs.rmSync(logFile, { force: true })
})

interface Snapshot { buckets: unknown[], objects: Record<string, unknown[]>, shards: Record<string, unknown> }

/** Everything a client can see of the stored state. */
async function snapshot (c: Clients): Promise<Snapshot> {
  const buckets = await listBuckets(c)
  const snap: Snapshot = { buckets, objects: {}, shards: {} }
  for (const b of buckets) {
    const objects: ObjectInfo__Output[] = []
    let startAfter = ''
    for (;;) {
      const page = await callUnary<object, ListObjectsResponse__Output>(c.object, 'ListObjects', { bucket: b.name, startAfter, limit: 1000 })
      objects.push(...page.objects)
      if (page.nextStartAfter === '') break
      startAfter = page.nextStartAfter
    }
    snap.objects[b.name] = objects
    snap.shards[b.name] = await listShards(c, b.name)
  }
  return snap
}

/** GetObject with a deadline, so a stream that never ends fails instead of hanging. */
async function getObject (c: Clients, bucket: string, key: string, timeoutMs = 3000): Promise<Buffer> {
  const call = c.object.GetObject({ bucket, key }, { deadline: Date.now() + timeoutMs })
  const parts: Buffer[] = []
  let info = false
  try {
    for await (const msg of call as AsyncIterable<GetObjectResponse__Output>) {
      if (msg.info !== null && msg.info !== undefined) info = true
      else parts.push(msg.data)
    }
  } catch (err) {
    throw fromServiceError(err, 'GetObject')
  }
  if (!info) throw new ShardsyncError('INTERNAL', 'no info')
  return Buffer.concat(parts)
}

/** A whole StreamShard call; its messages are dropped. */
async function streamShard (c: Clients, req: object, md: Record<string, string> = {}): Promise<void> {
  const metadata = new grpc.Metadata()
  for (const [k, v] of Object.entries(md)) metadata.set(k, v)
  await new Promise<void>((resolve, reject) => {
    const call = c.sync.StreamShard(req, metadata, { deadline: Date.now() + 3000 })
    call.on('data', () => {})
    call.on('error', (err) => reject(fromServiceError(err, 'StreamShard')))
    call.on('end', resolve)
  })
}

/** PutObject with raw messages (e.g. none at all). */
async function rawPut (c: Clients, msgs: PutObjectRequest[]): Promise<ObjectInfo__Output> {
  return await new Promise((resolve, reject) => {
    const call = c.object.PutObject({ deadline: Date.now() + 10_000 }, (err, res) => err !== null ? reject(fromServiceError(err, 'PutObject')) : resolve(res as ObjectInfo__Output))
    for (const m of msgs) call.write(m)
    call.end()
  })
}

let baseline: Snapshot

/** The call must fail with this status and code, without a stack in its details, and change nothing. */
async function rejects (t: Test, what: string, p: Promise<unknown>, status: grpc.status, code: string): Promise<void> {
  try {
    await p
    t.fail(`${what}: succeeded, expected ${grpc.status[status]}/${code}`)
  } catch (err) {
    if (!(err instanceof ShardsyncError)) { t.fail(`${what}: not a ShardsyncError: ${String(err)}`); return }
    const se = err.cause as grpc.ServiceError | undefined
    t.equal(se?.code, status, `${what}: gRPC ${grpc.status[status]}`)
    t.equal(err.code, code, `${what}: code ${code}`)
    const details = `${se?.details ?? ''}\n${err.message}`
    t.notOk(details.includes('    at ') || /\bat \S+ \(?\S+:\d+:\d+\)?/.test(details), `${what}: no stack trace in details`)
    t.ok(details.length < 2000, `${what}: short details (${details.length} chars)`)
  }
  t.same(await snapshot(node.clients), baseline, `${what}: nothing changed`)
}

t.test('bad input is refused with the right status and code, and changes nothing', { timeout: 120_000 }, async (t) => {
  const c = node.clients
  baseline = await snapshot(c)
  t.equal(baseline.buckets.length, 2)
  const good = baseline.shards.good as { bucketId: string, shards: unknown[] }
  t.equal(good.shards.length, 2)

  t.test('invalid bucket names (S3 rules)', async (t) => {
    const names = ['UPPER', 'Upper-case', 'ab', 'a', '', 'a'.repeat(64), '192.168.1.1', '10.0.0.255', 'a..b', '-abc', 'abc-', '.abc', 'abc.',
      'a_b', 'a b', 'a.-b', 'a-.b', 'ünï', 'abc/def', 'abc!def', 'abc"def', 'abc:def', 'abc\u0000def']
    for (const name of names) {
      await rejects(t, `CreateBucket ${JSON.stringify(name)}`, callUnary(c.object, 'CreateBucket', { name }), grpc.status.INVALID_ARGUMENT, 'INVALID_BUCKET_NAME')
    }
  })

  t.test('bad bucket parameters', async (t) => {
    await rejects(t, 'initial_shards 65537', callUnary(c.object, 'CreateBucket', { name: 'params', initialShards: 65537 }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    await rejects(t, 'split_threshold 1', callUnary(c.object, 'CreateBucket', { name: 'params', splitThreshold: 1 }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    await rejects(t, 'existing bucket', callUnary(c.object, 'CreateBucket', { name: 'good' }), grpc.status.ALREADY_EXISTS, 'BUCKET_EXISTS')
    await rejects(t, 'existing bucket, other params', callUnary(c.object, 'CreateBucket', { name: 'good', initialShards: 8, splitThreshold: 5, autoSplit: false }), grpc.status.ALREADY_EXISTS, 'BUCKET_EXISTS')
    await rejects(t, 'delete non-empty bucket', callUnary(c.object, 'DeleteBucket', { name: 'good' }), grpc.status.FAILED_PRECONDITION, 'BUCKET_NOT_EMPTY')
  })

  t.test('bad object keys', async (t) => {
    const longKeys: Array<[string, string]> = [
      ['1025 ASCII bytes', 'a'.repeat(1025)],
      ['1025 bytes of 2-byte chars', 'é'.repeat(512) + 'a'],
      ['1025 bytes of 3-byte chars', '€'.repeat(341) + 'ab'],
      ['1025 bytes of 4-byte chars', '😀'.repeat(256) + 'a'],
      ['far too long (100 KB)', 'x'.repeat(100_000)]
    ]
    for (const [what, key] of longKeys) t.equal(Buffer.byteLength(key), what.startsWith('far') ? 100_000 : 1025, `${what} is that long`)
    const bad: Array<[string, string, string]> = [
      ['empty key', '', 'INVALID_KEY'],
      ['NUL in key', 'a\u0000b', 'INVALID_KEY'],
      ['only NUL', '\u0000', 'INVALID_KEY'],
      ...longKeys.map(([what, key]): [string, string, string] => [what, key, 'INVALID_KEY'])
    ]
    for (const [what, key, code] of bad) {
      await rejects(t, `PutObject ${what}`, putObject(c, 'good', key, Buffer.from('data')), grpc.status.INVALID_ARGUMENT, code)
      await rejects(t, `HeadObject ${what}`, callUnary(c.object, 'HeadObject', { bucket: 'good', key }), grpc.status.INVALID_ARGUMENT, code)
      await rejects(t, `DeleteObject ${what}`, callUnary(c.object, 'DeleteObject', { bucket: 'good', key }), grpc.status.INVALID_ARGUMENT, code)
    }
    // GetObject concurrently, each with its own deadline.
    await Promise.all(bad.map(async ([what, key, code]) => await rejects(t, `GetObject ${what}`, getObject(c, 'good', key), grpc.status.INVALID_ARGUMENT, code)))
    await rejects(t, 'PutObject with no message at all', rawPut(c, []), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    await rejects(t, 'PutObject first message without key', rawPut(c, [{ bucket: 'good', data: Buffer.from('x') }]), grpc.status.INVALID_ARGUMENT, 'INVALID_KEY')
  })

  t.test('unknown bucket', async (t) => {
    const bucket = 'no-such-bucket'
    await rejects(t, 'PutObject', putObject(c, bucket, 'k', Buffer.from('x')), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'GetObject', getObject(c, bucket, 'k'), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'SyncService.GetObject', new Promise((resolve, reject) => {
      const call = c.sync.GetObject({ bucket, key: 'k' }, { deadline: Date.now() + 3000 })
      call.on('data', () => {})
      call.on('error', (err) => reject(fromServiceError(err, 'GetObject')))
      call.on('end', resolve)
    }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'HeadObject', callUnary(c.object, 'HeadObject', { bucket, key: 'k' }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'DeleteObject', callUnary(c.object, 'DeleteObject', { bucket, key: 'k' }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'ListObjects', callUnary(c.object, 'ListObjects', { bucket }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'DeleteBucket', callUnary(c.object, 'DeleteBucket', { name: bucket }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'ListShards', callUnary(c.sync, 'ListShards', { bucket }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'ListIndex', callUnary(c.sync, 'ListIndex', { bucket, shard: 0 }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'QuerySplitState', callUnary(c.sync, 'QuerySplitState', { bucket, shard: 0 }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'PullChanges', callUnary(c.sync, 'PullChanges', { bucket, cursors: [{ shard: 0, afterSeq: 0 }] }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'StreamShard', streamShard(c, { bucket, shard: 0 }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'StreamShard naming another bucket id', streamShard(c, { bucket: 'good', shard: 0 }, { 'shardsync-bucket-id': 'not-its-id' }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    await rejects(t, 'SplitShard', callUnary(c.admin, 'SplitShard', { bucket, shard: 0 }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
    // An invalid name is simply not a bucket for reads.
    await rejects(t, 'HeadObject in "UPPER"', callUnary(c.object, 'HeadObject', { bucket: 'UPPER', key: 'k' }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND')
  })

  t.test('missing objects', async (t) => {
    await rejects(t, 'HeadObject missing', callUnary(c.object, 'HeadObject', { bucket: 'good', key: 'missing' }), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND')
    await rejects(t, 'GetObject missing', getObject(c, 'good', 'missing'), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND')
    // A delete of nothing writes no tombstone and no log entry (log_seq is in the snapshot).
    await rejects(t, 'DeleteObject missing', callUnary(c.object, 'DeleteObject', { bucket: 'good', key: 'missing' }), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND')
    await rejects(t, 'DeleteObject key of another bucket', callUnary(c.object, 'DeleteObject', { bucket: 'good', key: 'só/ünïcødé' }), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND')
  })

  t.test('shard out of range', async (t) => {
    for (const shard of [2, 3, 1000, 2 ** 31, 2 ** 32 - 1]) {
      await rejects(t, `ListIndex shard ${shard}`, callUnary(c.sync, 'ListIndex', { bucket: 'good', shard }), grpc.status.NOT_FOUND, 'SHARD_NOT_FOUND')
      await rejects(t, `QuerySplitState shard ${shard}`, callUnary(c.sync, 'QuerySplitState', { bucket: 'good', shard }), grpc.status.NOT_FOUND, 'SHARD_NOT_FOUND')
      await rejects(t, `StreamShard shard ${shard}`, streamShard(c, { bucket: 'good', shard, marker: 'a', includeDeleted: true, inlineMaxBytes: 2 ** 32 - 1 }), grpc.status.NOT_FOUND, 'SHARD_NOT_FOUND')
      await rejects(t, `SplitShard shard ${shard}`, callUnary(c.admin, 'SplitShard', { bucket: 'good', shard }), grpc.status.NOT_FOUND, 'SHARD_NOT_FOUND')
    }
    await rejects(t, 'PullChanges cursor on shard 9', callUnary(c.sync, 'PullChanges', { bucket: 'good', cursors: [{ shard: 0, afterSeq: 0 }, { shard: 9, afterSeq: 0 }] }), grpc.status.NOT_FOUND, 'SHARD_NOT_FOUND')
    const report = (positions: unknown[], extra: Record<string, unknown> = {}): Promise<unknown> => callUnary(siteB.sync, 'ReportPositions', { bucket: 'good', positions, reporterBucketId: 'abc123', heads: [], ...extra })
    await rejects(t, 'ReportPositions on shard 9', report([{ shard: 9, seq: 0 }]), grpc.status.NOT_FOUND, 'SHARD_NOT_FOUND')
    await rejects(t, 'ReportPositions naming a shard twice', report([{ shard: 0, seq: 0 }, { shard: 0, seq: 0 }]), grpc.status.INVALID_ARGUMENT, 'DUPLICATE_CURSOR')
    await rejects(t, 'ReportPositions past the log head', report([{ shard: 0, seq: 2 ** 40 }]), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    await rejects(t, 'ReportPositions without a reporter bucket id', report([], { reporterBucketId: '' }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    await rejects(t, 'ReportPositions heads naming a shard twice', report([], { heads: [{ shard: 1, afterSeq: 0 }, { shard: 1, afterSeq: 3 }] }), grpc.status.INVALID_ARGUMENT, 'DUPLICATE_CURSOR')
    await rejects(t, 'ReportPositions without a site (open node, no header)', callUnary(c.sync, 'ReportPositions', { bucket: 'good', positions: [], reporterBucketId: 'abc123', heads: [] }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    await rejects(t, 'FetchObjects with 1001 keys', new Promise((resolve, reject) => {
      const call = c.sync.FetchObjects({ bucket: 'good', keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) }, { deadline: Date.now() + 3000 })
      call.on('data', () => {})
      call.on('error', (err) => reject(fromServiceError(err, 'FetchObjects')))
      call.on('end', resolve)
    }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
  })

  t.test('StreamShard reference_origin_site that is not a site id', async (t) => {
    const bad: Array<[string, string]> = [
      ['a colon', 'evil:site'],
      ['a "!"', 'a!b'],
      ['a space', 'a b'],
      ['a leading "-"', '-site'],
      ['a leading "."', '.site'],
      ['64 characters', 'a'.repeat(64)],
      ['a NUL', 'a\u0000b'],
      ['non-ASCII', 'sïte'],
      ['150,000 4-byte characters (600 KB)', '\u{1F600}'.repeat(150_000)]
    ]
    for (const [what, site] of bad) {
      await rejects(t, `StreamShard reference_origin_site with ${what}`, streamShard(c, { bucket: 'good', shard: 0, includeDeleted: true, inlineMaxBytes: 1 << 20, referenceOriginSite: site }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    }
    await rejects(t, 'StreamShard reference_origin_site bad on an unknown bucket', streamShard(c, { bucket: 'no-such-bucket', shard: 0, referenceOriginSite: 'evil:site' }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT')
    // Site ids, named or not, are accepted (the rule only changes how content travels).
    for (const site of ['A', 'B', 'x'.repeat(63), 'a_b.c-9']) {
      await streamShard(c, { bucket: 'good', shard: 0, includeDeleted: true, inlineMaxBytes: 1 << 20, referenceOriginSite: site })
      t.pass(`reference_origin_site ${site.length > 10 ? `of ${site.length} characters` : JSON.stringify(site)} accepted`)
    }
    t.same(await snapshot(c), baseline, 'and nothing changed')
  })

  t.test('objects larger than --max-object-bytes', async (t) => {
    const before = await getObject(c, 'good', 'k1')
    await rejects(t, 'new object of max+1 bytes', putObject(c, 'good', 'too-big', Buffer.alloc(MAX_OBJECT + 1, 1)), grpc.status.INVALID_ARGUMENT, 'OBJECT_TOO_LARGE')
    await rejects(t, 'new object of 2 x max bytes', putObject(c, 'good', 'too-big-2', Buffer.alloc(2 * MAX_OBJECT, 2)), grpc.status.INVALID_ARGUMENT, 'OBJECT_TOO_LARGE')
    await rejects(t, 'overwrite with max+1 bytes', putObject(c, 'good', 'k1', Buffer.alloc(MAX_OBJECT + 1, 3)), grpc.status.INVALID_ARGUMENT, 'OBJECT_TOO_LARGE')
    await rejects(t, 'HeadObject of the refused object', callUnary(c.object, 'HeadObject', { bucket: 'good', key: 'too-big' }), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND')
    t.same(await getObject(c, 'good', 'k1'), before, 'refused overwrite leaves the old content')
  })

  t.test('malformed NotifyReshardComplete', async (t) => {
    const bucketId = good.bucketId
    const malformed: Array<[string, string]> = [
      ['empty', ''],
      ['3 fields', `B:${bucketId}:1`],
      ['1 field', 'B'],
      ['5 fields', `B:${bucketId}:1:2:3`],
      ['trailing colon', `B:${bucketId}:1:2:`],
      ['leading colon', `:B:${bucketId}:1:2`],
      ['only colons', ':::'],
      ['empty site', `:${bucketId}:1:2`],
      ['empty bucket id', 'B::1:2'],
      ['empty shard', `B:${bucketId}::2`],
      ['non-numeric shard', `B:${bucketId}:x:2`],
      ['non-numeric new shard', `B:${bucketId}:1:two`],
      ['negative shard', `B:${bucketId}:-1:2`],
      ['negative new shard', `B:${bucketId}:1:-2`],
      ['fractional', `B:${bucketId}:1.5:2`],
      ['exponent', `B:${bucketId}:1e1:20`],
      ['hex', `B:${bucketId}:0x1:2`],
      ['leading zero', `B:${bucketId}:01:2`],
      ['plus sign', `B:${bucketId}:+1:2`],
      ['spaces', `B:${bucketId}: 1:2`],
      ['huge number', `B:${bucketId}:1:99999999999999999999`],
      ['new shard not after source', `B:${bucketId}:2:1`],
      ['new shard == source', `B:${bucketId}:1:1`],
      ['bad site id chars', `B!x:${bucketId}:1:2`],
      ['bad bucket id chars', 'B:a!b:1:2'],
      ['NUL', `B:${bucketId}:1:2\u0000`],
      ['5 MB value', `B:${bucketId}:1:${'9'.repeat(5 * 1024 * 1024)}`],
      ['5 MB of colons', ':'.repeat(5 * 1024 * 1024)]
    ]
    for (const [what, info] of malformed) {
      await rejects(t, `notice: ${what}`, callUnary(siteB.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: info }), grpc.status.INVALID_ARGUMENT, 'INVALID_NOTICE')
    }
    await rejects(t, 'notice: well-formed, from a non-peer site', callUnary(c.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: `Z:${bucketId}:0:2` }), grpc.status.PERMISSION_DENIED, 'UNKNOWN_PEER')
    await rejects(t, 'notice: non-peer site, caller claims it too', callUnary(siteC.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: `C:${bucketId}:0:2` }), grpc.status.PERMISSION_DENIED, 'UNKNOWN_PEER')
    await rejects(t, 'notice: peer site B, but the caller is C', callUnary(siteC.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: `B:${bucketId}:0:2` }), grpc.status.PERMISSION_DENIED, 'UNKNOWN_PEER')
  })

  t.test('messages over the 8 MiB gRPC limit are refused by the server, which keeps serving', async (t) => {
    const v1 = loadShardsyncProto().grpcObject.shardsync.v1
    const raw = new v1.SyncService(node.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 })
    t.teardown(() => raw.close())
    const err = await new Promise<grpc.ServiceError | null>((resolve) => {
      raw.NotifyReshardComplete({ sourceReshardSyncInfo: `B:x:1:${'9'.repeat(9 * 1024 * 1024)}` }, { deadline: Date.now() + 10_000 }, (e) => resolve(e))
    })
    t.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, '9 MiB request: RESOURCE_EXHAUSTED')
    t.same(await snapshot(c), baseline, 'nothing changed, node still answers')
  })

  t.test('no bad input was treated as an internal error', async (t) => {
    t.same(node.logged('internal error'), [], 'node logged no internal error')
  })
})

t.test('boundary values that are valid are accepted', async (t) => {
  const c = node.clients
  for (const name of ['abc', 'a'.repeat(63), '1.2.3', '192.168.1.1a', 'a-b.c-d', '000']) {
    const b = await createBucket(c, name, {})
    t.equal(b.name, name, `bucket ${JSON.stringify(name)} accepted`)
    await callUnary(c.object, 'DeleteBucket', { name })
  }
  const keys = ['é'.repeat(512), '€'.repeat(341) + 'a', '😀'.repeat(256), 'a'.repeat(1024), ' ', '!', '"', '\u{10FFFF}', 'dir/../x']
  for (const key of keys) {
    t.ok(Buffer.byteLength(key) <= 1024)
    const info = await putObject(c, 'good', key, Buffer.from(key))
    t.equal(info.key, key)
    t.same(await getObject(c, 'good', key), Buffer.from(key), `key of ${Buffer.byteLength(key)} bytes round-trips`)
  }
  const listed = (await snapshot(c)).objects.good as ObjectInfo__Output[]
  t.ok(keys.every(k => listed.some(o => o.key === k)), 'all listed')
  const exact = Buffer.alloc(MAX_OBJECT, 7)
  t.equal(Number((await putObject(c, 'good', 'exactly-max', exact)).size), MAX_OBJECT, 'object of exactly --max-object-bytes accepted')
  t.ok((await getObject(c, 'good', 'exactly-max', 10_000)).equals(exact))
})

t.test('refused uploads left no chunks or upload markers in LevelDB', async (t) => {
  t.equal(await node.stop(), 0, 'clean exit')
  const db = await openDatabase(node.dataDir)
  t.teardown(async () => { if (db.status === 'open') await db.close() })
  const markers: string[] = []
  for await (const k of db.keys({ gt: 'u!', lt: 'u"' })) markers.push(k)
  t.same(markers, [], 'no upload markers')
  const buckets: string[] = []
  for await (const k of db.keys({ gt: 'b!', lt: 'b"' })) buckets.push(k.slice(2))
  t.same(buckets, ['good', 'other.bucket-1'], 'only the two real buckets exist')
  await db.close()
  const audit = await auditContent(node.dataDir)
  t.same(audit.orphans, [], 'no chunk without a live head')
  t.equal(audit.intents, 0, 'no write-ahead intent left')
})
