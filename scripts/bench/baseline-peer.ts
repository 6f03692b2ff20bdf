/**
 * Child process of the baseline section: one end of a bare streamed copy.
 *
 *   node baseline-peer.js sender   <json>  preloads N objects into its own
 *        LevelDB (untimed), then serves them over ONE stream: either a gRPC
 *        server-streaming call (one protobuf message {key, data} per object,
 *        grpc-js, same library and settings as the nodes) or a raw TCP
 *        socket with length-prefixed frames. Prints {"ready":..., "address"}.
 *   node baseline-peer.js receiver <json>  opens the stream, writes what it
 *        receives into its own LevelDB in batches of ~1000 (one batch in
 *        flight while the next fills; the stream is paused when both are
 *        full), and prints {"count", "ms", "cpuSeconds"} measured from
 *        opening the stream until the last batch is written.
 *
 *   transport tcp-files: files instead of LevelDB values (see fileSender).
 *
 * No sync protocol at all: no listing, no version check, no checksum, one
 * key per object. This is the yardstick the full sync is compared with.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import crypto from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { Level } from 'level'

interface Args {
  transport: 'grpc' | 'grpc-batched' | 'tcp' | 'tcp-files'
  dir: string
  count: number
  size: number
  batch: number
  address?: string
}

const ObjMsg = new protobuf.Type('Obj')
  .add(new protobuf.Field('key', 1, 'string'))
  .add(new protobuf.Field('data', 2, 'bytes'))

const BatchMsg = new protobuf.Type('Batch')
  .add(new protobuf.Field('objs', 1, 'Obj', 'repeated'))
new protobuf.Root().add(ObjMsg).add(BatchMsg)

interface Obj { key: string, data: Buffer }

function codec<T> (type: protobuf.Type): { serialize: (m: T) => Buffer, deserialize: (b: Buffer) => T } {
  return {
    serialize: (m) => {
      const u8 = type.encode(m as protobuf.Message).finish()
      return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
    },
    deserialize: (b) => type.decode(b) as unknown as T
  }
}
const EMPTY = Buffer.alloc(0)
/** Frames of a batched message / TCP write: about this many bytes. */
const BATCH_BYTES = 64 * 1024
/** Pieces of a file read or written at once (as a node reads and writes its blob files). */
const FILE_PIECE_BYTES = 1024 * 1024

function service (batched: boolean): grpc.ServiceDefinition {
  const c = batched ? codec<{ objs: Obj[] }>(BatchMsg) : codec<Obj>(ObjMsg)
  return {
    Stream: {
      path: batched ? '/bench.Copy/StreamBatched' : '/bench.Copy/Stream',
      requestStream: false,
      responseStream: true,
      requestSerialize: () => EMPTY,
      requestDeserialize: () => ({}),
      responseSerialize: c.serialize,
      responseDeserialize: c.deserialize
    }
  }
}

const GRPC_OPTS = { 'grpc.max_receive_message_length': 8 * 1024 * 1024, 'grpc.max_send_message_length': 8 * 1024 * 1024 }

function out (v: unknown): void { process.stdout.write(JSON.stringify(v) + '\n') }

function key (i: number): string { return 'obj-' + String(i).padStart(9, '0') }

async function preload (db: Level<string, Buffer>, a: Args): Promise<void> {
  const pool = crypto.randomBytes(Math.max(4 * 1024 * 1024, a.size * 4))
  for (let i = 0; i < a.count; i += 1000) {
    const ops: Array<{ type: 'put', key: string, value: Buffer }> = []
    for (let j = i; j < Math.min(a.count, i + 1000); j++) {
      const off = (j * 7919) % (pool.length - a.size)
      const v = Buffer.from(pool.subarray(off, off + a.size))
      v.writeUInt32BE(j, 0)
      ops.push({ type: 'put', key: key(j), value: v })
    }
    await db.batch(ops)
  }
}

