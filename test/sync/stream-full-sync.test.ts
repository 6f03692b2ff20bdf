/**
 * The streaming full-sync path (node/sync/stream-sync.ts) on its own:
 *
 * 1. Fallback: the target's peer is a pass-through proxy (in this test
 *    process, real gRPC on 127.0.0.1) in front of a real source, serving
 *    every SyncService and ObjectService method but StreamShard, so the
 *    target's StreamShard call is answered UNIMPLEMENTED, as by a source
 *    from before the call. The target falls back to the listed path once
 *    for the peer and converges: every object, tombstones applied.
 * 2. Crash: the target is killed (SIGKILL) mid-stream and restarted; it
 *    resumes after the last batch's saved marker (no second 'shard entering
 *    full sync', every entry counted once) and finishes with every object,
 *    on the stream path.
 * 3. reference_origin_site over gRPC: StreamShard called directly on a site
 *    holding writes of two origins sends the named origin's live entries as
 *    references (the index entry's version), the others inline with their
 *    content, and without the field every small object inline; the stream
 *    covers the same entries and tombstones either way.
 * 4. A site rebuilt empty under its old id (data directory wiped) full-syncs
 *    back every object, its own writes included: the source sends those as
 *    references (the target names its own site) and the target fetches
 *    them, content verified by verify --deep and the test's ledger.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import type { ListIndexResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListIndexResponse'
import type { ObjectInfo__Output } from '../../node/rpc/generated/shardsync/v1/ObjectInfo'
import type { StreamShardResponse__Output } from '../../node/rpc/generated/shardsync/v1/StreamShardResponse'
import { loadShardsyncProto } from '../../node/rpc/proto'
import { connectAll, connectOneWay } from '../../scripts/lib/cluster'
import {
  assertConverged, bucketInfo, deleteMany, Ledger, listing, logs, makeBucket, makeKeys, markLog, objectCount, putMany, startSites, waitConverged, waitFor, waitLog,
  type NodeProcess, type TestLike
} from './helpers'

const FALLBACK_MSG = 'source does not serve StreamShard: full sync falls back to the listed path'

/** Forwards the bytes of every call of the two services to `upstream`, except the methods in `omit` (UNIMPLEMENTED). */
async function startProxy (t: TestLike, upstream: string, omit: string[]): Promise<{ address: string, calls: Map<string, number> }> {
  const { definition } = loadShardsyncProto()
  const ident = (b: Buffer): Buffer => b
  const server = new grpc.Server()
  const calls = new Map<string, number>()
  const clients: grpc.Client[] = []
  for (const name of ['shardsync.v1.SyncService', 'shardsync.v1.ObjectService']) {
    const def = definition[name] as unknown as grpc.ServiceDefinition
    const raw: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {}
    const handlers: grpc.UntypedServiceImplementation = {}
    const client = new grpc.Client(upstream, grpc.credentials.createInsecure())
    clients.push(client)
    for (const [method, m] of Object.entries(def)) {
      if (omit.includes(method)) continue
      raw[method] = { ...(m as grpc.MethodDefinition<Buffer, Buffer>), requestSerialize: ident, requestDeserialize: ident, responseSerialize: ident, responseDeserialize: ident }
      const count = (): void => { calls.set(method, (calls.get(method) ?? 0) + 1) }
      if (!m.requestStream && !m.responseStream) {
        handlers[method] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          count()
          client.makeUnaryRequest(m.path, ident, ident, call.request, call.metadata.clone(), { deadline: call.getDeadline() }, (err, res) => cb(err, res))
        }
      } else if (!m.requestStream) {
        handlers[method] = (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          count()
          const up = client.makeServerStreamRequest(m.path, ident, ident, call.request, call.metadata.clone(), { deadline: call.getDeadline() })
          call.on('cancelled', () => up.cancel())
          up.on('data', (d: Buffer) => call.write(d))
          up.on('error', (err) => call.emit('error', err))
          up.on('end', () => call.end())
        }
      }
    }
    server.addService(raw as grpc.ServiceDefinition, handlers)
  }
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => err !== null ? reject(err) : resolve(p)))
  t.teardown(() => { server.forceShutdown(); for (const c of clients) c.close() })
  return { address: `127.0.0.1:${port}`, calls }
}

