/**
 * Every LevelDB key of a shardsync node is built here, and only here.
 *
 * Layout (the node's main LevelDB; '!' separates fields; numbers are fixed-width
 * lower-case hex so that byte order is numeric order; object keys come last
 * so that they may contain any character):
 *
 *   meta                                  node metadata {format, siteId}
 *   b!<bucketName>                        bucket record
 *   bt!<bucketName>!<genId>               bucket tombstone: a deleted generation (storage/bucket-lifecycle.ts)
 *   bd!<bucketId>                         drop job: storage of a deleted bucket, removed page by page
 *   s!<bucketId>!<shard:8>                shard header (split state, counts, lineage)
 *   i!<bucketId>!<shard:8>!<objectKey>    shard index entry (moves on split)
 *   h!<bucketId>!<objectKey>              object head or tombstone (never moves)
 *   d!<dataId>!<chunk:8>                  object data chunk (never moves), in the content database
 *   u!<dataId>                            upload in progress (chunks or blob file written, head not yet)
 *   g!<dataId>                            blob file made garbage by a commit, not yet removed
 *   l!<bucketId>!<shard:8>!<seq:16>       sync log entry, on the shard where the change happened
 *   p!<siteId>!<srcBucketId>!<srcShard:8> sync progress object (target side), named as in the seed
 *   r!<siteId>!<srcBucketId>              source bucket record (target side): name, local bucket
 *   ts!<siteId>!<srcBucketId>             tail skips (target side): per source shard, a range of its log
 *                                         that holds only this site's own changes (storage/progress-store.ts)
 *   w!<seq:16>                            write-ahead intent of a commit that adds or drops content:
 *                                         {a: added, d: dropped: [[dataId, chunks]], c: committed} (storage/content-store.ts)
 *   x!<peerId>!<seq:16>                   outbox: split notice waiting for the peer's ack
 *   peer!<peerId>                         peer added at run time
 *   probe                                 write probe of the disk-space guard (node/space-guard.ts):
 *                                         put and deleted in one batch, in both databases, never read
 *   q!<bucketId>!<peerId>                 (source side) a peer's newest position report on the bucket:
 *                                         positions per shard, its heads, its bucket id (node/log-trimmer.ts)
 *   t!<bucketId>!<shard:8>!<seq:16>       tombstone queue: a delete logged as entry (shard, seq), waiting
 *                                         to be collected: {key, mtime, site} (storage/log-trim.ts)
 *   mu!<uploadId>                         S3 multipart upload in progress (storage/multipart-store.ts)
 *   mp!<uploadId>!<part:8>                one uploaded part of it: {dataId, size, etag}; content in a blob file
 *
 * The d! chunks are in the content database (DIR/content,
 * storage/content-store.ts), which holds nothing else.
 *
 * Bucket ids, data ids and site ids never contain '!' or ':' (see
 * storage/validate.ts); bucket names cannot by the S3 rules.
 */

const SEP = '!'
/** The character right after SEP: `prefix.slice(0, -1) + END` bounds a range. */
const END = '"'

export interface KeyRange { gt: string, lt: string }

export function hex8 (n: number): string {
  return n.toString(16).padStart(8, '0')
}

export function hex16 (n: number): string {
  return n.toString(16).padStart(16, '0')
}

/** All keys that start with `prefix`, which must end in SEP. */
export function prefixRange (prefix: string): KeyRange {
  return { gt: prefix, lt: prefix.slice(0, -1) + END }
}

export const META_KEY = 'meta'

export function bucketKey (name: string): string { return `b${SEP}${name}` }
export const BUCKETS_PREFIX = `b${SEP}`
export function bucketTombstoneKey (name: string, genId: string): string { return `bt${SEP}${name}${SEP}${genId}` }
export const BUCKET_TOMBSTONES_PREFIX = `bt${SEP}`
export function bucketDropKey (bucketId: string): string { return `bd${SEP}${bucketId}` }
export const BUCKET_DROPS_PREFIX = `bd${SEP}`

export function shardKey (bucketId: string, shard: number): string { return `s${SEP}${bucketId}${SEP}${hex8(shard)}` }
export function shardsPrefix (bucketId: string): string { return `s${SEP}${bucketId}${SEP}` }

export function indexPrefix (bucketId: string, shard: number): string { return `i${SEP}${bucketId}${SEP}${hex8(shard)}${SEP}` }
export function indexKey (bucketId: string, shard: number, objectKey: string): string { return indexPrefix(bucketId, shard) + objectKey }
export function bucketIndexPrefix (bucketId: string): string { return `i${SEP}${bucketId}${SEP}` }

export function headPrefix (bucketId: string): string { return `h${SEP}${bucketId}${SEP}` }
export function headKey (bucketId: string, objectKey: string): string { return headPrefix(bucketId) + objectKey }

