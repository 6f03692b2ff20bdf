/**
 * The object API of one real node process (built CLI, gRPC on 127.0.0.1:0),
 * through the same client helpers the CLI uses. The "Done when":
 * 20,000 objects in a bucket with 4 initial shards and threshold 1000 end up
 * in >= 16 shards, each below the threshold, every object reads back with
 * etag == MD5 of what was put, and ListObjects returns all of them in key
 * order page by page. Also: bucket lifecycle, head/delete, a multi-chunk
 * large object, overwrite, NodeInfo and forced SplitShard, and finally that
 * LevelDB holds no orphan data chunks (old versions really gone).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import zlib from 'node:zlib'
import * as grpc from '@grpc/grpc-js'
import t, { type Test } from 'tap'
import { createBucket, listBuckets, listShards, putObject, splitShard, getObject as getObjectWithDeadline } from '../node/cli/object-commands'
import { callUnary, type Clients } from '../node/rpc/clients'
import { GrpcSourceClient } from '../node/rpc/grpc-source-client'
import type { ListIndexResponse__Output } from '../node/rpc/generated/shardsync/v1/ListIndexResponse'
import type { ListObjectsResponse__Output } from '../node/rpc/generated/shardsync/v1/ListObjectsResponse'
import type { NodeInfoResponse__Output } from '../node/rpc/generated/shardsync/v1/NodeInfoResponse'
import type { ObjectInfo__Output } from '../node/rpc/generated/shardsync/v1/ObjectInfo'
import type { QuerySplitStateResponse__Output } from '../node/rpc/generated/shardsync/v1/QuerySplitStateResponse'
import type { ShardInfo__Output } from '../node/rpc/generated/shardsync/v1/ShardInfo'
import { NodeProcess, waitFor } from '../scripts/lib/cluster'
import { openDatabase } from '../storage/database'
import { isShardsyncError, ShardsyncError } from '../storage/errors'
import * as keys from '../storage/keys'
import { blobFiles } from './blob-files'
import { auditContent } from './content-audit'
import type { ObjectHead } from '../storage/records'
import { routeKey, type RoutingShard } from '../storage/routing'

// Also when run directly with node (tap's default root timeout is 30 s).
t.setTimeout(300_000)

const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex')
const VERSION = (require('../../package.json') as { version: string }).version

const node = new NodeProcess({ site: 'A', args: ['--split-threshold', '1000', '--shards', '4'] })
t.before(async () => { await node.start() })
t.teardown(async () => {
  await node.stop().catch(() => {})
  fs.rmSync(node.dataDir, { recursive: true, force: true })
})

async function expectCode (t: Test, p: Promise<unknown>, status: grpc.status, code: string, what: string): Promise<void> {
  try {
    await p
    t.fail(`${what}: expected ${code}, but it succeeded`)
  } catch (err) {
    if (!isShardsyncError(err)) { t.fail(`${what}: not a ShardsyncError: ${String(err)}`); return }
    t.equal(err.code, code, `${what}: code ${code}`)
    t.equal((err.cause as grpc.ServiceError | undefined)?.code, status, `${what}: gRPC ${grpc.status[status]}`)
  }
}

/**
 * GetObject with a deadline (the CLI helper has none): a server that never
 * ends the stream fails the test instead of hanging it.
 */
async function getObject (c: Clients, bucket: string, key: string, timeoutMs = 20_000): Promise<{ info: ObjectInfo__Output, data: Buffer }> {
  const r = await getObjectWithDeadline(c, bucket, key, undefined, timeoutMs)
  return { info: r.info, data: r.data ?? Buffer.alloc(0) }
}

/** Runs fn over items with `n` in flight. */
async function pool<T> (items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++])
  }))
}

/** Routing table as the node has it, from ListShards lineage (baseDepth derived: child i of P has P.baseDepth + i + 1). */
function routingTable (shards: ShardInfo__Output[]): RoutingShard[] {
  const table = shards.map(s => ({ baseDepth: 0, children: s.children }))
  for (const s of shards) s.children.forEach((c, i) => { table[c].baseDepth = table[s.shard].baseDepth + i + 1 })
  return table
}