async function sender (a: Args): Promise<void> {
  if (a.transport === 'tcp-files') return await fileSender(a)
  const db = new Level<string, Buffer>(a.dir, { valueEncoding: 'buffer' })
  await db.open()
  await preload(db, a)
  if (a.transport !== 'tcp') {
    const batched = a.transport === 'grpc-batched'
    const server = new grpc.Server(GRPC_OPTS)
    server.addService(service(batched), {
      Stream: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        void (async () => {
          let objs: Obj[] = []
          let bytes = 0
          for await (const [k, v] of db.iterator()) {
            let ok = true
            if (!batched) {
              ok = call.write({ key: k, data: v })
            } else {
              objs.push({ key: k, data: v })
              bytes += v.length + k.length
              if (bytes >= BATCH_BYTES) { ok = call.write({ objs }); objs = []; bytes = 0 }
            }
            if (!ok) await new Promise(resolve => call.once('drain', resolve))
          }
          if (objs.length > 0) call.write({ objs })
          call.end()
        })().catch(err => call.destroy(err as Error))
      }
    })
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => e !== null ? reject(e) : resolve(p)))
    out({ ready: true, address: `127.0.0.1:${port}` })
  } else {
    const server = net.createServer((sock) => {
      sock.setNoDelay(false)
      void (async () => {
        // Frames [u32 len][u16 keyLen][key][data], coalesced into ~64 KiB writes.
        let parts: Buffer[] = []
        let bytes = 0
        for await (const [k, v] of db.iterator()) {
          const kb = Buffer.from(k, 'utf8')
          const head = Buffer.allocUnsafe(6)
          head.writeUInt32BE(2 + kb.length + v.length, 0)
          head.writeUInt16BE(kb.length, 4)
          parts.push(head, kb, v)
          bytes += 6 + kb.length + v.length
          if (bytes >= BATCH_BYTES) {
            const ok = sock.write(Buffer.concat(parts, bytes))
            parts = []
            bytes = 0
            if (!ok) await new Promise(resolve => sock.once('drain', resolve))
          }
        }
        if (bytes > 0) sock.write(Buffer.concat(parts, bytes))
        sock.end()
      })().catch(() => sock.destroy())
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const addr = server.address() as net.AddressInfo
    out({ ready: true, address: `127.0.0.1:${addr.port}` })
  }
  process.on('SIGTERM', () => { void db.close().finally(() => process.exit(0)) })
}

/** Batches of `size` puts; one write in flight; `full` tells the source to pause. */
class BatchWriter {
  private ops: Array<{ type: 'put', key: string, value: Buffer }> = []
  private inFlight: Promise<void> | undefined
  count = 0
  constructor (private readonly db: Level<string, Buffer>, private readonly size: number, private readonly pause: () => void, private readonly resume: () => void) {}

  add (k: string, v: Buffer): void {
    this.ops.push({ type: 'put', key: k, value: v })
    this.count++
    if (this.ops.length >= this.size) this.flush()
  }

  private flush (): void {
    if (this.ops.length === 0) return
    if (this.inFlight !== undefined) {
      // Previous batch still writing and this one is full: hold the stream.
      if (this.ops.length >= this.size) this.pause()
      return
    }
    const ops = this.ops
    this.ops = []
    this.inFlight = this.db.batch(ops).then(() => {
      this.inFlight = undefined
      if (this.ops.length >= this.size) this.flush()
      this.resume()
    })
  }

  async end (): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight
    this.flush()
    while (this.inFlight !== undefined) await this.inFlight
  }
}

async function receiver (a: Args): Promise<void> {
  if (a.transport === 'tcp-files') return await fileReceiver(a)
  const db = new Level<string, Buffer>(a.dir, { valueEncoding: 'buffer' })
  await db.open()
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  let writer: BatchWriter
  if (a.transport !== 'tcp') {
    const batched = a.transport === 'grpc-batched'
    const Client = grpc.makeGenericClientConstructor(service(batched), 'Copy')
    const client = new Client(a.address as string, grpc.credentials.createInsecure(), GRPC_OPTS)
    const call = (client as unknown as { Stream: (req: unknown) => grpc.ClientReadableStream<Obj & { objs: Obj[] }> }).Stream({})
    writer = new BatchWriter(db, a.batch, () => call.pause(), () => call.resume())
    await new Promise<void>((resolve, reject) => {
      call.on('data', (m: Obj & { objs: Obj[] }) => {
        if (!batched) writer.add(m.key, m.data)
        else for (const o of m.objs) writer.add(o.key, o.data)
      })
      call.on('end', resolve)
      call.on('error', reject)
    })
    client.close()
  } else {
    const [host, port] = (a.address as string).split(':')
    const sock = net.connect(Number(port), host)
    writer = new BatchWriter(db, a.batch, () => sock.pause(), () => sock.resume())
    let buf: Buffer = Buffer.alloc(0)
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (d: Buffer) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d])
        let off = 0
        while (buf.length - off >= 4) {
          const len = buf.readUInt32BE(off)
          if (buf.length - off - 4 < len) break
          const klen = buf.readUInt16BE(off + 4)
          const k = buf.toString('utf8', off + 6, off + 6 + klen)
          const v = buf.subarray(off + 6 + klen, off + 4 + len)
          writer.add(k, v)
          off += 4 + len
        }
        buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off)
      })
      sock.on('end', resolve)
      sock.on('error', reject)
    })
  }
  await writer.end()
  const ms = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  await db.close()
  out({ count: writer.count, ms, cpuSeconds: (cpu.user + cpu.system) / 1e6 })
  process.exit(0)
}

