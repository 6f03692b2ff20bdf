/**
 * Oversized string fields on a real node process (issue 27, "abusive input
 * is refused cheaply"): calls whose strings are hundreds of thousands of
 * characters (some 4-byte UTF-8), sent together on one connection, each get
 * their stable answer, and a small call on the same connection after them
 * is answered too.
 *
 * What this guards: a refusal's status details once echoed the whole input
 * (AddPeer's address), so the trailers grew past 64 KiB, the client's
 * HTTP/2 limit on a header list; the client's connection then stalled, every
 * call on it waited for its deadline, and grpc-js ended the rest with
 * UNAVAILABLE "Stream refused by server" / "Connection dropped".
 * Every call here has the same generous deadline; a stalled connection
 * shows as DEADLINE_EXCEEDED instead of the expected codes.
 */
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { createBucket, putObject } from '../../node/cli/object-commands'
import { createClients } from '../../node/rpc/clients'
import { CODE_METADATA_KEY } from '../../node/rpc/status-map'
import { NodeProcess } from '../../scripts/lib/cluster'

t.setTimeout(120_000)

const DEADLINE_MS = 20_000
const BUCKET = 'seed-bucket'
const EMOJI = '\u{1F600}' // 4 UTF-8 bytes

type Kind = 'unary' | 'server'
interface Case { what: string, service: 'object' | 'sync' | 'admin', method: string, kind: Kind, req: object, code: grpc.status, shardsyncCode?: string }

const cases: Case[] = [
  { what: 'AddPeer, 64,534-char address', service: 'admin', method: 'AddPeer', kind: 'unary', req: { id: 'X', address: ']y'.repeat(32_267) }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_ARGUMENT' },
  { what: 'AddPeer, 300,000 4-byte-character address', service: 'admin', method: 'AddPeer', kind: 'unary', req: { id: 'X', address: EMOJI.repeat(150_000) }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_ARGUMENT' },
  { what: 'AddPeer, 578,778-char id', service: 'admin', method: 'AddPeer', kind: 'unary', req: { id: 'z '.repeat(289_389), address: '127.0.0.1:1' }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_ARGUMENT' },
  { what: 'ListObjects, 747,968-char startAfter', service: 'object', method: 'ListObjects', kind: 'unary', req: { bucket: BUCKET, startAfter: '^#'.repeat(373_984) }, code: grpc.status.OK },
  { what: 'ListObjects, 191,152-char prefix', service: 'object', method: 'ListObjects', kind: 'unary', req: { bucket: BUCKET, prefix: 'Q%'.repeat(95_576), startAfter: 'b'.repeat(135_147) }, code: grpc.status.OK },
  { what: 'ListIndex, 511,791-char marker', service: 'sync', method: 'ListIndex', kind: 'unary', req: { bucket: BUCKET, shard: 0, marker: EMOJI.repeat(255_895), limit: 8 }, code: grpc.status.OK },
  { what: 'FetchObjects, keys of 100-800 k chars', service: 'sync', method: 'FetchObjects', kind: 'server', req: { bucket: BUCKET, keys: ['k0001', '!M'.repeat(400_000), EMOJI.repeat(50_000)] }, code: grpc.status.OK },
  { what: 'HeadObject, 600,000-char key', service: 'object', method: 'HeadObject', kind: 'unary', req: { bucket: BUCKET, key: EMOJI.repeat(300_000) }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_KEY' },
  { what: 'CreateBucket, 600,000-char name', service: 'object', method: 'CreateBucket', kind: 'unary', req: { name: EMOJI.repeat(300_000) }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_BUCKET_NAME' },
  { what: 'ListShards, 600,000-char bucket', service: 'sync', method: 'ListShards', kind: 'unary', req: { bucket: 'x'.repeat(600_000) }, code: grpc.status.NOT_FOUND, shardsyncCode: 'BUCKET_NOT_FOUND' },
  { what: 'RemovePeer, 600,000-char id', service: 'admin', method: 'RemovePeer', kind: 'unary', req: { id: EMOJI.repeat(300_000) }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_ARGUMENT' },
  { what: 'StreamShard, 600,000-char reference_origin_site', service: 'sync', method: 'StreamShard', kind: 'server', req: { bucket: BUCKET, shard: 0, referenceOriginSite: EMOJI.repeat(300_000) }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_ARGUMENT' },
  { what: 'NotifyReshardComplete, 600,000-char notice', service: 'sync', method: 'NotifyReshardComplete', kind: 'unary', req: { sourceReshardSyncInfo: 'A:'.repeat(300_000) }, code: grpc.status.INVALID_ARGUMENT, shardsyncCode: 'INVALID_NOTICE' }
]

interface Outcome { code: grpc.status, shardsyncCode?: string }

async function send (client: Record<string, (...args: unknown[]) => unknown>, c: Pick<Case, 'method' | 'kind' | 'req'>): Promise<Outcome> {
  const opts: grpc.CallOptions = { deadline: Date.now() + DEADLINE_MS }
  const outcome = (err: grpc.ServiceError | null): Outcome => {
    if (err === null) return { code: grpc.status.OK }
    const sc = err.metadata?.get(CODE_METADATA_KEY)[0]
    return { code: err.code, shardsyncCode: typeof sc === 'string' ? sc : undefined }
  }
  return await new Promise<Outcome>((resolve) => {
    if (c.kind === 'unary') {
      client[c.method](c.req, new grpc.Metadata(), opts, (err: grpc.ServiceError | null) => resolve(outcome(err)))
    } else {
      const s = client[c.method](c.req, new grpc.Metadata(), opts) as grpc.ClientReadableStream<unknown>
      s.on('data', () => {})
      s.on('error', (err: grpc.ServiceError) => resolve(outcome(err)))
      s.on('status', (st: grpc.StatusObject) => { if (st.code === grpc.status.OK) resolve(outcome(null)) })
    }
  })
}

t.test('oversized strings, sent together on one connection, each get their stable answer', async (t) => {
  const node = new NodeProcess({ site: 'B', args: ['--shards', '2'] })
  await node.start()
  const clients = createClients(node.address)
  t.teardown(async () => { clients.close(); await node.stop() })
  await createBucket(node.clients, BUCKET, { shards: 2, autoSplit: false })
  for (const k of ['k0000', 'k0001', 'k0002']) await putObject(node.clients, BUCKET, k, Buffer.from(`value of ${k}`))

  const outcomes = await Promise.all(cases.map(async c => await send(clients[c.service] as unknown as Record<string, (...args: unknown[]) => unknown>, c)))
  cases.forEach((c, i) => {
    t.same(outcomes[i], c.shardsyncCode !== undefined ? { code: c.code, shardsyncCode: c.shardsyncCode } : { code: c.code }, `${c.what}: ${grpc.status[c.code]}${c.shardsyncCode !== undefined ? ` / ${c.shardsyncCode}` : ''}`)
  })
  t.same(await send(clients.object as unknown as Record<string, (...args: unknown[]) => unknown>, { method: 'ListBuckets', kind: 'unary', req: {} }), { code: grpc.status.OK }, 'a small call on the same connection afterwards: OK')
})
