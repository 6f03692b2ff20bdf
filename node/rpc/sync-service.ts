/**
 * SyncService handlers: thin adapters over SourceApi (what a target reads)
 * and NoticeReceiver (split notices). The caller's site is the site it
 * authenticated as (call-identity.ts); only on a node without credentials
 * (open, or the deprecated shared token) is it the "shardsync-site" claim.
 */
import type * as grpc from '@grpc/grpc-js'
import { ShardsyncError } from '../../storage/errors'
import type { ShardsyncNode } from '../shardsync-node'
import { authenticatedSite, callIdentity, SITE_METADATA_KEY } from './call-identity'
import type { SyncServiceHandlers } from './generated/shardsync/v1/SyncService'
import { asResponse, DATA_HEADROOM, dataMessage, indexPageMessage, packedObjectsMessage, streamBatchEndMessage, type PackedObject } from './encoded-message'
import { cancelSignal, serverStream, unary, type RpcContext } from './handler-kit'
import { objectInfoMessage, shardMessage, splitStateMessage } from './messages'
import { streamObject } from './object-service'
import { FETCH_OBJECTS_RESPONSE } from './wire-format'

export { SITE_METADATA_KEY }
/**
 * The caller's expected id of the bucket named in the request: when sent
 * and the bucket of that name is another one (deleted and re-created), the
 * call fails with BUCKET_NOT_FOUND, so a target never reads a new bucket
 * into the sync state of an old one.
 */
export const BUCKET_ID_METADATA_KEY = 'shardsync-bucket-id'

/** Objects up to this size are packed several to a FetchObjects message... */
const PACK_OBJECT_BYTES = 64 * 1024
/** ...until a message holds this many bytes or objects. */
const PACK_MESSAGE_BYTES = 256 * 1024
const PACK_MAX_OBJECTS = 256

/**
 * The calling site: the authenticated one when the node has credentials
 * (the interceptor has already refused a header that disagrees), else the
 * header's claim.
 */
export function callerSite (call: { metadata: grpc.Metadata }): string | undefined {
  const id = callIdentity(call)
  if (id.kind === 'authenticated') return authenticatedSite(call)
  const v = call.metadata.get(SITE_METADATA_KEY)[0]
  return typeof v === 'string' ? v : undefined
}

function checkBucketId (node: ShardsyncNode, call: { metadata: grpc.Metadata }, bucket: string): void {
  const want = call.metadata.get(BUCKET_ID_METADATA_KEY)[0]
  if (typeof want !== 'string' || want === '') return
  if (node.store.getBucket(bucket)?.id !== want) throw ShardsyncError.bucketNotFound(bucket)
}

/** "I am site X" fields of a request (exclude_origin) must name the caller's authenticated site. */
function requireOwnSite (call: { metadata: grpc.Metadata }, site: string, what: string): void {
  const id = callIdentity(call)
  if (id.kind === 'authenticated' && site !== '' && site !== id.identity) throw ShardsyncError.siteMismatch(what)
}

