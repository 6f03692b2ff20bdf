/**
 * Client-side CLI commands: buckets, objects, bulk load, splits, peers.
 * Each opens clients to --node, does one thing, and closes them.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import { callUnary, createClients, type Clients } from '../rpc/clients'
import type { Bucket__Output } from '../rpc/generated/shardsync/v1/Bucket'
import type { GetObjectResponse__Output } from '../rpc/generated/shardsync/v1/GetObjectResponse'
import type { ListBucketsResponse__Output } from '../rpc/generated/shardsync/v1/ListBucketsResponse'
import type { ListObjectsResponse__Output } from '../rpc/generated/shardsync/v1/ListObjectsResponse'
import type { ListShardsResponse__Output } from '../rpc/generated/shardsync/v1/ListShardsResponse'
import type { ObjectInfo__Output } from '../rpc/generated/shardsync/v1/ObjectInfo'
import type { PutObjectRequest } from '../rpc/generated/shardsync/v1/PutObjectRequest'
import type { SplitShardResponse__Output } from '../rpc/generated/shardsync/v1/SplitShardResponse'
import { authMetadata, channelCredentials, type Security } from '../rpc/security'
import { fromServiceError } from '../rpc/status-map'
import { Progress } from './progress'

const PUT_CHUNK = 256 * 1024

let clientSecurity: Security = {}

/** Set once from the global flags (--auth-token, --tls-*) before a command runs. */
export function setClientSecurity (s: Security): void {
  clientSecurity = s
}

export async function withClients<T> (address: string, fn: (c: Clients) => Promise<T>): Promise<T> {
  const clients = createClients(address, { credentials: channelCredentials(clientSecurity), metadata: authMetadata(clientSecurity) })
  try {
    return await fn(clients)
  } finally {
    clients.close()
  }
}

export async function createBucket (c: Clients, name: string, opts: { shards?: number, splitThreshold?: number, autoSplit?: boolean }): Promise<Bucket__Output> {
  return await callUnary(c.object, 'CreateBucket', { name, initialShards: opts.shards ?? 0, splitThreshold: opts.splitThreshold ?? 0, autoSplit: opts.autoSplit })
}

export async function listBuckets (c: Clients): Promise<Bucket__Output[]> {
  return (await callUnary<object, ListBucketsResponse__Output>(c.object, 'ListBuckets', {})).buckets
}

/** Streams a Buffer or a readable into PutObject. */
export async function putObject (c: Clients, bucket: string, key: string, body: Buffer | NodeJS.ReadableStream): Promise<ObjectInfo__Output> {
  return await new Promise<ObjectInfo__Output>((resolve, reject) => {
    const call = c.object.PutObject((err, res) => err !== null ? reject(fromServiceError(err, 'PutObject')) : resolve(res as ObjectInfo__Output))
    if (Buffer.isBuffer(body)) {
      call.write({ bucket, key, data: body.subarray(0, PUT_CHUNK) } satisfies PutObjectRequest)
      for (let off = PUT_CHUNK; off < body.length; off += PUT_CHUNK) call.write({ data: body.subarray(off, off + PUT_CHUNK) })
      call.end()
      return
    }
    let first = true
    body.on('data', (chunk: Buffer) => {
      const msg: PutObjectRequest = first ? { bucket, key, data: chunk } : { data: chunk }
      first = false
      if (!call.write(msg)) { body.pause(); call.once('drain', () => body.resume()) }
    })
    body.on('end', () => { if (first) call.write({ bucket, key }); call.end() })
    body.on('error', (err) => { call.cancel(); reject(err) })
  })
}

/** Reads an object: its info and a stream of its chunks. */
export async function getObject (c: Clients, bucket: string, key: string, sink?: NodeJS.WritableStream, deadlineMs?: number): Promise<{ info: ObjectInfo__Output, data?: Buffer }> {
  const call = c.object.GetObject({ bucket, key }, deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs })
  let info: ObjectInfo__Output | undefined
  const parts: Buffer[] = []
  try {
    for await (const msg of call as AsyncIterable<GetObjectResponse__Output>) {
      if (msg.info !== null && msg.info !== undefined) { info = msg.info; continue }
      if (sink !== undefined) {
        if (!sink.write(msg.data)) await new Promise(resolve => sink.once('drain', resolve))
      } else {
        parts.push(msg.data)
      }
    }
  } catch (err) {
    throw fromServiceError(err, 'GetObject')
  }
  if (info === undefined) throw fromServiceError(new Error('no object info'), 'GetObject')
  return { info, data: sink === undefined ? Buffer.concat(parts) : undefined }
}

/** Every object of a bucket, page by page, in key order. */
export async function * listAllObjects (c: Clients, bucket: string, prefix = ''): AsyncGenerator<ObjectInfo__Output> {
  let startAfter = ''
  for (;;) {
    const page = await callUnary<object, ListObjectsResponse__Output>(c.object, 'ListObjects', { bucket, prefix, startAfter, limit: 1000 })
    yield * page.objects
    if (page.nextStartAfter === '') return
    startAfter = page.nextStartAfter
  }
}

export async function listShards (c: Clients, bucket: string): Promise<ListShardsResponse__Output> {
  return await callUnary(c.sync, 'ListShards', { bucket })
}

export async function splitShard (c: Clients, bucket: string, shard: number): Promise<SplitShardResponse__Output> {
  return await callUnary(c.admin, 'SplitShard', { bucket, shard })
}

export async function readInput (file: string | undefined): Promise<Buffer | NodeJS.ReadableStream> {
  if (file === undefined || file === '-') return process.stdin
  return fs.createReadStream(file)
}

export async function writeOutput (c: Clients, bucket: string, key: string, file: string | undefined): Promise<void> {
  if (file === undefined || file === '-') {
    await getObject(c, bucket, key, process.stdout)
    return
  }
  const out = fs.createWriteStream(file)
  await getObject(c, bucket, key, out)
  await new Promise<void>((resolve, reject) => { out.on('error', reject); out.end(resolve) })
}

export interface LoadOptions { count: number, size: number, concurrency: number, prefix: string, quiet?: boolean }

/** Bulk load: count objects of random content, several PUTs in flight. */
export async function load (c: Clients, bucket: string, o: LoadOptions): Promise<{ count: number, bytes: number, seconds: number }> {
  const progress = new Progress('load', o.count, o.quiet === true)
  const started = Date.now()
  let next = 0
  const width = String(Math.max(o.count - 1, 0)).length
  const worker = async (): Promise<void> => {
    while (next < o.count) {
      const i = next++
      await putObject(c, bucket, `${o.prefix}${String(i).padStart(width, '0')}`, crypto.randomBytes(o.size))
      progress.tick(1)
    }
  }
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, worker))
  progress.stop()
  const seconds = (Date.now() - started) / 1000
  return { count: o.count, bytes: o.count * o.size, seconds }
}