export function chunkPrefix (dataId: string): string { return `d${SEP}${dataId}${SEP}` }
export function chunkKey (dataId: string, chunk: number): string { return chunkPrefix(dataId) + hex8(chunk) }
export const CHUNKS_PREFIX = `d${SEP}`

export function intentKey (seq: number): string { return `w${SEP}${hex16(seq)}` }
export const INTENTS_PREFIX = `w${SEP}`

export function uploadKey (dataId: string): string { return `u${SEP}${dataId}` }
export const UPLOADS_PREFIX = `u${SEP}`

export function garbageKey (dataId: string): string { return `g${SEP}${dataId}` }
export const GARBAGE_PREFIX = `g${SEP}`

export function logPrefix (bucketId: string, shard: number): string { return `l${SEP}${bucketId}${SEP}${hex8(shard)}${SEP}` }
export function logKey (bucketId: string, shard: number, seq: number): string { return logPrefix(bucketId, shard) + hex16(seq) }
export function bucketLogPrefix (bucketId: string): string { return `l${SEP}${bucketId}${SEP}` }

export function progressPrefix (siteId: string, srcBucketId: string): string { return `p${SEP}${siteId}${SEP}${srcBucketId}${SEP}` }
export function progressKey (siteId: string, srcBucketId: string, srcShard: number): string { return progressPrefix(siteId, srcBucketId) + hex8(srcShard) }
export function siteProgressPrefix (siteId: string): string { return `p${SEP}${siteId}${SEP}` }
export const PROGRESS_PREFIX = `p${SEP}`

export function sourceBucketKey (siteId: string, srcBucketId: string): string { return `r${SEP}${siteId}${SEP}${srcBucketId}` }
export function tailSkipsKey (siteId: string, srcBucketId: string): string { return `ts${SEP}${siteId}${SEP}${srcBucketId}` }
export function sourceBucketsPrefix (siteId: string): string { return `r${SEP}${siteId}${SEP}` }
export const SOURCE_BUCKETS_PREFIX = `r${SEP}`

export function outboxKey (peerId: string, seq: number): string { return `x${SEP}${peerId}${SEP}${hex16(seq)}` }
export function outboxPrefix (peerId: string): string { return `x${SEP}${peerId}${SEP}` }
export const OUTBOX_PREFIX = `x${SEP}`

export function peerKey (peerId: string): string { return `peer${SEP}${peerId}` }

/** The disk-space guard's write probe (put and deleted at once). */
export function probeKey (): string { return 'probe' }
export const PEERS_PREFIX = `peer${SEP}`

export function positionReportKey (bucketId: string, peerId: string): string { return `q${SEP}${bucketId}${SEP}${peerId}` }
export function bucketPositionsPrefix (bucketId: string): string { return `q${SEP}${bucketId}${SEP}` }
export const POSITIONS_PREFIX = `q${SEP}`

export function tombstoneQueueKey (bucketId: string, shard: number, seq: number): string { return `t${SEP}${bucketId}${SEP}${hex8(shard)}${SEP}${hex16(seq)}` }
export function tombstoneQueuePrefix (bucketId: string, shard: number): string { return `t${SEP}${bucketId}${SEP}${hex8(shard)}${SEP}` }
export function bucketTombstoneQueuePrefix (bucketId: string): string { return `t${SEP}${bucketId}${SEP}` }
/** The shard of a tombstone queue key of the bucket. */
export function tombstoneQueueShard (bucketId: string, key: string): number {
  const at = bucketTombstoneQueuePrefix(bucketId).length
  return parseInt(key.slice(at, at + 8), 16)
}

export function multipartKey (uploadId: string): string { return `mu${SEP}${uploadId}` }
export const MULTIPARTS_PREFIX = `mu${SEP}`
export function partPrefix (uploadId: string): string { return `mp${SEP}${uploadId}${SEP}` }
export function partKey (uploadId: string, part: number): string { return partPrefix(uploadId) + hex8(part) }

/**
 * First characters of the main database's keys that are never read by key,
 * only scanned: index entries (read by key only for a key moving while its
 * shard splits) and log entries. LevelDB's Bloom filters leave them out
 * (storage/database.ts, keyFilter), which spares two thirds of the filter
 * memory of every open table; a get of such a key reads a block, as it
 * would without filters, and finds the same answer.
 */
export const SCANNED_KEY_KINDS = 'il'

/** The object key at the end of an index or head key, given its prefix. */
export function suffixAfter (prefix: string, key: string): string { return key.slice(prefix.length) }

/** The number at the end of a log or outbox key. */
export function trailingHex (key: string): number { return parseInt(key.slice(key.lastIndexOf(SEP) + 1), 16) }
