/**
 * Requests built byte by byte, sent over a real gRPC connection to a real
 * node process (issue 27, findings 3 and 5):
 * - a string field that is not UTF-8 (`bin\xff`, `bin\xfe`) is refused with
 *   INVALID_ARGUMENT / INVALID_ENCODING in every method that takes one, and
 *   nothing is stored; a real U+FFFD (EF BF BD) is an ordinary key;
 * - a PullChanges with 10^6 cursors is refused with INVALID_ARGUMENT /
 *   TOO_MANY_ITEMS while health keeps answering; duplicate cursors get
 *   DUPLICATE_CURSOR, more cursors than the bucket has shards TOO_MANY_ITEMS.
 */
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { createBucket, listShards, putObject } from '../../node/cli/object-commands'
import { callUnary } from '../../node/rpc/clients'
import type { ListObjectsResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListObjectsResponse'
import { NodeProcess } from '../../scripts/lib/cluster'
import { bytesField, healthStatus, rawClient, rawClientStream, rawUnary, varintField } from './wire'

t.setTimeout(300_000)

const node = new NodeProcess({ site: 'A', args: ['--shards', '4'] })
let raw: grpc.Client

t.before(async () => {
  await node.start()
  await createBucket(node.clients, 'bin', { shards: 4 })
  await putObject(node.clients, 'bin', 'present', Buffer.from('x'))
  raw = rawClient(node.address)
})
t.teardown(async () => {
  raw?.close()
  await node.stop().catch(() => {})
})

async function keysOf (bucket: string): Promise<string[]> {
  const page = await callUnary<object, ListObjectsResponse__Output>(node.clients.object, 'ListObjects', { bucket, limit: 1000 })
  return page.objects.map(o => o.key)
}

const BAD_KEYS = [Buffer.from('bin\xff', 'latin1'), Buffer.from('bin\xfe', 'latin1'), Buffer.from([0x62, 0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf])]

t.test('keys that are not UTF-8 are refused with INVALID_ENCODING and store nothing', async (t) => {
  const before = await keysOf('bin')
  for (const key of BAD_KEYS) {
    const what = key.toString('hex')
    const put = await rawClientStream(raw, '/shardsync.v1.ObjectService/PutObject', [Buffer.concat([bytesField(1, 'bin'), bytesField(2, key), bytesField(3, Buffer.from('data'))])])
    t.equal(put.code, grpc.status.INVALID_ARGUMENT, `PutObject ${what}: INVALID_ARGUMENT`)
    t.equal(put.shardsyncCode, 'INVALID_ENCODING', `PutObject ${what}: INVALID_ENCODING`)
    // The key in a later message of the stream, and a bucket name, too.
    const later = await rawClientStream(raw, '/shardsync.v1.ObjectService/PutObject', [Buffer.concat([bytesField(1, 'bin'), bytesField(2, 'fine')]), bytesField(2, key)])
    t.equal(later.shardsyncCode, 'INVALID_ENCODING', `PutObject, second message ${what}`)
    for (const [path, body] of [
      ['/shardsync.v1.ObjectService/HeadObject', Buffer.concat([bytesField(1, 'bin'), bytesField(2, key)])],
      ['/shardsync.v1.ObjectService/DeleteObject', Buffer.concat([bytesField(1, 'bin'), bytesField(2, key)])],
      ['/shardsync.v1.ObjectService/GetObject', Buffer.concat([bytesField(1, 'bin'), bytesField(2, key)])],
      ['/shardsync.v1.ObjectService/ListObjects', Buffer.concat([bytesField(1, 'bin'), bytesField(2, key)])],
      ['/shardsync.v1.ObjectService/CreateBucket', bytesField(1, key)],
      ['/shardsync.v1.SyncService/FetchObjects', Buffer.concat([bytesField(1, 'bin'), bytesField(2, 'present'), bytesField(2, key)])],
      ['/shardsync.v1.SyncService/ListIndex', Buffer.concat([bytesField(1, 'bin'), bytesField(3, key)])]
    ] as const) {
      const got = path.endsWith('GetObject') || path.endsWith('FetchObjects') ? await rawServerStream(path, body) : await rawUnary(raw, path, body)
      t.equal(got.code, grpc.status.INVALID_ARGUMENT, `${path} ${what}: INVALID_ARGUMENT`)
      t.equal(got.shardsyncCode, 'INVALID_ENCODING', `${path} ${what}: INVALID_ENCODING`)
    }
  }
  t.same(await keysOf('bin'), before, 'nothing stored')
  t.same((await callUnary<object, { buckets: unknown[] }>(node.clients.object, 'ListBuckets', {})).buckets.length, 1, 'no bucket created')

  // A real U+FFFD is a key like any other, and only that one.
  const real = await rawClientStream(raw, '/shardsync.v1.ObjectService/PutObject', [Buffer.concat([bytesField(1, 'bin'), bytesField(2, Buffer.from('bin\ufffd', 'utf8')), bytesField(3, Buffer.from('d'))])])
  t.equal(real.code, grpc.status.OK, 'a real U+FFFD key is stored')
  t.same(await keysOf('bin'), [...before, 'bin\ufffd'].sort(), 'one new key')
})

async function rawServerStream (path: string, body: Buffer): Promise<{ code: grpc.status, shardsyncCode: string | undefined }> {
  return await new Promise((resolve) => {
    const call = raw.makeServerStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, new grpc.Metadata(), { deadline: Date.now() + 30_000 })
    call.on('data', () => {})
    call.on('error', (err: grpc.ServiceError) => { const c = err.metadata?.get('shardsync-code')[0]; resolve({ code: err.code, shardsyncCode: typeof c === 'string' ? c : undefined }) })
    call.on('status', (s: grpc.StatusObject) => { if (s.code === grpc.status.OK) resolve({ code: s.code, shardsyncCode: undefined }) })
  })
}

