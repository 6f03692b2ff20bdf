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
 */
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import { loadShardsyncProto } from '../../node/rpc/proto'
import { connectOneWay } from '../../scripts/lib/cluster'
import {
  assertConverged, deleteMany, Ledger, logs, makeBucket, makeKeys, markLog, objectCount, putMany, startSites, waitConverged, waitFor, waitLog,
  type TestLike
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
