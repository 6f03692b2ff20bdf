/**
 * First contact of a target with one source bucket: its source bucket
 * record (r!<site>!<bucketId>) and a progress object for every shard the
 * source has now (the seed: "at the start of syncing, an object for each
 * initial source shard").
 *
 * Called by BucketSync (node/sync/bucket-sync.ts) before its first round.
 * The local bucket exists (PeerSync made it by the lifecycle rule), except
 * for the protocol model's in-memory source, where the bucket of the
 * source's name is used, created here if missing. Sync state left from
 * another local bucket, or half released, is released first.
 */
import type { Logger } from 'pino'
import { isShardsyncError } from '../../storage/errors'
import { replicaInitialShards, type ObjectStore } from '../../storage/object-store'
import type { ProgressStore, SourceBucketRecord } from '../../storage/progress-store'
import { isFilling } from './shard-guard'
import type { SourceBucket, SourceClient } from './source-client'

export interface FirstContactDeps { client: SourceClient, store: ObjectStore, progress: ProgressStore }

/** The source bucket's record, and the id of the local bucket it syncs into (undefined: a record from before local bucket ids, of a bucket gone). */
export async function firstContact (deps: FirstContactDeps, source: SourceBucket, localBucketId: string | undefined, log: Logger): Promise<{ record: SourceBucketRecord, localBucketId: string | undefined }> {
  const { progress, client, store } = deps
  const existing = await progress.getSourceBucket(client.peerId, source.id)
  if (existing !== undefined) {
    // Records from before local bucket ids name the bucket only.
    const localId = existing.localBucketId ?? store.getBucket(existing.bucket)?.id
    if (localBucketId === undefined && localId !== undefined) localBucketId = localId
    if (localId === localBucketId) return { record: existing, localBucketId }
  }
  await progress.release(client.peerId, source.id)
  const { shards } = await client.listShards(source.name)
  if (localBucketId === undefined) {
    if (store.getBucket(source.name) === undefined) {
      try {
        await store.createBucket({ name: source.name, initialShards: replicaInitialShards(shards.reduce((n, s) => n + s.indexCount, 0), store.options.defaults) })
      } catch (err) {
        if (!isShardsyncError(err, 'BUCKET_EXISTS')) throw err
      }
    }
    localBucketId = store.bucketState(source.name).record.id
  }
  const record: SourceBucketRecord = {
    site: client.peerId,
    srcBucketId: source.id,
    srcName: source.name,
    bucket: source.name,
    localBucketId,
    initialShardCount: shards.length,
    knownShardCount: shards.length,
    startedMs: Date.now()
  }
  // A shard still being filled by a split is not started now: listed early
  // it would miss the entries that move in later (migration writes no log).
  // It is started with logStart 0 once its parent lists it as a child.
  const filling = shards.filter(s => isFilling(shards, s)).map(s => s.shard)
  await progress.startSourceBucket(record, filling)
  log.info({ shards: shards.length }, 'bucket sync started: progress objects created for every source shard')
  return { record, localBucketId }
}