async function listIndexAll (c: Clients, bucket: string, shard: number): Promise<ObjectInfo__Output[]> {
  const out: ObjectInfo__Output[] = []
  let marker = ''
  for (;;) {
    const page = await callUnary<object, ListIndexResponse__Output>(c.sync, 'ListIndex', { bucket, shard, marker, limit: 1000 })
    out.push(...page.entries)
    if (page.nextMarker === '') return out
    marker = page.nextMarker
  }
}

async function listPages (c: Clients, bucket: string, prefix = ''): Promise<ObjectInfo__Output[][]> {
  const pages: ObjectInfo__Output[][] = []
  let startAfter = ''
  for (;;) {
    const page = await callUnary<object, ListObjectsResponse__Output>(c.object, 'ListObjects', { bucket, prefix, startAfter, limit: 1000 })
    pages.push(page.objects)
    if (page.nextStartAfter === '') return pages
    startAfter = page.nextStartAfter
  }
}

t.test('20,000 objects: >= 16 shards below the threshold, all read back, listed in key order', { timeout: 90000 }, async (t) => {
  const c = node.clients
  const b = await createBucket(c, 'load', { shards: 4, splitThreshold: 1000 })
  t.match(b, { name: 'load', initialShards: 4, shardCount: 4, splitThreshold: 1000, autoSplit: true, objectCount: 0 })
  const N = 20_000
  const prefixes = ['a/', 'photos/2024/', 'z-', 'Mixed_Case.']
  const expected = new Map<string, { etag: string, size: number }>()
  const items = Array.from({ length: N }, (_, i) => ({ key: `${prefixes[i % 4]}${(i * 7919) % N}-${i}`, size: i % 97 === 0 ? 0 : 1 + (i * 31) % 400 }))
  const bad: string[] = []
  const started = Date.now()
  await pool(items, 32, async ({ key, size }) => {
    const data = crypto.randomBytes(size)
    const info = await putObject(c, 'load', key, data)
    if (info.key !== key || info.etag !== md5(data) || Number(info.size) !== size || info.originSite !== 'A') bad.push(key)
    expected.set(key, { etag: md5(data), size })
  })
  t.same(bad, [], `every PutObject answered with the right info (${N} puts in ${Date.now() - started} ms)`)

  // Splits run in the background; wait until they have settled.
  const shards = await waitFor(async () => {
    const r = await listShards(c, 'load')
    return r.shards.every(s => s.state !== 'SPLIT_STATE_SPLITTING' && Number(s.indexCount) < 1000) ? r.shards : undefined
  }, { timeoutMs: 30_000, what: 'splits to settle' })
  t.ok(shards.length >= 16, `${shards.length} shards (>= 16)`)
  t.same(shards.filter(s => Number(s.indexCount) >= 1000).map(s => s.shard), [], 'every shard index_count < 1000')
  t.equal(shards.reduce((n, s) => n + Number(s.indexCount), 0), N, 'index counts sum to the object count')
  t.same(shards.map(s => s.shard), shards.map((_, i) => i), 'shards numbered 0..n-1')
  const lineage: string[] = []
  for (const s of shards) {
    if (s.shard < 4 && s.parent !== -1) lineage.push(`initial shard ${s.shard} has parent ${s.parent}`)
    if (s.shard >= 4 && !(shards[s.parent]?.children.includes(s.shard) ?? false)) lineage.push(`shard ${s.shard} not a child of ${s.parent}`)
    if (s.children.length > 0 && s.state !== 'SPLIT_STATE_SPLIT_DONE') lineage.push(`shard ${s.shard} has children but is ${s.state}`)
    if (s.children.length === 0 && s.state !== 'SPLIT_STATE_UNSPLIT') lineage.push(`shard ${s.shard} has no children but is ${s.state}`)
  }
  t.same(lineage, [], 'lineage consistent')

  // Every shard's index: the real entries, each key once, on the shard it routes to.
  const table = routingTable(shards)
  const seen = new Map<string, number>()
  const indexProblems: string[] = []
  for (const s of shards) {
    const entries = await listIndexAll(c, 'load', s.shard)
    if (entries.length !== Number(s.indexCount)) indexProblems.push(`shard ${s.shard}: index_count ${s.indexCount}, ${entries.length} entries`)
    for (const e of entries) {
      if (seen.has(e.key)) indexProblems.push(`${e.key} on shards ${seen.get(e.key)} and ${s.shard}`)
      seen.set(e.key, s.shard)
      if (routeKey(e.key, 4, table) !== s.shard) indexProblems.push(`${e.key} on ${s.shard}, routes to ${routeKey(e.key, 4, table)}`)
      if (e.etag !== expected.get(e.key)?.etag) indexProblems.push(`${e.key}: index etag`)
    }
  }
  t.same(indexProblems.slice(0, 10), [], 'ListIndex of every shard: counts right, no duplicates, routed right')
  t.equal(seen.size, N)

  // Every object reads back.
  const readProblems: string[] = []
  const readStart = Date.now()
  await pool([...expected.entries()], 32, async ([key, want]) => {
    const { info, data } = await getObject(c, 'load', key)
    const got = md5(data)
    if (info.etag !== want.etag || got !== want.etag || Number(info.size) !== want.size || data.length !== want.size) readProblems.push(key)
  })
  t.same(readProblems.slice(0, 10), [], `GetObject of all ${N}: md5(data) == etag == md5 put (${Date.now() - readStart} ms)`)

  // ListObjects: all keys, in (byte) key order, page by page.
  const pages = await listPages(c, 'load')
  const listed = pages.flat()
  t.ok(pages.length >= N / 1000 && pages.every(p => p.length <= 1000), `${pages.length} pages of <= 1000`)
  t.equal(listed.length, N, 'all objects listed')
  const sorted = [...expected.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
  t.same(listed.map(o => o.key), sorted, 'listed in key order, each once')
  t.same(listed.filter(o => o.etag !== expected.get(o.key)?.etag || Number(o.size) !== expected.get(o.key)?.size).map(o => o.key), [], 'listed etag/size right')
  const photos = (await listPages(c, 'load', 'photos/')).flat()
  t.equal(photos.length, N / 4, 'prefix listing')
  t.ok(photos.every(o => o.key.startsWith('photos/')))

  const info = await callUnary<object, NodeInfoResponse__Output>(c.admin, 'NodeInfo', {})
  t.match(info.buckets.find(x => x.name === 'load'), { objectCount: N, shardCount: shards.length })
})

t.test('bucket lifecycle: create, list, delete only when empty, re-create is empty', { timeout: 40000 }, async (t) => {
  const c = node.clients
  await createBucket(c, 'life', { shards: 2 })
  await createBucket(c, 'aardvark', {})
  const names = (await listBuckets(c)).map(b => b.name)
  t.ok(names.includes('life') && names.includes('aardvark'))
  t.same(names, [...names].sort(), 'ListBuckets sorted by name')
  const aard = (await listBuckets(c)).find(b => b.name === 'aardvark')
  t.match(aard, { initialShards: 4, shardCount: 4, splitThreshold: 1000, autoSplit: true }, 'node defaults from flags')
  await putObject(c, 'life', 'only', Buffer.from('x'))
  await expectCode(t, callUnary(c.object, 'DeleteBucket', { name: 'life' }), grpc.status.FAILED_PRECONDITION, 'BUCKET_NOT_EMPTY', 'delete non-empty bucket')
  t.ok((await listBuckets(c)).some(b => b.name === 'life'), 'still there')
  t.equal((await getObject(c, 'life', 'only')).data?.toString(), 'x', 'object intact')
  await callUnary(c.object, 'DeleteObject', { bucket: 'life', key: 'only' })
  await callUnary(c.object, 'DeleteBucket', { name: 'life' })
  t.notOk((await listBuckets(c)).some(b => b.name === 'life'), 'gone from ListBuckets')
  await expectCode(t, callUnary(c.object, 'HeadObject', { bucket: 'life', key: 'only' }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND', 'deleted bucket')
  await expectCode(t, callUnary(c.object, 'DeleteBucket', { name: 'life' }), grpc.status.NOT_FOUND, 'BUCKET_NOT_FOUND', 'delete twice')
  const again = await createBucket(c, 'life', { shards: 2 })
  t.equal(Number(again.objectCount), 0)
  t.same((await listPages(c, 'life')).flat(), [], 're-created bucket is empty')
  const shards = await listShards(c, 'life')
  t.same(shards.shards.map(s => [Number(s.indexCount), Number(s.logSeq)]), [[0, 0], [0, 0]], 'fresh shards and logs')
  await callUnary(c.object, 'DeleteBucket', { name: 'aardvark' })
})

t.test('HeadObject and DeleteObject', { timeout: 40000 }, async (t) => {
  const c = node.clients
  await createBucket(c, 'head-del', { shards: 2 })
  const data = Buffer.from('head me')
  const before = Date.now()
  const put = await putObject(c, 'head-del', 'dir/obj', data)
  const head = await callUnary<object, ObjectInfo__Output>(c.object, 'HeadObject', { bucket: 'head-del', key: 'dir/obj' })
  t.match(head, { key: 'dir/obj', size: data.length, etag: md5(data), originSite: 'A', crc32: zlib.crc32(data) })
  t.equal(Number(head.mtime), Number(put.mtime))
  t.ok(Number(head.mtime) >= before - 1000 && Number(head.mtime) <= Date.now() + 1000, 'mtime is now')
  await putObject(c, 'head-del', 'dir/other', Buffer.from('o'))
  const sum = async (): Promise<number> => (await listShards(c, 'head-del')).shards.reduce((n, s) => n + Number(s.indexCount), 0)
  t.equal(await sum(), 2)
  await callUnary(c.object, 'DeleteObject', { bucket: 'head-del', key: 'dir/obj' })
  await expectCode(t, callUnary(c.object, 'HeadObject', { bucket: 'head-del', key: 'dir/obj' }), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND', 'head after delete')
  await expectCode(t, getObject(c, 'head-del', 'dir/obj', 5000), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND', 'get after delete')
  await expectCode(t, callUnary(c.object, 'DeleteObject', { bucket: 'head-del', key: 'dir/obj' }), grpc.status.NOT_FOUND, 'OBJECT_NOT_FOUND', 'delete twice')
  t.same((await listPages(c, 'head-del')).flat().map(o => o.key), ['dir/other'])
  t.equal(await sum(), 1, 'index entry removed')
  t.equal(Number((await listBuckets(c)).find(b => b.name === 'head-del')?.objectCount), 1)
  // Re-put after delete works and is a new version.
  const re = await putObject(c, 'head-del', 'dir/obj', Buffer.from('again'))
  t.ok(Number(re.mtime) > Number(put.mtime))
  t.equal((await getObject(c, 'head-del', 'dir/obj')).data?.toString(), 'again')
})

t.test('large multi-chunk objects round-trip; overwrite replaces content', { timeout: 40000 }, async (t) => {
  const c = node.clients
  await createBucket(c, 'big', { shards: 2 })
  // Sizes around and across the 1 MiB chunk size, the 5 MiB object, and > 8 chunks (streamed path).
  const sizes = [1024 * 1024, 1024 * 1024 + 1, 4 * 1024 * 1024, 5 * 1024 * 1024 + 123, 9 * 1024 * 1024 + 7]
  for (const size of sizes) {
    const data = crypto.randomBytes(size)
    const info = await putObject(c, 'big', `blob-${size}`, data)
    t.equal(info.etag, md5(data), `put ${size}: etag`)
    t.equal(Number(info.size), size)
    try {
      const back = await getObject(c, 'big', `blob-${size}`, 6_000)
      t.equal(back.info.etag, md5(data))
      t.equal(back.info.crc32, zlib.crc32(data), `${size}: GetObject gives the content's CRC-32`)
      t.ok(back.data.equals(data), `${size} bytes read back identical`)
    } catch (err) {
      t.fail(`GetObject of a ${size}-byte object failed: ${(err as ShardsyncError).code}`)
    }
  }
  // Overwrite a large object with a small one, and a small one with a large one.
  const v1 = crypto.randomBytes(3 * 1024 * 1024 + 5)
  const v2 = Buffer.from('small now')
  const p1 = await putObject(c, 'big', 'ow', v1)
  const p2 = await putObject(c, 'big', 'ow', v2)
  t.ok(Number(p2.mtime) > Number(p1.mtime), 'overwrite gets a newer mtime')
  const got = await getObject(c, 'big', 'ow', 10_000)
  t.equal(got.info.etag, md5(v2))
  t.same(got.data, v2, 'new content read')
  t.match(await callUnary(c.object, 'HeadObject', { bucket: 'big', key: 'ow' }), { size: v2.length, etag: md5(v2) })
  const v3 = crypto.randomBytes(2 * 1024 * 1024)
  await putObject(c, 'big', 'ow2', Buffer.from('tiny'))
  await putObject(c, 'big', 'ow2', v3)
  t.ok((await getObject(c, 'big', 'ow2', 10_000)).data.equals(v3), 'small overwritten by large reads back')
  // A large object overwritten by a large one, and one deleted: their files must go (checked after stop).
  await putObject(c, 'big', 'ow2', crypto.randomBytes(3 * 1024 * 1024))
  await putObject(c, 'big', 'ow2', v3)
  await putObject(c, 'big', 'gone', crypto.randomBytes(2 * 1024 * 1024))
  await callUnary(c.object, 'DeleteObject', { bucket: 'big', key: 'gone' })
  const listed = (await listPages(c, 'big')).flat()
  t.same(listed.map(o => o.key), [...sizes.map(n => `blob-${n}`).sort(), 'ow', 'ow2'])
  t.same(listed.slice(-2).map(o => [o.etag, Number(o.size)]), [[md5(v2), v2.length], [md5(v3), v3.length]], 'listing shows the newest versions')
  t.equal((await listShards(c, 'big')).shards.reduce((n, s) => n + Number(s.indexCount), 0), sizes.length + 2, 'overwrites add no index entries')
  t.equal(Number((await listBuckets(c)).find(b => b.name === 'big')?.objectCount), sizes.length + 2)
})

t.test('a target reading this node over gRPC gets each object\'s CRC-32 with its content, and none in listings', { timeout: 40000 }, async (t) => {
  const c = node.clients
  await createBucket(c, 'crc', { shards: 1 })
  const small = crypto.randomBytes(700)
  const large = crypto.randomBytes(2 * 1024 * 1024 + 3)
  await putObject(c, 'crc', 'small', small)
  await putObject(c, 'crc', 'large', large)
  const source = new GrpcSourceClient({ id: 'A', address: node.address }, { localSite: 'T', deadlineMs: 10_000 })
  t.teardown(() => source.close())
  const fetched = []
  for await (const o of source.fetchObjects('crc', ['small', 'large', 'none'])) fetched.push(o.info?.crc32)
  t.same(fetched, [zlib.crc32(small), zlib.crc32(large), undefined], 'FetchObjects: packed small object and streamed large one carry it; a miss does not')
  const pulled = await source.pullChanges('crc', [{ shard: 0, afterSeq: 0 }], { limit: 10, waitMs: 0, excludeOrigin: '', maxInlineBytes: 1 << 20 })
  t.same(pulled.entries.map(e => [e.info.key, e.info.crc32]), [['small', zlib.crc32(small)], ['large', undefined]], 'PullChanges: with inlined content only')
  const listed = await source.listIndex('crc', 0, '', 10)
  t.same(listed.entries.map(e => e.crc32), [undefined, undefined], 'ListIndex: no checksum')
  // Leave no blob behind for the clean-stop test below to count.
  for (const key of ['small', 'large']) await callUnary(c.object, 'DeleteObject', { bucket: 'crc', key })
  await callUnary(c.object, 'DeleteBucket', { name: 'crc' })
})

t.test('NodeInfo and a forced SplitShard', { timeout: 40000 }, async (t) => {
  const c = node.clients
  await callUnary(c.object, 'CreateBucket', { name: 'manual', initialShards: 2, splitThreshold: 100, autoSplit: false })
  const expected = new Map<string, string>()
  await pool(Array.from({ length: 500 }, (_, i) => `m/${i}`), 16, async (k) => {
    const data = Buffer.from(`content of ${k}`)
    await putObject(c, 'manual', k, data)
    expected.set(k, md5(data))
  })
  const before = await listShards(c, 'manual')
  t.equal(before.shards.length, 2, 'autoSplit off: no split despite 500 > threshold 100')
  const info = await callUnary<object, NodeInfoResponse__Output>(c.admin, 'NodeInfo', {})
  t.equal(info.siteId, 'A')
  t.equal(info.version, VERSION)
  t.equal(info.syncMode, 'split-aware')
  t.same(info.buckets.map(b => b.name), (await listBuckets(c)).map(b => b.name), 'NodeInfo buckets == ListBuckets')
  t.match(info.buckets.find(b => b.name === 'manual'), { id: before.bucketId, initialShards: 2, shardCount: 2, splitThreshold: 100, autoSplit: false, objectCount: 500 })

  const count1 = Number(before.shards[1].indexCount)
  const r = await splitShard(c, 'manual', 1)
  t.equal(r.shard, 1)
  t.equal(r.newShard, 2, 'new shard = shard count')
  t.ok(Number(r.moved) > 0 && Number(r.moved) < count1, `moved ${r.moved} of ${count1}`)
  const after = await listShards(c, 'manual')
  t.match(after.shards[1], { shard: 1, state: 'SPLIT_STATE_SPLIT_DONE', parent: -1, children: [2], indexCount: count1 - Number(r.moved) })
  t.match(after.shards[2], { shard: 2, state: 'SPLIT_STATE_UNSPLIT', parent: 1, children: [], indexCount: Number(r.moved), logSeq: 0 })
  const q = await callUnary<object, QuerySplitStateResponse__Output>(c.sync, 'QuerySplitState', { bucket: 'manual', shard: 1 })
  t.match(q, { state: 'SPLIT_STATE_SPLIT_DONE', newShards: [2], bucketId: before.bucketId, shardCount: 3 })
  t.equal(Number(q.logSeq), Number(before.shards[1].logSeq), 'split does not move or add log entries')
  const moved = await listIndexAll(c, 'manual', 2)
  t.equal(moved.length, Number(r.moved))
  const r2 = await splitShard(c, 'manual', 2)
  t.same([r2.shard, r2.newShard], [2, 3], 'a new shard splits too')
  const r3 = await splitShard(c, 'manual', 1)
  t.same([r3.shard, r3.newShard], [1, 4])
  const final = await listShards(c, 'manual')
  t.same(final.shards.map(s => s.children), [[], [2, 4], [3], [], []])
  t.equal(final.shards.reduce((n, s) => n + Number(s.indexCount), 0), 500)
  const table = routingTable(final.shards)
  const wrong: string[] = []
  for (const s of final.shards) for (const e of await listIndexAll(c, 'manual', s.shard)) if (routeKey(e.key, 2, table) !== s.shard) wrong.push(e.key)
  t.same(wrong, [], 'every entry on its routed shard after forced splits')
  const unread: string[] = []
  await pool([...expected], 16, async ([k, etag]) => { const g = await getObject(c, 'manual', k); if (g.info.etag !== etag || md5(g.data) !== etag) unread.push(k) })
  t.same(unread, [], 'all objects readable after forced splits')
  // Writes after the split land on the right shard and read back.
  await putObject(c, 'manual', 'm/after', Buffer.from('after'))
  t.equal((await getObject(c, 'manual', 'm/after')).data?.toString(), 'after')
  const shardOfAfter = routeKey('m/after', 2, routingTable((await listShards(c, 'manual')).shards))
  t.ok((await listIndexAll(c, 'manual', shardOfAfter)).some(e => e.key === 'm/after'), 'new write on its routed shard')
})

t.test('ListObjects with a prefix returns every key that starts with it', { timeout: 40000 }, async (t) => {
  const c = node.clients
  await createBucket(c, 'prefixes', { shards: 2 })
  const inside = ['p/a', 'p/z', 'p/~', 'p/\u00ff', 'p/\uffff', 'p/😀', 'p/\u{10FFFF}', 'p/\u{10FFFF}x', 'p/\u{10FFFF}\u{10FFFF}']
  const outside = ['p', 'o/z', 'p0', 'q/a', 'P/a']
  for (const k of [...inside, ...outside]) await putObject(c, 'prefixes', k, Buffer.from(k))
  const byteOrder = (x: string, y: string): number => Buffer.compare(Buffer.from(x), Buffer.from(y))
  const all = (await listPages(c, 'prefixes')).flat().map(o => o.key)
  t.same(all, [...inside, ...outside].sort(byteOrder), 'full listing: all keys in UTF-8 byte order')
  const listed = (await listPages(c, 'prefixes', 'p/')).flat().map(o => o.key)
  t.same(listed, [...inside].sort(byteOrder), 'prefix p/: exactly the keys starting with p/ (including U+10FFFF right after the prefix)')
})

t.test('after a clean stop, LevelDB holds no orphan chunks, blob files or markers (old versions gone)', { timeout: 40000 }, async (t) => {
  t.equal(await node.stop(), 0, 'clean exit on SIGTERM')
  const db = await openDatabase(node.dataDir)
  t.teardown(async () => { if (db.status === 'open') await db.close() })
  const live = new Map<string, number>()
  const liveBlobs = new Map<string, number>()
  for await (const [k, v] of db.iterator({ gt: 'h!', lt: 'h"' })) {
    const head = v as ObjectHead
    if (head.deleted === true) {
      if (head.dataId !== undefined) t.fail(`tombstone ${k} keeps a dataId`)
      continue
    }
    if (head.dataId !== undefined && head.blob === true) liveBlobs.set(head.dataId, head.size)
    else if (head.dataId !== undefined) live.set(head.dataId, head.chunks)
  }
  const markers: string[] = []
  for await (const k of db.keys({ gt: 'u!', lt: 'u"' })) markers.push(k)
  t.same(markers, [], 'no upload markers left')
  for await (const k of db.keys({ gt: 'g!', lt: 'g"' })) markers.push(k)
  t.same(markers, [], 'no garbage markers left')
  await db.close()
  // Small objects' content lives in the content database (storage/content-store.ts).
  const audit = await auditContent(node.dataDir)
  t.same(audit.orphans, [], 'every chunk belongs to a live head')
  t.same(audit.missing, [], 'every live head has all its chunks')
  t.equal(audit.chunkKeys, [...live.values()].reduce((a, b) => a + b, 0), 'chunk count == sum of live heads\' chunks')
  t.equal(audit.intents, 0, 'no write-ahead intent left after a clean stop')
  t.equal(audit.chunksInMain, 0, 'no chunk in the main database')
  // Large objects live in blob files: exactly one per live large head, of its size.
  const files = blobFiles(node.dataDir)
  t.equal(liveBlobs.size, 5, 'the objects over 1 MiB (4 of bucket big, and ow2) are blobs')
  t.same([...files.keys()].filter(f => !liveBlobs.has(f)), [], 'every blob file belongs to a live head (overwritten and deleted ones removed)')
  t.same([...liveBlobs].filter(([id, size]) => files.get(id) !== size).map(([id]) => id), [], 'every live large head has its file, of its size')
})
