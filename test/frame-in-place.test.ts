/**
 * Responses framed in place (node/rpc/base-call.ts, job 4): an
 * EncodedMessage with room in front goes out as gRPC's 5-byte prefix
 * written in that room, in the same memory, not as a copy; anything else
 * takes grpc-js's own serializeMessage. Checked on grpc-js's real call
 * class, and through a real node's server (in this process, so that the
 * framing can be counted) on 127.0.0.1 port 0: large objects must arrive
 * intact by GetObject and FetchObjects, and their messages must have been
 * framed in place.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import pino from 'pino'
import { frameInPlace } from '../node/rpc/base-call'
import { DATA_HEADROOM, dataMessage, EncodedMessage, GRPC_PREFIX_BYTES, packedObjectsMessage, streamBatchEndMessage } from '../node/rpc/encoded-message'
import { resolveNodeOptions } from '../node/config'
import { runNode } from '../node/cli/run-node'
import { createClients } from '../node/rpc/clients'
import { getObject, putObject, createBucket } from '../node/cli/object-commands'
import { GrpcSourceClient } from '../node/rpc/grpc-source-client'

t.setTimeout(120_000)

// grpc-js's own server call class: the object base-call.ts wraps.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { BaseServerInterceptingCall } = require('@grpc/grpc-js/build/src/server-interceptors') as { BaseServerInterceptingCall: { prototype: { serializeMessage: (v: unknown) => Buffer } } }

/** A grpc-js call object with only what serializeMessage needs: a handler that serializes like server.ts's. */
function grpcCall (): { serializeMessage: (v: unknown) => Buffer } {
  const call = Object.create(BaseServerInterceptingCall.prototype) as { serializeMessage: (v: unknown) => Buffer, handler: unknown }
  call.handler = { serialize: (v: unknown) => v instanceof EncodedMessage ? v.bytes : Buffer.from(JSON.stringify(v)) }
  return call
}

function chunkWithRoom (data: Buffer): Buffer {
  const chunk = Buffer.allocUnsafeSlow(DATA_HEADROOM + data.length).subarray(DATA_HEADROOM)
  data.copy(chunk)
  return chunk
}

function prefixOf (framed: Buffer): { flag: number, length: number } {
  return { flag: framed[0], length: framed.readUInt32BE(1) }
}

t.test('grpc-js\'s call class has the method that is wrapped', async t => {
  t.equal(typeof BaseServerInterceptingCall.prototype.serializeMessage, 'function', 'a grpc-js without it would silently copy again')
})

t.test('an encoded message is framed in its own room, not copied', async t => {
  const call = grpcCall()
  t.ok(frameInPlace(call), 'wrapped')
  const chunk = chunkWithRoom(crypto.randomBytes(1024 * 1024))
  const msg = dataMessage(3, chunk)
  const framed = call.serializeMessage(msg)
  t.equal(framed.buffer, chunk.buffer, 'same memory as the chunk read from storage')
  t.equal(framed.byteOffset, msg.bytes.byteOffset - GRPC_PREFIX_BYTES, 'prefix right in front of the message')
  t.same(prefixOf(framed), { flag: 0, length: msg.bytes.length }, 'uncompressed, the message\'s length')
  t.ok(framed.subarray(GRPC_PREFIX_BYTES).equals(msg.bytes), 'then the message')

  // The other encoders leave the room too (their own allocation).
  for (const m of [packedObjectsMessage([{ key: 'k', info: { size: 3, etag: 'e', mtime: 1, site: 's' }, parts: [Buffer.from('abc')] }]), streamBatchEndMessage([], 'm', [], true)]) {
    const f = call.serializeMessage(m)
    t.equal(f.buffer, m.bytes.buffer, 'packed / batch-end message framed in place')
    t.ok(f.subarray(GRPC_PREFIX_BYTES).equals(m.bytes), 'bytes unchanged')
  }
})

t.test('anything else takes grpc-js\'s own path', async t => {
  const call = grpcCall()
  frameInPlace(call)
  // No room: bytes that start their buffer.
  const own = Buffer.allocUnsafeSlow(5)
  own.write('hello')
  const bare = new EncodedMessage(own, false)
  const f1 = call.serializeMessage(bare)
  t.not(f1.buffer, bare.bytes.buffer, 'copied behind a new prefix')
  t.same(prefixOf(f1), { flag: 0, length: 5 })
  t.equal(f1.subarray(GRPC_PREFIX_BYTES).toString(), 'hello')
  // A plain object goes through the handler's serializer.
  const f2 = call.serializeMessage({ a: 1 })
  t.equal(f2.subarray(GRPC_PREFIX_BYTES).toString(), '{"a":1}')
  t.notOk(frameInPlace({}), 'an object without serializeMessage is left alone')
})

t.test('large objects through a real server are framed in place and arrive intact', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frame-in-place-'))
  const running = await runNode(resolveNodeOptions({ siteId: 'A', listen: '127.0.0.1:0', dataDir: dir }), pino({ level: 'silent' }))
  const clients = createClients(running.server.address)
  const source = new GrpcSourceClient({ id: 'A', address: running.server.address }, { localSite: 'B', deadlineMs: 30_000 })
  t.teardown(async () => {
    source.close()
    clients.close()
    await running.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  await createBucket(clients, 'big', {})
  const a = crypto.randomBytes(3 * 1024 * 1024 + 17)
  const b = crypto.randomBytes(2 * 1024 * 1024)
  await putObject(clients, 'big', 'a', a)
  await putObject(clients, 'big', 'b', b)

  const framed0 = EncodedMessage.prototype.framed
  let framedBytes = 0
  EncodedMessage.prototype.framed = function (this: EncodedMessage) {
    const out = framed0.call(this)
    if (out !== undefined) framedBytes += out.length
    return out
  }
  t.teardown(() => { EncodedMessage.prototype.framed = framed0 })

  const got = await getObject(clients, 'big', 'a')
  t.ok(got.data?.equals(a), 'GetObject: content intact')
  t.ok(framedBytes >= a.length, `GetObject: its data messages were framed in place (${framedBytes} bytes)`)

  framedBytes = 0
  const fetched = new Map<string, Buffer>()
  for await (const o of source.fetchObjects('big', ['a', 'b', 'none'])) {
    if (!o.missing) fetched.set(o.key, Array.isArray(o.data) ? Buffer.concat(o.data) : o.data)
  }
  t.ok(fetched.get('a')?.equals(a), 'FetchObjects: first object intact')
  t.ok(fetched.get('b')?.equals(b), 'FetchObjects: second object intact')
  t.ok(framedBytes >= a.length + b.length, `FetchObjects: framed in place (${framedBytes} bytes)`)
})
