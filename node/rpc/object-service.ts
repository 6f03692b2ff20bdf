/**
 * ObjectService handlers: thin adapters from gRPC to ShardsyncNode's store.
 * Validation lives in the store; these only move fields.
 */
import type * as grpc from '@grpc/grpc-js'
import { ShardsyncError } from '../../storage/errors'
import type { Upload } from '../../storage/object-store'
import type { ShardsyncNode } from '../shardsync-node'
import type { ObjectServiceHandlers } from './generated/shardsync/v1/ObjectService'
import type { GetObjectResponse } from './generated/shardsync/v1/GetObjectResponse'
import type { PutObjectRequest__Output } from './generated/shardsync/v1/PutObjectRequest'
import { asResponse, DATA_HEADROOM, dataMessage } from './encoded-message'
import { assertWellFormed, clientStream, serverStream, unary, type StreamWriter, type RpcContext } from './handler-kit'
import { callerIdentity } from './client-shares'
import { bucketMessage, bucketTombstoneMessage, objectInfoMessage } from './messages'
import { StreamWatch } from './stream-watch'
import { GET_OBJECT_RESPONSE } from './wire-format'

export function objectServiceHandlers (node: ShardsyncNode, ctx: RpcContext): ObjectServiceHandlers {
  const store = node.store
  return {
    CreateBucket: unary(ctx, 'CreateBucket', async (req) => bucketMessage(await store.createBucket({
      name: req.name,
      initialShards: req.initialShards,
      splitThreshold: Number(req.splitThreshold),
      autoSplit: req._autoSplit === 'autoSplit' ? req.autoSplit : undefined
    }))),
    ListBuckets: unary(ctx, 'ListBuckets', async (req) => ({
      buckets: [...store.listBuckets().map(bucketMessage), ...(req.includeDeleted ? (await store.listBucketTombstones()).map(bucketTombstoneMessage) : [])]
    })),
    DeleteBucket: unary(ctx, 'DeleteBucket', async (req) => { await store.deleteBucket(req.name); return {} }),
    PutObject: clientStream(ctx, 'PutObject', async (call) => await putObject(node, ctx, call)),
    GetObject: serverStream(ctx, 'GetObject', async (req, write) => await streamObject(node, req.bucket, req.key, write)),
    HeadObject: unary(ctx, 'HeadObject', async (req) => objectInfoMessage(req.key, await store.headObject(req.bucket, req.key))),
    DeleteObject: unary(ctx, 'DeleteObject', async (req) => { await store.deleteObject(req.bucket, req.key); return {} }),
    ListObjects: unary(ctx, 'ListObjects', async (req) => {
      const page = await store.listObjects(req.bucket, { prefix: req.prefix, startAfter: req.startAfter, limit: req.limit })
      return { objects: page.objects.map(o => objectInfoMessage(o.key, o)), nextStartAfter: page.nextStartAfter }
    })
  }
}

/**
 * PutObject: the first message names bucket and key, every message may
 * carry data. Bytes the upload holds in memory (objects up to 1 MiB until
 * the commit, larger ones until each file write) count against the
 * caller's share (client-shares.ts); waiting for the client's next message
 * is watched (stream-watch.ts). Either limit ends the call with its code,
 * and the upload is aborted: nothing is stored.
 */
async function putObject (node: ShardsyncNode, ctx: RpcContext, call: grpc.ServerReadableStream<PutObjectRequest__Output, unknown>): Promise<ReturnType<typeof objectInfoMessage>> {
  let upload: Upload | undefined
  let key = ''
  let cancelled = false
  call.on('cancelled', () => { cancelled = true; call.destroy() })
  const who = callerIdentity(call.metadata, call.getPeer())
  let charged = 0
  const recharge = (bytes: number): void => {
    if (ctx.shares === undefined || bytes === charged) return
    ctx.shares.charge(who, bytes - charged)
    charged = bytes
  }
  let stop: (err: ShardsyncError) => void = () => {}
  const stopped = new Promise<never>((_resolve, reject) => { stop = reject })
  stopped.catch(() => {})
  const watch = ctx.streams !== undefined ? new StreamWatch(ctx.streams, (err) => stop(err)) : undefined
  try {
    // destroyOnReturn: false — ending the loop must not destroy the call
    // (that costs two errors with stack traces on every PUT).
    const messages = (call.iterator({ destroyOnReturn: false }) as AsyncIterable<PutObjectRequest__Output>)[Symbol.asyncIterator]()
    for (;;) {
      watch?.waiting()
      const next = await Promise.race([messages.next(), stopped])
      if (next.done === true) break
      const msg = next.value
      watch?.progressed(Buffer.isBuffer(msg?.data) ? msg.data.length : 0)
      assertWellFormed(msg)
      if (upload === undefined) {
        key = msg.key
        upload = node.store.beginUpload(msg.bucket, msg.key)
      }
      // Counted before it is buffered: past the share, refused, not held.
      recharge(upload.bufferedBytes + msg.data.length)
      await upload.write(msg.data)
      recharge(upload.bufferedBytes)
    }
    watch?.close()
    if (cancelled) throw ShardsyncError.invalidArgument('upload cancelled')
    if (upload === undefined) throw ShardsyncError.invalidArgument('PutObject needs at least one message with bucket and key')
    const result = await upload.finish()
    return objectInfoMessage(key, result.version)
  } catch (err) {
    watch?.close()
    await upload?.abort().catch(() => {})
    if (watch?.error !== undefined) throw watch.error
    if (cancelled || (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') throw ShardsyncError.invalidArgument('upload stream ended early')
    throw err
  } finally {
    if (ctx.shares !== undefined && charged !== 0) ctx.shares.charge(who, -charged)
  }
}

/** GetObject for both services: info first, then the data chunks. */
export async function streamObject (node: ShardsyncNode, bucket: string, key: string, write: StreamWriter<GetObjectResponse>): Promise<void> {
  const head = await node.store.headObject(bucket, key)
  await write({ info: objectInfoMessage(key, head) })
  for await (const chunk of node.store.readChunks(head, DATA_HEADROOM)) await write(asResponse(dataMessage(GET_OBJECT_RESPONSE.data, chunk)))
}