/**
 * The yardstick for large objects: N files of `size` bytes, one per object
 * (as a node stores them), sent over one TCP socket as [u32 size][u16
 * keyLen][key][content], read in 1 MiB pieces; the receiver writes each to
 * a file of its own and makes it durable (fdatasync) before it counts.
 */
async function fileSender (a: Args): Promise<void> {
  fs.mkdirSync(a.dir, { recursive: true })
  const content = crypto.randomBytes(a.size)
  for (let i = 0; i < a.count; i++) {
    content.writeUInt32BE(i, 0)
    fs.writeFileSync(path.join(a.dir, key(i)), content)
  }
  const server = net.createServer((sock) => {
    void (async () => {
      for (let i = 0; i < a.count; i++) {
        const kb = Buffer.from(key(i), 'utf8')
        const head = Buffer.allocUnsafe(6 + kb.length)
        head.writeUInt32BE(a.size, 0)
        head.writeUInt16BE(kb.length, 4)
        kb.copy(head, 6)
        sock.write(head)
        const fh = await fs.promises.open(path.join(a.dir, key(i)), 'r')
        for (let off = 0; off < a.size; off += FILE_PIECE_BYTES) {
          const piece = Buffer.allocUnsafe(Math.min(FILE_PIECE_BYTES, a.size - off))
          await fh.read(piece, 0, piece.length, off)
          if (!sock.write(piece)) await new Promise(resolve => sock.once('drain', resolve))
        }
        await fh.close()
      }
      sock.end()
    })().catch(() => sock.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  out({ ready: true, address: `127.0.0.1:${(server.address() as net.AddressInfo).port}` })
  process.on('SIGTERM', () => process.exit(0))
}

async function fileReceiver (a: Args): Promise<void> {
  fs.mkdirSync(a.dir, { recursive: true })
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const [host, port] = (a.address as string).split(':')
  const sock = net.connect(Number(port), host)
  const durable: Array<Promise<void>> = []
  let count = 0
  // One file at a time is written as its bytes arrive (the socket is paused
  // while a write is pending); its fdatasync overlaps the next file.
  let file: { fh: fs.promises.FileHandle, left: number } | undefined
  let pending: Buffer[] = []
  let pendingBytes = 0
  const writePending = async (): Promise<void> => {
    const f = file as { fh: fs.promises.FileHandle, left: number }
    const parts = pending
    pending = []
    pendingBytes = 0
    await f.fh.writev(parts)
    if (f.left === 0) {
      file = undefined
      durable.push(f.fh.datasync().then(async () => { await f.fh.close(); count++ }))
    }
  }
  let carry = Buffer.alloc(0)
  const consume = async (d: Buffer): Promise<void> => {
    while (d.length > 0) {
      if (file === undefined) {
        carry = Buffer.concat([carry, d])
        if (carry.length < 6 || carry.length < 6 + carry.readUInt16BE(4)) return
        const klen = carry.readUInt16BE(4)
        const name = carry.toString('utf8', 6, 6 + klen)
        const size = carry.readUInt32BE(0)
        d = carry.subarray(6 + klen)
        carry = Buffer.alloc(0)
        file = { fh: await fs.promises.open(path.join(a.dir, name), 'w'), left: size }
        continue
      }
      const take = Math.min(file.left, d.length)
      pending.push(d.subarray(0, take))
      pendingBytes += take
      file.left -= take
      d = d.subarray(take)
      if (file.left === 0 || pendingBytes >= FILE_PIECE_BYTES) await writePending()
    }
  }
  await new Promise<void>((resolve, reject) => {
    // One chunk at a time: the socket is paused while a chunk's writes run
    // ('end' may still come meanwhile, so it waits for the chain).
    let chain = Promise.resolve()
    sock.on('data', (d: Buffer) => {
      sock.pause()
      chain = chain.then(async () => await consume(d)).then(() => { sock.resume() })
      chain.catch(reject)
    })
    sock.on('end', () => { chain.then(resolve, reject) })
    sock.on('error', reject)
  })
  await Promise.all(durable)
  const cpu = process.cpuUsage(cpu0)
  out({ count, ms: performance.now() - started, cpuSeconds: (cpu.user + cpu.system) / 1e6 })
  process.exit(0)
}

const [role, json] = process.argv.slice(2)
const args = JSON.parse(json) as Args
;(role === 'sender' ? sender(args) : receiver(args)).catch((err) => {
  process.stderr.write(`${role}: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
