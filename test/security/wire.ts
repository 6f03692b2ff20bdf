/**
 * Test helpers that speak gRPC with bytes the test builds itself: a tiny
 * protobuf encoder (so a test can put any bytes in a string field, which
 * protobufjs would never send), raw unary and client-stream calls, and a
 * health check. Used by the security tests.
 */
import http2 from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import { service as healthService } from 'grpc-health-check'
import { CODE_METADATA_KEY } from '../../node/rpc/status-map'

export function varint (n: number): Buffer {
  const out: number[] = []
  while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Buffer.from(out)
}

/** A length-delimited field (string, bytes, message) holding exactly these bytes. */
export function bytesField (field: number, value: Buffer | string): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  return Buffer.concat([varint(field * 8 + 2), varint(b.length), b])
}

export function varintField (field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)])
}

export interface RawOutcome { code: grpc.status, shardsyncCode: string | undefined, response?: Buffer }

const identity = (b: Buffer): Buffer => b

function outcome (err: grpc.ServiceError | null, res?: Buffer): RawOutcome {
  if (err === null) return { code: grpc.status.OK, shardsyncCode: undefined, response: res }
  const c = err.metadata?.get(CODE_METADATA_KEY)[0]
  return { code: err.code, shardsyncCode: typeof c === 'string' ? c : undefined }
}

/** A plain client that sends and receives bytes as they are. */
export function rawClient (address: string, options: grpc.ClientOptions = {}): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024, 'grpc.max_receive_message_length': 64 * 1024 * 1024, ...options })
}

export async function rawUnary (client: grpc.Client, path: string, request: Buffer, opts: { metadata?: grpc.Metadata, deadlineMs?: number } = {}): Promise<RawOutcome> {
  return await new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, request, opts.metadata ?? new grpc.Metadata(), { deadline: Date.now() + (opts.deadlineMs ?? 30_000) }, (err, res) => resolve(outcome(err, res)))
  })
}

/** A client stream of these messages; the call ends after the last. */
export async function rawClientStream (client: grpc.Client, path: string, messages: Buffer[], opts: { metadata?: grpc.Metadata, deadlineMs?: number } = {}): Promise<RawOutcome> {
  return await new Promise((resolve) => {
    const call = client.makeClientStreamRequest(path, identity, identity, opts.metadata ?? new grpc.Metadata(), { deadline: Date.now() + (opts.deadlineMs ?? 30_000) }, (err, res) => resolve(outcome(err, res)))
    for (const m of messages) call.write(m)
    call.end()
  })
}

type HealthClient = grpc.Client & { Check: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void }

/** grpc.health.v1.Health/Check of one service name: SERVING, NOT_SERVING, ... */
export async function healthStatus (address: string, service = ''): Promise<string> {
  const Ctor = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health')
  const client = new Ctor(address, grpc.credentials.createInsecure()) as unknown as HealthClient
  try {
    return await new Promise((resolve, reject) => {
      client.Check({ service }, { deadline: Date.now() + 30_000 }, (err, res) => err !== null ? reject(err) : resolve(String(res?.status)))
    })
  } finally {
    client.close()
  }
}

/**
 * A server-streaming call from a raw HTTP/2 client that never reads the
 * answer (grpc-js's own client reads and buffers everything it is sent,
 * so it cannot stall a server). `closed` resolves with the stream's
 * RST_STREAM code when the server ends it.
 */
export function unreadServerStream (address: string, path: string, request: Buffer): { closed: Promise<number>, destroy: () => void } {
  const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 65535 } })
  session.on('error', () => {})
  const frame = Buffer.alloc(5)
  frame.writeUInt32BE(request.length, 1)
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' })
  req.on('error', () => {})
  req.end(Buffer.concat([frame, request]))
  req.pause()
  const closed = new Promise<number>((resolve) => req.on('close', () => resolve(req.rstCode ?? 0)))
  return { closed, destroy: () => session.destroy() }
}
