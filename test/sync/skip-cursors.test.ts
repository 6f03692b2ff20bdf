/**
 * The tail's skips (node/sync/bucket-sync.ts, cursorsToSave): while a site
 * writes, its peer's log grows with those writes, which the site's own
 * tail of that peer leaves out (excludeOrigin) and moves past. Cursors
 * moved only past skipped entries are saved with the next position
 * report, not after every poll: at 10M objects, saving each skip cost the
 * reverse direction of a full sync a progress object per target shard
 * every poll (issue 28). A kill -9 before the report loses only skips,
 * which are read past again; nothing is lost and sync goes on.
 *
 * Fails on saving every skip at once: src's progress objects for tgt,
 * read after the kill, then hold cursors at tgt's log heads; the test
 * asserts they are behind them, once status (which counts the tail's
 * position, saved or not) showed src's tail at those heads.
 *
 * The second test: at a report, the skips are stored as ranges in one
 * record (ts!), not in a progress object per shard, and the report carries
 * them (tgt trims its log of src's changes to its heads). Fails on saving
 * skips into the progress objects at the report: their cursors are then at
 * tgt's heads after the kill; the test asserts they are behind, and that
 * with the stored ranges they are at the heads.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import type { SyncStatusResponse__Output } from '../../node/rpc/generated/shardsync/v1/SyncStatusResponse'
import type { ShardInfo__Output } from '../../node/rpc/generated/shardsync/v1/ShardInfo'
import { connectOneWay, type NodeProcess } from '../../scripts/lib/cluster'
import { openDatabase } from '../../storage/database'
import { ProgressStore, skipPast } from '../../storage/progress-store'
import { makeBucket, makeKeys, putMany, shardList, startSites, waitAllIncremental, waitConverged, waitFor } from './helpers'

/** Writes at src what tgt applies and logs (entries of origin src, which src's tail of tgt skips); tgt's log heads after. */
async function writeSkippedAtTarget (src: NodeProcess, tgt: NodeProcess, bucket: string): Promise<{ heads: ShardInfo__Output[], headTotal: number }> {
  await putMany(src.clients, bucket, makeKeys('b-', 300), { size: 32 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })
  const heads = await shardList(tgt, bucket)
  return { heads, headTotal: heads.reduce((n, s) => n + Number(s.logSeq), 0) }
}

t.test('skip-only cursors wait for the position report; a kill -9 before it loses nothing', async t => {
  const [src, tgt] = await startSites(t, [
    { site: 'src', args: ['--position-report-ms', '600000'] },
    { site: 'tgt' }
  ])
  const bucket = 'skip-b'
  await makeBucket(src, bucket, { shards: 4 })
  await putMany(src.clients, bucket, makeKeys('a-', 200), { size: 32 })
  await connectOneWay(src, tgt)
  await waitAllIncremental(src, tgt, bucket, { timeoutMs: 60_000 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })

  // Written at src, applied at tgt (its log grows with entries of origin src):
  // src's tail of tgt moves past them without applying anything.
  const { heads, headTotal } = await writeSkippedAtTarget(src, tgt, bucket)
  await waitFor(async () => {
    const s = await callUnary<object, SyncStatusResponse__Output>(src.clients.admin, 'SyncStatus', {})
    const peer = s.peers.find(p => p.peer === 'tgt')
    const b = peer?.buckets.find(x => x.bucket === bucket)
    const at = b?.shardStatus.reduce((n, x) => n + Number(x.logCursor), 0)
    return b !== undefined && b.shardsFull === 0 && b.shards === heads.length && at === headTotal ? true : undefined
  }, { timeoutMs: 60_000, what: 'src\'s tail of tgt at tgt\'s log heads in status' })

  await src.kill9()
  const db = await openDatabase(src.dataDir)
  let saved = 0
  try {
    for await (const r of new ProgressStore(db).listSite('tgt')) if (r.bucket === bucket) saved += r.logCursor
  } finally {
    await db.close()
  }
  t.ok(saved < headTotal, `saved cursors of src's tail of tgt (${saved} in all) are behind tgt's log heads (${headTotal}): skips wait for the report`)

  await src.restart()
  await putMany(tgt.clients, bucket, makeKeys('c-', 100), { size: 32 })
  await putMany(src.clients, bucket, makeKeys('d-', 100), { size: 32 })
  await waitConverged(tgt, src, bucket, { timeoutMs: 60_000 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })
  t.pass('after the kill -9, both directions converge')
})

