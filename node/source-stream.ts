/**
 * The source side of StreamShard: one shard's index walked in key order
 * from a marker with one iterator (storage/index-scan.ts), cut into
 * batches that carry small live objects with their content, references
 * (info only) to the others, and the tombstones of the range.
 *
 * Called by SourceApi.streamShard (node/source-api.ts) for the gRPC handler
 * (node/rpc/sync-service.ts). A batch is built only when the caller asks
 * for it (the handler asks after its previous batch was written, i.e.
 * after the client read it: back-pressure), so a stream holds at most one
 * batch: <= STREAM_BATCH_ENTRIES entries and about inlineMaxBytes of content.
 *
 * Per batch: one native read of index entries (a run of the iterator),
 * one getMany of the heads of the entries to inline (an index entry holds
 * the version, not where the content is), one getMany of their chunks. The
 * head, not the index entry, gives what is inlined: it is the object's
 * current version (never older than the entry); a head deleted or
 * overwritten since is skipped, as FetchObjects reports it missing: that
 * change is in the shard's log after the position the target recorded
 * before it began.
 *
 * Live entries of referenceOriginSite (the caller's own site: its own
 * writes, which it normally holds) are never inline: they are references
 * built from the index entry alone, no head or content of theirs read (as
 * large objects' references are). The caller fetches only those newer
 * than its copy (all of them if it was rebuilt empty).
 */
import type { ObjectStore } from '../storage/object-store'
import { isSmall } from '../storage/object-store'
import { IndexScan, type ScannedEntry } from '../storage/index-scan'
import type { SourceObjectInfo, SplitStateAnswer } from './sync/source-client'
import { infoOf, INLINE_OBJECT_BYTES } from './source-api'

/** Index entries (live or tombstones) one batch covers at most. */
export const STREAM_BATCH_ENTRIES = 1000
/** inline_max_bytes is clamped to this (a batch's content is held in memory, and sent in messages of 256 KiB). */
export const MAX_STREAM_INLINE_BYTES = 4 * 1024 * 1024

export interface InlineObject { key: string, info: SourceObjectInfo, parts: Buffer[] }

export interface SourceStreamBatch {
  objects: InlineObject[]
  references: SourceObjectInfo[]
  tombstones: SourceObjectInfo[]
  /** The last key the batch covers; the marker it began after if it covers none. */
  resumeMarker: string
  /** No key of the shard after resumeMarker. */
  done: boolean
}

export interface StreamShardOptions {
  includeDeleted: boolean
  /** Content inlined per batch, about (0: none). */
  inlineMaxBytes: number
  /** Live entries of this origin site are references, never inline ('' or absent: none). SourceApi validates it. */
  referenceOriginSite?: string
  signal?: AbortSignal
}

/**
 * Opens the stream: `start` is the shard's split state now (the caller's
 * QuerySplitState answer: it throws BUCKET_NOT_FOUND / SHARD_NOT_FOUND), and
 * the batches are read from an iterator opened when the first one is asked
 * for (a generator never started holds nothing open).
 */
export function openShardStream (store: ObjectStore, start: SplitStateAnswer, bucket: string, shard: number, marker: string, opts: StreamShardOptions): { start: SplitStateAnswer, batches: AsyncGenerator<SourceStreamBatch> } {
  return { start, batches: batches(store, bucket, start.bucketId, shard, marker, opts) }
}

async function * batches (store: ObjectStore, bucket: string, bucketId: string, shard: number, marker: string, opts: StreamShardOptions): AsyncGenerator<SourceStreamBatch> {
  const inlineMax = Math.max(0, Math.min(opts.inlineMaxBytes, MAX_STREAM_INLINE_BYTES))
  const ownOrigin = opts.referenceOriginSite ?? ''
  let last = marker
  const scan = new IndexScan(store.db, bucketId, shard, marker)
  try {
    for (;;) {
      if (opts.signal?.aborted === true) return
      const taken = await scan.take(STREAM_BATCH_ENTRIES)
      const inline: ScannedEntry[] = []
      const references: SourceObjectInfo[] = []
      const tombstones: SourceObjectInfo[] = []
      let budget = inlineMax
      let used = 0
      for (; used < taken.length; used++) {
        const { key, entry } = taken[used]
        if (entry.deleted === true) {
          if (opts.includeDeleted) tombstones.push({ key, size: entry.size, etag: entry.etag, mtime: entry.mtime, site: entry.site })
        } else if (entry.size <= INLINE_OBJECT_BYTES && inlineMax > 0 && (ownOrigin === '' || entry.site !== ownOrigin)) {
          // The batch ends where its content would pass the cap (one object always fits).
          if (entry.size > budget && inline.length > 0) break
          budget -= entry.size
          inline.push(taken[used])
        } else {
          references.push({ key, size: entry.size, etag: entry.etag, mtime: entry.mtime, site: entry.site })
        }
        last = key
      }
      if (used < taken.length) scan.putBack(taken.slice(used))
      const objects = await readInline(store, bucket, inline, references)
      const done = await scan.exhausted()
      yield { objects, references, tombstones, resumeMarker: last, done }
      if (done) return
    }
  } finally {
    await scan.close()
  }
}

/** The current heads and content of the entries to inline; large ones become references, gone ones are skipped. */
async function readInline (store: ObjectStore, bucket: string, entries: ScannedEntry[], references: SourceObjectInfo[]): Promise<InlineObject[]> {
  if (entries.length === 0) return []
  const heads = await store.getHeads(bucket, entries.map(e => e.key))
  const data = await store.readSmallMany(heads)
  const out: InlineObject[] = []
  for (let i = 0; i < entries.length; i++) {
    const head = heads[i]
    if (head === undefined || head.deleted === true) continue
    const key = entries[i].key
    const parts = data[i]
    if (parts !== undefined) out.push({ key, info: infoOf(key, head), parts })
    else if (!isSmall(head)) references.push(infoOf(key, head))
  }
  return out
}
