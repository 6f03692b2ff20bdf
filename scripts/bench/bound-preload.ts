/**
 * Preloaded (NODE_OPTIONS=--require) into the measured nodes of
 * `npm run bench -- --only baseline,fullsync --bound target|both`: an
 * experiment that bounds what full sync could reach on this machine if the
 * storage work at its ends cost nothing. It is NOT a sync (nothing is
 * checked, indexed or logged, and what the source sends is made up), so the
 * bench judges no target in a bound run and its JSON says so (meta.bound).
 *
 * BENCH_BOUND_ROLE, set per node by the bench (scripts/bench/common.ts):
 * - 'target': the target does no more storage work than the bare copy's
 *   receiver: ObjectStore.getHeads answers "absent" without reading (so
 *   every listed object is fetched), and applyReplicaObjects writes each
 *   object's content as one LevelDB record in one batch per group, with no
 *   checksum, head, index entry, log entry or read, and counts it in the
 *   bucket's in-memory object count (which the bench polls).
 * - 'source' (only with --bound both): SourceApi.fetchObjects answers every
 *   key with BENCH_BOUND_BYTES bytes of made-up content without reading
 *   anything. Listing (ListIndex) is the real one. On the stream path,
 *   SourceApi.streamShard walks the shard's index for real (one iterator,
 *   storage/index-scan.ts) and sends every live entry inline with that
 *   made-up content, reading no head and no chunk.
 * What is left is the protocol itself: listing or the stream, FetchObjects
 * over grpc-js, encoding and decoding, and the sync loop.
 *
 * Large objects (over BLOB_MIN_BYTES; `--only large --bound ...`): the
 * bare copy's receiver writes each into a file of its own and fdatasyncs
 * it, so the target role does that (BlobStore.writeWhole) instead of the
 * record, still with no checksum, marker, head, index or log. The source
 * role sends BENCH_BOUND_BYTES of made-up content over the large-object
 * path: on the stream, references (info only, as for any large object),
 * and from FetchObjects the info then data messages of 1 MiB pieces, each a
 * new buffer with DATA_HEADROOM in front (as a file read gives), filled
 * with a constant instead of read.
 */
import { INLINE_OBJECT_BYTES, SourceApi } from '../../node/source-api'
import { DATA_HEADROOM } from '../../node/rpc/encoded-message'
import { BLOB_MIN_BYTES } from '../../storage/blob-store'
import type { SourceStreamBatch, StreamShardOptions } from '../../node/source-stream'
import { IndexScan } from '../../storage/index-scan'
import { writeBatch, type BatchOp } from '../../storage/database'
import * as keys from '../../storage/keys'
import { ObjectStore, type ReplicaObject } from '../../storage/object-store'
import type { MutationResult } from '../../storage/bucket-writer'

const role = process.env.BENCH_BOUND_ROLE
let nextId = 0

if (role === 'target') {
  ObjectStore.prototype.getHeads = async function (_bucket: string, objectKeys: string[]) {
    return objectKeys.map(() => undefined)
  }
  ObjectStore.prototype.applyReplicaObjects = async function (this: ObjectStore, bucket: string, objects: ReplicaObject[]): Promise<MutationResult[]> {
    const state = this.bucketState(bucket)
    const large = objects.filter(o => byteLength(o.data) > BLOB_MIN_BYTES)
    const ops = objects.filter(o => byteLength(o.data) <= BLOB_MIN_BYTES).map(o => ({ type: 'put', key: keys.chunkKey(`bound${nextId++}`, 0), value: o.data, valueEncoding: 'buffer' }) as BatchOp)
    await Promise.all([
      ops.length > 0 ? writeBatch(this.db, ops) : undefined,
      ...large.map(async o => { await this.blobs.writeWhole(`bound${process.pid}x${nextId++}`, o.data) })
    ])
    state.record = { ...state.record, objectCount: state.record.objectCount + objects.length }
    return objects.map(o => ({ applied: true, version: o.version, shard: 0, existed: false }))
  }
} else if (role === 'source') {
  const content = Buffer.alloc(Number(process.env.BENCH_BOUND_BYTES ?? 1024), 0x61)
  const large = content.length > INLINE_OBJECT_BYTES
  SourceApi.prototype.fetchObjects = async function * (_bucket: string, objectKeys: string[]) {
    for (const key of objectKeys) {
      const info = { key, size: content.length, etag: 'bound', mtime: 1, site: 'bound' }
      if (large) {
        yield { key, missing: false, info, chunks: pieces(content.length) }
        continue
      }
      const parts = [content]
      yield { key, missing: false, info, parts, chunks: (async function * () { yield content })() }
    }
  }
  SourceApi.prototype.streamShard = function (this: SourceApi, bucket: string, shard: number, marker: string, _opts: StreamShardOptions) {
    const start = this.querySplitState(bucket, shard)
    const store = (this as unknown as { store: ObjectStore }).store
    async function * batches (): AsyncGenerator<SourceStreamBatch> {
      const scan = new IndexScan(store.db, start.bucketId, shard, marker)
      let last = marker
      try {
        for (;;) {
          const taken = await scan.take(1000)
          const live = taken.filter(e => e.entry.deleted !== true)
          const objects = large ? [] : live.map(({ key }) => ({ key, info: { key, size: content.length, etag: 'bound', mtime: 1, site: 'bound', crc32: 0 }, parts: [content] }))
          const references = !large ? [] : live.map(({ key }) => ({ key, size: content.length, etag: 'bound', mtime: 1, site: 'bound' }))
          if (taken.length > 0) last = taken[taken.length - 1].key
          const done = await scan.exhausted()
          yield { objects, references, tombstones: [], resumeMarker: last, done }
          if (done) return
        }
      } finally {
        await scan.close()
      }
    }
    return { start, batches: batches() }
  }
}

function byteLength (data: Buffer | Buffer[]): number {
  return Array.isArray(data) ? data.reduce((n, p) => n + p.length, 0) : data.length
}

/** Made-up content of `size` bytes in 1 MiB pieces, each a new buffer with room in front (as BlobStore.read gives), filled (no stale memory is sent). */
async function * pieces (size: number): AsyncGenerator<Buffer> {
  for (let off = 0; off < size; off += 1024 * 1024) {
    const n = Math.min(1024 * 1024, size - off)
    yield Buffer.allocUnsafeSlow(DATA_HEADROOM + n).subarray(DATA_HEADROOM).fill(0x61)
  }
}
