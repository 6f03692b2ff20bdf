/**
 * On a real node process (issue 27, findings 7a and 7c):
 * - a message over --max-message-bytes, in a unary call or in a stream,
 *   ends with RESOURCE_EXHAUSTED and `shardsync-code` MESSAGE_TOO_LARGE, and
 *   nothing is stored;
 * - with --metrics-token-file, /metrics answers 401 without the bearer
 *   token (or with a wrong one) and 200 with it; without the flag it is open.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { createBucket } from '../../node/cli/object-commands'
import { callUnary } from '../../node/rpc/clients'
import type { ListObjectsResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListObjectsResponse'
import { NodeProcess } from '../../scripts/lib/cluster'
import { bytesField, rawClient, rawClientStream, rawUnary } from './wire'

t.setTimeout(300_000)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-msg-metrics-'))
const tokenFile = path.join(dir, 'metrics-token')
const token = crypto.randomBytes(16).toString('hex')
fs.writeFileSync(tokenFile, token + '\n')
const node = new NodeProcess({ site: 'A', args: ['--shards', '2', '--max-message-bytes', String(64 * 1024), '--metrics', '127.0.0.1:0', '--metrics-token-file', tokenFile] })
const open = new NodeProcess({ site: 'B', args: ['--shards', '2', '--metrics', '127.0.0.1:0'] })

t.before(async () => { await Promise.all([node.start(), open.start()]) })
t.teardown(async () => {
  await Promise.all([node.stop(), open.stop()])
  fs.rmSync(dir, { recursive: true, force: true })
})

t.test('oversized messages get RESOURCE_EXHAUSTED with MESSAGE_TOO_LARGE', async (t) => {
  await createBucket(node.clients, 'big', { shards: 2 })
  const raw = rawClient(node.address)
  t.teardown(() => raw.close())
  const huge = Buffer.alloc(100 * 1024, 0x61)
  const head = await rawUnary(raw, '/shardsync.v1.ObjectService/HeadObject', Buffer.concat([bytesField(1, 'big'), bytesField(2, huge)]))
  t.equal(head.code, grpc.status.RESOURCE_EXHAUSTED, 'unary: RESOURCE_EXHAUSTED')
  t.equal(head.shardsyncCode, 'MESSAGE_TOO_LARGE', 'unary: MESSAGE_TOO_LARGE')
  const put = await rawClientStream(raw, '/shardsync.v1.ObjectService/PutObject', [Buffer.concat([bytesField(1, 'big'), bytesField(2, 'k')]), bytesField(3, huge)])
  t.equal(put.code, grpc.status.RESOURCE_EXHAUSTED, 'stream: RESOURCE_EXHAUSTED')
  t.equal(put.shardsyncCode, 'MESSAGE_TOO_LARGE', 'stream: MESSAGE_TOO_LARGE')
  const page = await callUnary<object, ListObjectsResponse__Output>(node.clients.object, 'ListObjects', { bucket: 'big' })
  t.same(page.objects, [], 'nothing stored')
})

function metricsAddress (n: NodeProcess): string {
  return String(n.logged('listening')[0].metrics)
}

async function scrape (address: string, authorization?: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = http.get(`http://${address}/metrics`, { headers: authorization !== undefined ? { authorization } : {} }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    req.on('error', reject)
  })
}

t.test('/metrics with a token file needs the bearer token; without one it is open', async (t) => {
  const addr = metricsAddress(node)
  t.equal(await scrape(addr), 401, 'no token: 401')
  t.equal(await scrape(addr, 'Bearer wrong-token-123'), 401, 'wrong token: 401')
  t.equal(await scrape(addr, token), 401, 'token without Bearer: 401')
  t.equal(await scrape(addr, `Bearer ${token}`), 200, 'right token: 200')
  t.equal(await scrape(metricsAddress(open)), 200, 'no token file: open, as before')
})