function cursor (shard: number, afterSeq: number): Buffer {
  return bytesField(2, Buffer.concat([varintField(1, shard), varintField(2, afterSeq)]))
}

t.test('PullChanges: a million cursors are refused while health answers; duplicates and more cursors than shards too', async (t) => {
  const one = cursor(1, 1)
  const million = Buffer.concat([bytesField(1, 'bin'), Buffer.concat(Array.from({ length: 1_000_000 }, () => one))])
  const pulls = Array.from({ length: 3 }, async () => await rawUnary(raw, '/shardsync.v1.SyncService/PullChanges', million))
  const health = healthStatus(node.address)
  const [status, ...answers] = await Promise.all([health, ...pulls])
  t.equal(status, 'SERVING', 'health answers during the storm')
  for (const a of answers) {
    t.equal(a.code, grpc.status.INVALID_ARGUMENT)
    t.equal(a.shardsyncCode, 'TOO_MANY_ITEMS')
  }

  const dup = await rawUnary(raw, '/shardsync.v1.SyncService/PullChanges', Buffer.concat([bytesField(1, 'bin'), cursor(0, 0), cursor(2, 0), cursor(0, 5)]))
  t.equal(dup.code, grpc.status.INVALID_ARGUMENT)
  t.equal(dup.shardsyncCode, 'DUPLICATE_CURSOR')
  const five = await rawUnary(raw, '/shardsync.v1.SyncService/PullChanges', Buffer.concat([bytesField(1, 'bin'), ...[0, 1, 2, 3, 4].map(s => cursor(s, 0))]))
  t.equal(five.shardsyncCode, 'TOO_MANY_ITEMS', 'five cursors on a four-shard bucket')
  const fine = await rawUnary(raw, '/shardsync.v1.SyncService/PullChanges', Buffer.concat([bytesField(1, 'bin'), ...[0, 1, 2, 3].map(s => cursor(s, 0))]))
  t.equal(fine.code, grpc.status.OK, 'one cursor per shard is fine')
  t.equal((await listShards(node.clients, 'bin')).shards.length, 4)
})