t.test('at a report, skips are stored as ranges in one record, and the report carries them', async t => {
  const [src, tgt] = await startSites(t, [
    { site: 'src', args: ['--position-report-ms', '300'] },
    { site: 'tgt', args: ['--log-trim-interval-ms', '300'] }
  ])
  const bucket = 'skip-r'
  await makeBucket(src, bucket, { shards: 4 })
  await putMany(src.clients, bucket, makeKeys('a-', 100), { size: 32 })
  await connectOneWay(src, tgt)
  await connectOneWay(tgt, src)
  await waitAllIncremental(src, tgt, bucket, { timeoutMs: 60_000 })
  await waitAllIncremental(tgt, src, bucket, { timeoutMs: 60_000 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })

  // Applied at tgt, its log grows with entries of origin src, which src's tail of tgt skips.
  const { heads, headTotal } = await writeSkippedAtTarget(src, tgt, bucket)
  // tgt trims its log only up to what src reported durable: to the heads, only if the report carried the skips.
  await waitFor(async () => {
    const now = await shardList(tgt, bucket)
    return now.every((s, i) => Number(s.logFloor) === Number(heads[i].logSeq)) ? true : undefined
  }, { timeoutMs: 60_000, what: 'tgt\'s log trimmed to its heads by src\'s reports' })

  await src.kill9()
  const db = await openDatabase(src.dataDir)
  let saved = 0
  let withSkips = 0
  try {
    const progress = new ProgressStore(db)
    for await (const r of progress.listSite('tgt')) {
      if (r.bucket !== bucket) continue
      const skips = await progress.getTailSkips('tgt', r.srcBucketId)
      saved += r.logCursor
      withSkips += skipPast(r.logCursor, skips.get(r.srcShard))
    }
  } finally {
    await db.close()
  }
  t.ok(saved < headTotal, `src's progress objects for tgt (cursors ${saved} in all) were not rewritten for skips (tgt's heads: ${headTotal})`)
  t.equal(withSkips, headTotal, 'with the stored skip ranges, src\'s cursors are at tgt\'s heads')

  await src.restart()
  await waitFor(async () => {
    const s = await callUnary<object, SyncStatusResponse__Output>(src.clients.admin, 'SyncStatus', {})
    const b = s.peers.find(p => p.peer === 'tgt')?.buckets.find(x => x.bucket === bucket)
    const at = b?.shardStatus.reduce((n, x) => n + Number(x.logCursor), 0)
    return b !== undefined && b.shardsFull === 0 && at === headTotal ? true : undefined
  }, { timeoutMs: 60_000, what: 'src\'s tail of tgt at tgt\'s heads after the restart (no LOG_TRIMMED resync)' })
  await putMany(tgt.clients, bucket, makeKeys('c-', 100), { size: 32 })
  await putMany(src.clients, bucket, makeKeys('d-', 100), { size: 32 })
  await waitConverged(tgt, src, bucket, { timeoutMs: 60_000 })
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })
  t.pass('both directions converge')

  await src.kill9()
  const db2 = await openDatabase(src.dataDir)
  let resyncs = 0
  try {
    for await (const r of new ProgressStore(db2).listSite('tgt')) if (r.bucket === bucket) resyncs += r.resyncs ?? 0
  } finally {
    await db2.close()
  }
  t.equal(resyncs, 0, 'no shard of tgt was full-synced again (the restart resumed from the stored skips)')
})
