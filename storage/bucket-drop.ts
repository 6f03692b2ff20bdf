/**
 * Removal of a deleted bucket's storage, page by page, after the batch that
 * deleted its record wrote a drop job (bd!<bucketId>). Called by ObjectStore
 * right after a bucket is dropped and, at open, for every job a crash left.
 * Every page is one batch and the job key goes last, so after kill -9 the
 * job simply runs again; no listing of the bucket is ever held whole.
 *
 * Besides the bucket's own keys (shard headers, heads, index and log
 * entries, tombstone queue, peers' position reports: the bucket held no live object when it was dropped, so no
 * content is left), it releases the sync state tied to it: the target-side
 * source bucket records and progress objects (r!, p!) that copy into it,
 * and the split notices about it still queued for peers (x!).
 */
import { writeBatch, type Database } from './database'
import * as keys from './keys'

const PAGE = 1000

async function clearPrefix (db: Database, prefix: string): Promise<void> {
  for (;;) {
    const page = await db.keys({ ...keys.prefixRange(prefix), limit: PAGE }).all()
    if (page.length === 0) return
    await writeBatch(db, page.map(key => ({ type: 'del' as const, key })))
  }
}

/** Deletes one source bucket's record, then its progress objects and tail skips (r! first: see ProgressStore.release). */
export async function releaseSourceBucket (db: Database, site: string, srcBucketId: string): Promise<void> {
  await db.del(keys.sourceBucketKey(site, srcBucketId))
  await clearPrefix(db, keys.progressPrefix(site, srcBucketId))
  // Left by a crash before this line, it is still true (a source's log never changes), and unread once released.
  await db.del(keys.tailSkipsKey(site, srcBucketId))
}

export async function runDropJob (db: Database, bucketId: string): Promise<void> {
  for (const prefix of [keys.shardsPrefix(bucketId), keys.headPrefix(bucketId), keys.bucketLogPrefix(bucketId), keys.bucketIndexPrefix(bucketId), keys.bucketTombstoneQueuePrefix(bucketId), keys.bucketPositionsPrefix(bucketId)]) {
    await clearPrefix(db, prefix)
  }
  // Source buckets copied into this one (few: peers x buckets).
  const sources: Array<{ site: string, srcBucketId: string }> = []
  for await (const v of db.values(keys.prefixRange(keys.SOURCE_BUCKETS_PREFIX))) {
    const r = v as { site: string, srcBucketId: string, localBucketId?: string }
    if (r.localBucketId === bucketId) sources.push(r)
  }
  for (const s of sources) await releaseSourceBucket(db, s.site, s.srcBucketId)
  // Split notices naming it ("site:bucketId:shard:newShard"), page by page.
  let after = keys.OUTBOX_PREFIX
  for (;;) {
    const page = await db.iterator({ gt: after, lt: keys.prefixRange(keys.OUTBOX_PREFIX).lt, limit: PAGE }).all()
    if (page.length === 0) break
    after = page[page.length - 1][0]
    const stale = page.filter(([, v]) => String((v as { notice?: string }).notice ?? '').split(':')[1] === bucketId)
    if (stale.length > 0) await writeBatch(db, stale.map(([key]) => ({ type: 'del' as const, key })))
  }
  await db.del(keys.bucketDropKey(bucketId))
}

export async function pendingDropJobs (db: Database): Promise<string[]> {
  const out: string[] = []
  for await (const key of db.keys(keys.prefixRange(keys.BUCKET_DROPS_PREFIX))) out.push(key.slice(keys.BUCKET_DROPS_PREFIX.length))
  return out
}