t.test('a source without StreamShard (UNIMPLEMENTED) is synced on the listed path', async t => {
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--full-sync-path', 'stream'] }])
  const bucket = 'old-source'
  await makeBucket(source, bucket, { shards: 4 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', 1200), { ledger })
  // Deletes before the target begins: only listed tombstones carry them (invariant 17).
  await deleteMany(source.clients, bucket, makeKeys('obj-', 100, 300), { ledger })
  const proxy = await startProxy(t, source.address, ['StreamShard'])
  await callUnary(target.clients.admin, 'AddPeer', { id: 'src', address: proxy.address })
  await callUnary(source.clients.admin, 'AddPeer', { id: 'tgt', address: target.address })

  await assertConverged(t, source, target, bucket, { ledger })
  // Shards of one round start at once (--sync-shard-concurrency 4): each may try before the first answer is back.
  const fallbacks = logs(target, FALLBACK_MSG).length
  t.ok(fallbacks >= 1 && fallbacks <= 4, `the target found out in its first round that the peer has no StreamShard (${fallbacks} tries)`)
  const done = logs(target, 'shard entering incremental sync', { bucket })
  t.equal(done.length, 4, 'every shard finished full sync')
  t.same([...new Set(done.map(l => l.path))], ['list'], 'all of them on the listed path')
  t.ok((proxy.calls.get('ListIndex') ?? 0) >= 4, `the target listed every shard through the proxy (${proxy.calls.get('ListIndex') ?? 0} ListIndex calls)`)
  t.ok((proxy.calls.get('FetchObjects') ?? 0) >= 1, 'and fetched with FetchObjects')
  t.equal(proxy.calls.get('StreamShard'), undefined, 'the proxy served no StreamShard call')
})

t.test('the target is killed mid-stream, restarted, and finishes with every object', async t => {
  const [source, target] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--sync-rate', '500', '--full-sync-path', 'stream'] }])
  const bucket = 'stream-crash'
  const OBJECTS = 2400
  await makeBucket(source, bucket, { shards: 1 })
  const ledger = new Ledger()
  await putMany(source.clients, bucket, makeKeys('obj-', OBJECTS), { ledger })
  await deleteMany(source.clients, bucket, makeKeys('obj-', 40, 2000), { ledger })
  await connectOneWay(source, target)
  // Past 1,000 objects the first batch (1,000 entries) is applied and its
  // marker saved: the second batch is applied only after that.
  await waitFor(async () => await objectCount(target, bucket) >= 1200, { intervalMs: 50, what: 'target half-way through the stream of shard 0' })
  await target.kill9()
  const restart = markLog(target, 'restart')
  t.equal(logs(target, 'shard entering full sync', { bucket, shard: 0 }).length, 1, 'the first process entered full sync of shard 0')
  t.equal(logs(target, 'shard entering incremental sync', { bucket }).length, 0, 'and was killed before finishing it')

  await target.restart()
  const kept = await objectCount(target, bucket)
  t.ok(kept >= 1000 && kept < OBJECTS - 40, `the restarted target kept the ${kept} objects it had applied`)
  await waitConverged(source, target, bucket)
  await waitLog(target, 'shard entering incremental sync', { bucket, shard: 0 }, { since: restart })
  t.equal(logs(target, 'shard entering full sync', { bucket, shard: 0 }, restart).length, 0, 'the restarted target resumed from its marker (did not start shard 0 over)')
  const done = logs(target, 'shard entering incremental sync', { bucket, shard: 0 }, restart)
  t.equal(done.length, 1, 'the restarted target finished full sync of shard 0')
  t.equal(done[0]?.path, 'stream', 'on the stream path')
  t.equal(done[0]?.listed, OBJECTS - 40, 'over both processes, every live entry was streamed exactly once')
  t.equal(logs(target, FALLBACK_MSG).length, 0, 'no fallback to the listed path')
  await assertConverged(t, source, target, bucket, { ledger })
})

interface Streamed { objects: Map<string, { info: ObjectInfo__Output, data: Buffer }>, references: Map<string, ObjectInfo__Output>, tombstones: string[], marker: string, done: boolean }

/** A whole StreamShard call of shard 0 with its tombstones, collected. */
async function streamWhole (node: NodeProcess, bucket: string, referenceOriginSite?: string): Promise<Streamed> {
  const call = node.clients.sync.StreamShard({ bucket, shard: 0, includeDeleted: true, inlineMaxBytes: 1 << 20, referenceOriginSite }, { deadline: Date.now() + 60_000 })
  const out: Streamed = { objects: new Map(), references: new Map(), tombstones: [], marker: '', done: false }
  for await (const msg of call as AsyncIterable<StreamShardResponse__Output>) {
    for (const o of msg.objects) if (o.info !== null && !o.missing) out.objects.set(o.info.key, { info: o.info, data: o.data })
    for (const r of msg.references) out.references.set(r.key, r)
    out.tombstones.push(...msg.tombstones.map(x => x.key))
    if (msg.endOfBatch) out.marker = msg.resumeMarker
    if (msg.done) out.done = true
  }
  return out
}

const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex')
const BIG = 100 * 1024

/** A and B sync both ways; A's bucket holds small and large writes of both (B's deleted ones as tombstones of B). */
async function writesOfTwoOrigins (t: TestLike, bucket: string, shards: number): Promise<{ a: NodeProcess, b: NodeProcess, ledger: Ledger }> {
  const [a, b] = await startSites(t, [{ site: 'A', args: ['--full-sync-path', 'stream'] }, { site: 'B', args: ['--full-sync-path', 'stream'] }])
  await makeBucket(a, bucket, { shards })
  await connectAll([a, b])
  await waitFor(async () => await bucketInfo(b, bucket) !== undefined, { what: `B to create its copy of ${bucket}` })
  const ledger = new Ledger()
  await putMany(a.clients, bucket, makeKeys('a-', 200), { ledger })
  await putMany(a.clients, bucket, makeKeys('a-big-', 2), { size: BIG, ledger })
  await putMany(b.clients, bucket, makeKeys('b-', 300), { ledger })
  await putMany(b.clients, bucket, makeKeys('b-big-', 3), { size: BIG, ledger })
  await deleteMany(b.clients, bucket, makeKeys('b-', 10, 100), { ledger })
  // Equal listings: A holds every write of B (and B every one of A's).
  await waitConverged(b, a, bucket)
  return { a, b, ledger }
}

t.test('StreamShard sends the live entries of reference_origin_site as references, the rest as before', async t => {
  const bucket = 'own-refs'
  const { a } = await writesOfTwoOrigins(t, bucket, 1)
  const index = await callUnary<object, ListIndexResponse__Output>(a.clients.sync, 'ListIndex', { bucket, shard: 0, limit: 1000, includeDeleted: true })
  t.equal(index.nextMarker, '', 'the shard fits one page')
  const live = index.entries.map(e => e.key).sort()
  const small = (k: string): boolean => !k.includes('-big-')
  const ofB = live.filter(k => k.startsWith('b-'))
  const ofA = live.filter(k => k.startsWith('a-'))
  t.equal(live.length, 200 + 2 + 290 + 3)
  t.same([...new Set(index.entries.filter(e => e.key.startsWith('b-')).map(e => e.originSite))], ['B'], 'B\'s writes have origin B on A')

  const check = (what: string, got: Streamed, inline: string[], references: string[]): void => {
    t.same([...got.objects.keys()].sort(), inline, `${what}: objects inline`)
    t.same([...got.references.keys()].sort(), references, `${what}: references`)
    t.same([...got.objects.values()].filter(o => md5(o.data) !== o.info.etag).map(o => o.info.key), [], `${what}: inline content matches its etag`)
    const versions = index.entries.filter(e => got.references.has(e.key)).map(e => ({ key: e.key, size: e.size, etag: e.etag, mtime: e.mtime, originSite: e.originSite }))
    t.same(versions.map(v => { const r = got.references.get(v.key); return r === undefined ? undefined : { key: r.key, size: r.size, etag: r.etag, mtime: r.mtime, originSite: r.originSite } }), versions, `${what}: references carry the index entry's version`)
    t.same(got.tombstones.sort(), index.tombstones.map(x => x.key).sort(), `${what}: every tombstone (B's deletes)`)
    t.ok(got.done, `${what}: the stream ran to its end`)
    t.equal(got.marker, live.concat(index.tombstones.map(x => x.key)).sort().at(-1), `${what}: covering the whole shard`)
  }
  check('without the field', await streamWhole(a, bucket), live.filter(small), live.filter(k => !small(k)))
  check('reference_origin_site B', await streamWhole(a, bucket, 'B'), ofA.filter(small), [...ofB, ...ofA.filter(k => !small(k))].sort())
  check('reference_origin_site A', await streamWhole(a, bucket, 'A'), ofB.filter(small), [...ofA, ...ofB.filter(k => !small(k))].sort())
})

t.test('a site rebuilt empty under its old id full-syncs back its own objects over the stream', async t => {
  const bucket = 'rebuilt'
  const { a, b, ledger } = await writesOfTwoOrigins(t, bucket, 2)
  // B loses everything and comes back empty as B, on its old address.
  await b.stop()
  fs.rmSync(b.dataDir, { recursive: true, force: true })
  const rebuilt = markLog(b, 'rebuilt empty')
  await b.start(b.port)
  t.equal(await bucketInfo(b, bucket), undefined, 'B starts without the bucket')
  await callUnary(b.clients.admin, 'AddPeer', { id: 'A', address: a.address })

  await assertConverged(t, a, b, bucket, { ledger })
  const back = await listing(b, bucket)
  const own = [...back.values()].filter(o => o.originSite === 'B')
  t.equal(own.length, 290 + 3, 'B holds every one of its own live writes again, with origin B')
  const done = logs(b, 'shard entering incremental sync', { bucket }, rebuilt)
  t.ok(done.length >= 2, `B full-synced every shard of A's copy (${done.length})`)
  t.same([...new Set(done.map(l => l.path))], ['stream'], 'on the stream path')
  t.equal(logs(b, FALLBACK_MSG).length, 0, 'no fallback to the listed path')
})
