/**
 * The streaming path of full sync: one source shard read over one
 * StreamShard call from the saved marker, instead of ListIndex pages and a
 * FetchObjects call per page (the listed path in shard-sync.ts).
 *
 * Called by fullSyncShard (node/sync/shard-sync.ts) between its two split
 * checks (QuerySplitState before the first batch, and again before the
 * shard is declared done); it owns nothing but the stream it reads. Per
 * batch, as per listed page:
 *   - inline objects go through ObjectTransfer.applyObjects (the store's
 *     replica path: crc32/etag checked, last writer wins);
 *   - references (large objects, and every object of the target's own
 *     site: the source sends those as references, reference_origin_site,
 *     as the target normally holds them) are fetched windowed by
 *     copyNewer, which fetches only what is newer than the local copy (all
 *     of them on a site rebuilt empty under its old id);
 *   - tombstones go through applyTombstones (last writer wins, also where
 *     the target holds nothing: invariant 17);
 *   - then the caller saves the batch's resume marker (a crash resumes
 *     after it) and starts new shards the source confirms.
 * The next batch streams in while one is applied (gRPC flow control holds
 * the source back beyond the client's read-ahead), so memory stays bounded
 * by a batch or two per shard.
 */
import { ShardsyncError } from '../../storage/errors'
import type { SourceClient } from './source-client'
import type { ObjectTransfer } from './transfer'
import { notListable } from './shard-guard'

/** Content inlined per batch: the source sends it in messages of about 256 KiB. */
export const STREAM_INLINE_BYTES = 1024 * 1024

/** 'done': the shard's last batch was applied; 'unsupported': the source has no StreamShard; 'splitting': its start state says not now. */
export type StreamOutcome = 'done' | 'unsupported' | 'splitting'

export interface StreamRange {
  client: SourceClient
  transfer: ObjectTransfer
  /** This node's site id: the source sends the entries of this origin as references. */
  localSite: string
  srcBucket: string
  localBucket: string
  shard: number
  marker: string
  /** Tombstones with the batches, and the start state checked (split-aware mode). */
  splitAware: boolean
  /** After each batch is applied: save `marker` with the counts, then start confirmed new shards. */
  afterBatch: (marker: string, listed: number, applied: number, bytes: number, deleted: number) => Promise<void>
}

/** Streams the shard from r.marker to its end; throws if the stream fails or ends early (progress is saved up to the last batch). */
export async function streamShardRange (r: StreamRange): Promise<StreamOutcome> {
  if (r.client.streamShard === undefined) return 'unsupported'
  const events = r.client.streamShard(r.srcBucket, r.shard, r.marker, { includeDeleted: r.splitAware, inlineMaxBytes: STREAM_INLINE_BYTES, referenceOriginSite: r.localSite })
  for await (const ev of events) {
    if (ev.kind === 'unsupported') return 'unsupported'
    if (ev.kind === 'start') {
      if (r.splitAware && notListable(ev.state) !== undefined) return 'splitting'
      continue
    }
    const b = ev.batch
    const [inline, fetched, deleted] = await Promise.all([
      r.transfer.applyObjects(r.localBucket, b.objects),
      r.transfer.copyNewer(r.localBucket, r.srcBucket, b.references),
      r.transfer.applyTombstones(r.localBucket, b.tombstones)
    ])
    await r.afterBatch(b.resumeMarker, b.objects.length + b.references.length, inline.applied + fetched.applied, inline.bytes + fetched.bytes, deleted)
    if (b.done) return 'done'
  }
  throw ShardsyncError.upstreamUnavailable('StreamShard ended before its last batch')
}