export function syncServiceHandlers (node: ShardsyncNode, ctx: RpcContext): SyncServiceHandlers {
  const source = node.source
  return {
    ListShards: unary(ctx, 'ListShards', (req, call) => {
      checkBucketId(node, call, req.bucket)
      const r = source.listShards(req.bucket)
      return { bucketId: r.bucketId, shards: r.shards.map(shardMessage) }
    }),
    ListIndex: unary(ctx, 'ListIndex', async (req, call) => {
      checkBucketId(node, call, req.bucket)
      const page = await source.listIndex(req.bucket, req.shard, req.marker, req.limit, req.includeDeleted)
      return asResponse(indexPageMessage(page.entries, page.nextMarker, page.tombstones))
    }),
    GetObject: serverStream(ctx, 'GetObject', async (req, write) => await streamObject(node, req.bucket, req.key, write)),
    FetchObjects: serverStream(ctx, 'FetchObjects', async (req, write, _signal, call) => {
      checkBucketId(node, call, req.bucket)
      // Small objects and misses are packed many to a message; a bigger
      // object goes alone: its info, then its data messages.
      let packed: PackedObject[] = []
      let packedBytes = 0
      const flush = async (): Promise<void> => {
        if (packed.length === 0) return
        const objects = packed
        packed = []
        packedBytes = 0
        await write(asResponse(packedObjectsMessage(objects)))
      }
      for await (const item of source.fetchObjects(req.bucket, req.keys, DATA_HEADROOM)) {
        if (item.missing || item.info === undefined) {
          packed.push({ key: item.key })
          packedBytes += item.key.length
        } else if (item.parts !== undefined && item.info.size <= PACK_OBJECT_BYTES) {
          packed.push({ key: item.key, info: item.info, parts: item.parts })
          packedBytes += item.info.size + item.key.length
        } else {
          // Its info alone, then data messages built around the chunks
          // without a copy (see encoded-message.ts).
          await flush()
          await write({ info: objectInfoMessage(item.key, item.info) })
          for await (const chunk of item.chunks) await write(asResponse(dataMessage(FETCH_OBJECTS_RESPONSE.data, chunk)))
          continue
        }
        if (packedBytes >= PACK_MESSAGE_BYTES || packed.length >= PACK_MAX_OBJECTS) await flush()
      }
      await flush()
    }),
    StreamShard: serverStream(ctx, 'StreamShard', async (req, write, signal, call) => {
      checkBucketId(node, call, req.bucket)
      const { start, batches } = source.streamShard(req.bucket, req.shard, req.marker, { includeDeleted: req.includeDeleted, inlineMaxBytes: req.inlineMaxBytes, referenceOriginSite: req.referenceOriginSite, signal })
      try {
        await write({ start: { state: splitStateMessage(start.state), newShards: start.newShards, logSeq: start.logSeq, bucketId: start.bucketId, shardCount: start.shardCount, filling: start.filling } })
        // The next batch is read only once this one is written (write waits for 'drain').
        for await (const batch of batches) {
          let packed: PackedObject[] = []
          let packedBytes = 0
          for (const o of batch.objects) {
            packed.push(o)
            packedBytes += o.info.size + o.key.length
            if (packedBytes >= PACK_MESSAGE_BYTES || packed.length >= PACK_MAX_OBJECTS) {
              await write(asResponse(packedObjectsMessage(packed)))
              packed = []
              packedBytes = 0
            }
          }
          if (packed.length > 0) await write(asResponse(packedObjectsMessage(packed)))
          await write(asResponse(streamBatchEndMessage(batch.references, batch.resumeMarker, batch.tombstones, batch.done)))
        }
      } finally {
        // A stream that failed before its first batch still closes its iterator.
        await batches.return(undefined)
      }
    }),
    QuerySplitState: unary(ctx, 'QuerySplitState', (req, call) => {
      checkBucketId(node, call, req.bucket)
      const s = source.querySplitState(req.bucket, req.shard)
      return { state: splitStateMessage(s.state), newShards: s.newShards, logSeq: s.logSeq, bucketId: s.bucketId, shardCount: s.shardCount, filling: s.filling }
    }),
    NotifyReshardComplete: unary(ctx, 'NotifyReshardComplete', async (req, call) => await node.notices.receive(req.sourceReshardSyncInfo, callerSite(call))),
    PullChanges: unary(ctx, 'PullChanges', async (req, call) => {
      checkBucketId(node, call, req.bucket)
      requireOwnSite(call, req.excludeOrigin, 'exclude_origin')
      const answer = await source.pullChanges(req.bucket, req.cursors.map(c => ({ shard: c.shard, afterSeq: Number(c.afterSeq) })), {
        limit: req.limit, waitMs: req.waitMs, excludeOrigin: req.excludeOrigin, maxInlineBytes: req.maxInlineBytes, signal: cancelSignal(call)
      })
      return {
        entries: answer.entries.map(e => ({ shard: e.shard, seq: e.seq, deleted: e.deleted, info: objectInfoMessage(e.info.key, e.info), data: e.data, hasData: e.data !== undefined })),
        positions: answer.positions.map(p => ({ shard: p.shard, afterSeq: p.seq })),
        heads: (answer.heads ?? []).map(p => ({ shard: p.shard, afterSeq: p.seq })),
        shardCount: answer.shardCount
      }
    }),
    ReportPositions: unary(ctx, 'ReportPositions', async (req, call) => {
      checkBucketId(node, call, req.bucket)
      await source.reportPositions(req.bucket, callerSite(call), {
        positions: req.positions.map(p => ({ shard: p.shard, seq: Number(p.seq), incremental: p.incremental })),
        reporterBucketId: req.reporterBucketId,
        heads: req.heads.map(h => ({ shard: h.shard, seq: Number(h.afterSeq) }))
      })
      return {}
    })
  }
}
