/**
 * Stalled streams from one client on a real node process (issue 27,
 * finding 2). One client (no site header: counted by its address) opens
 * more PutObject streams than its share of --max-inflight, each sending
 * one message of under 1 MiB and then nothing, plus a GetObject it never
 * reads. Meanwhile another client (site header C) writes and reads, and a
 * peer (B) syncs those writes: both succeed. The stalled uploads end with
 * RESOURCE_EXHAUSTED / CLIENT_SHARE_EXHAUSTED (past the client's share of
 * calls or of buffered bytes) or DEADLINE_EXCEEDED / STREAM_IDLE, store
 * nothing, and give the share back; the unread GetObject (a raw HTTP/2
 * client that never reads) is reset by the node and counted as
 * DEADLINE_EXCEEDED.
 */
import crypto from 'node:crypto'
import http from 'node:http'
import http2 from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { createBucket, putObject } from '../../node/cli/object-commands'
import { callUnary, createClients } from '../../node/rpc/clients'
import type { ObjectInfo__Output } from '../../node/rpc/generated/shardsync/v1/ObjectInfo'
import { connectOneWay, waitFor } from '../../scripts/lib/cluster'
import { listing, startSites } from '../sync/helpers'
import { bytesField, rawClient, unreadServerStream, type RawOutcome } from './wire'

t.setTimeout(300_000)

const IDLE_MS = 6000
const MIB = 1024 * 1024

function outcomeOf (err: grpc.ServiceError | null): RawOutcome {
  if (err === null) return { code: grpc.status.OK, shardsyncCode: undefined }
  const c = err.metadata?.get('shardsync-code')[0]
  return { code: err.code, shardsyncCode: typeof c === 'string' ? c : undefined }
}

async function scrape (address: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    http.get(`http://${address}/metrics`, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

t.test('one client\'s stalled streams do not starve another client or a peer\'s sync', async (t) => {
  const [a, b] = await startSites(t, [
    {
      site: 'A',
      args: ['--metrics', '127.0.0.1:0', '--max-inflight', '40', '--max-inflight-per-client', '16', '--max-message-bytes', String(2 * MIB),
        '--max-buffered-bytes-per-client', String(4 * MIB), '--max-buffered-bytes', String(64 * MIB), '--stream-idle-ms', String(IDLE_MS)]
    },
    { site: 'B' }
  ])
  await createBucket(a.clients, 'shared', { shards: 2 })
  await putObject(a.clients, 'shared', 'large', crypto.randomBytes(6 * MIB))
  await connectOneWay(a, b)

  const attacker = rawClient(a.address, { 'grpc-node.flow_control_window': 65535 })
  t.teardown(() => attacker.close())
  const identity = (x: Buffer): Buffer => x
  // An unread GetObject of a 6 MiB object: the node waits on 'drain'.
  const unread = unreadServerStream(a.address, '/shardsync.v1.ObjectService/GetObject', Buffer.concat([bytesField(1, 'shared'), bytesField(2, 'large')]))
  t.teardown(() => unread.destroy())
  // 40 uploads of 900 KiB that never end.
  const STALLED = 40
  const stalled: Array<Promise<RawOutcome>> = []
  for (let i = 0; i < STALLED; i++) {
    stalled.push(new Promise((resolve) => {
      const call = attacker.makeClientStreamRequest('/shardsync.v1.ObjectService/PutObject', identity, identity, new grpc.Metadata(), {}, (err) => resolve(outcomeOf(err)))
      call.write(Buffer.concat([bytesField(1, 'shared'), bytesField(2, `stalled-${i}`), bytesField(3, crypto.randomBytes(900 * 1024))]))
    }))
  }
  // The refusals come at once; the admitted streams are in flight after them.
  let settled = 0
  for (const p of stalled) void p.then(() => settled++)
  await waitFor(() => settled >= STALLED - 16, { what: 'refusals beyond the share' })

  // Another client and the peer's sync go on while the attacker's streams stall.
  const other = createClients(a.address, { metadata: { 'shardsync-site': 'C' } })
  t.teardown(() => other.close())
  const written: ObjectInfo__Output[] = []
  for (let i = 0; i < 10; i++) written.push(await putObject(other, 'shared', `other-${i}`, Buffer.from(`value ${i}`)))
  t.equal(written.length, 10, 'the other client\'s writes succeed')
  const head = await callUnary<object, ObjectInfo__Output>(other.object, 'HeadObject', { bucket: 'shared', key: 'other-3' })
  t.equal(head.etag, written[3].etag, 'and its reads')
  await waitFor(async () => { const l = await listing(b, 'shared'); return l.has('other-9') && l.has('large') }, { what: 'B to sync the other client\'s writes', timeoutMs: 120_000 })
  t.pass('the peer\'s sync succeeds')

  const outcomes = await Promise.all(stalled)
  const kinds = new Map<string, number>()
  for (const o of outcomes) kinds.set(`${grpc.status[o.code]}/${o.shardsyncCode ?? '-'}`, (kinds.get(`${grpc.status[o.code]}/${o.shardsyncCode ?? '-'}`) ?? 0) + 1)
  t.comment(JSON.stringify(Object.fromEntries(kinds)))
  for (const [kind] of kinds) t.ok(['RESOURCE_EXHAUSTED/CLIENT_SHARE_EXHAUSTED', 'DEADLINE_EXCEEDED/STREAM_IDLE'].includes(kind), `stalled uploads end with a share refusal or an idle deadline: ${kind}`)
  t.ok((kinds.get('DEADLINE_EXCEEDED/STREAM_IDLE') ?? 0) >= 1, 'some ended by the idle deadline')
  t.ok((kinds.get('DEADLINE_EXCEEDED/STREAM_IDLE') ?? 0) <= 5, 'at most a byte share of 900 KiB uploads was held (4 MiB)')
  const keys = await listing(a, 'shared')
  t.notOk([...keys.keys()].some(k => k.startsWith('stalled-')), 'no stalled upload stored anything')

  // The unread GetObject was ended by the node, and the shares were given back.
  const metricsAddr = String(a.logged('listening')[0].metrics)
  t.equal(await unread.closed, http2.constants.NGHTTP2_CANCEL, 'the unread GetObject was reset by the node')
  t.match(await scrape(metricsAddr), /shardsync_rpc_requests_total\{method="GetObject",code="DEADLINE_EXCEEDED"\} 1/, 'and counted as DEADLINE_EXCEEDED')
  await new Promise<void>((resolve, reject) => {
    const call = attacker.makeClientStreamRequest('/shardsync.v1.ObjectService/PutObject', identity, identity, new grpc.Metadata(), {}, (err) => err === null ? resolve() : reject(err))
    call.write(Buffer.concat([bytesField(1, 'shared'), bytesField(2, 'after'), bytesField(3, Buffer.from('fine'))]))
    call.end()
  })
  t.pass('the attacker\'s share is free again once its streams ended')
})
