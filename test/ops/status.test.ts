/**
 * `shardsync status` (and AdminService.SyncStatus behind it) through the
 * life of a sync: during a throttled full sync, after a split on the source
 * forced while the target lists, and once caught up. The human output puts
 * one summary line per peer first; `--json` and the gRPC call give the same.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import type { SyncStatusResponse__Output } from '../../node/rpc/generated/shardsync/v1/SyncStatusResponse'
import type { PeerSyncStatus__Output } from '../../node/rpc/generated/shardsync/v1/PeerSyncStatus'
import { connectOneWay, runCli } from '../../scripts/lib/cluster'
import { makeBucket, makeKeys, putMany, split, startSites, stopwatch, waitConverged, waitFor, type NodeProcess } from '../sync/helpers'

async function statusJson (node: NodeProcess): Promise<SyncStatusResponse__Output> {
  const r = await runCli(['status', '--node', node.address, '--json'], { timeoutMs: 30_000 })
  if (r.code !== 0) throw new Error(`status --json exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as SyncStatusResponse__Output
}

async function grpcStatus (node: NodeProcess): Promise<SyncStatusResponse__Output> {
  return await callUnary<object, SyncStatusResponse__Output>(node.clients.admin, 'SyncStatus', {})
}

function peerOf (s: SyncStatusResponse__Output, peer: string): PeerSyncStatus__Output | undefined {
  return s.peers.find(p => p.peer === peer)
}

t.test('status: full sync, split, caught up', async t => {
  const lap = stopwatch(t)
  const [src, tgt] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--sync-rate', '100'] }])
  const bucket = 'status-b'
  await makeBucket(src, bucket, { shards: 2 })
  const N = 800
  await putMany(src.clients, bucket, makeKeys('k-', N), { size: 64 })
  lap(`${N} objects on src`)
  await connectOneWay(src, tgt)

  // ---- during full sync (target throttled at 100 objects/s) ----
  const during = await waitFor(async () => {
    const s = await statusJson(tgt)
    const p = peerOf(s, 'src')
    const b = p?.buckets.find(b => b.bucket === bucket)
    const sh = b?.shardStatus.find(x => x.state === 'full' && x.listed < x.sourceIndexCount && x.sourceIndexCount > 0)
    return sh !== undefined ? { s, p: p as PeerSyncStatus__Output, sh } : undefined
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'tgt status to show a shard of src in full sync' })
  lap('observed full sync in status --json')
  t.equal(during.s.siteId, 'tgt', 'siteId is the target')
  t.equal(during.p.caughtUp, false, 'not caught up during full sync')
  t.match(during.p.summary, /shards behind/, `summary during full sync says shards behind: "${during.p.summary}"`)
  t.ok(during.p.shardsBehind > 0, 'shardsBehind > 0 during full sync')
  t.equal(during.p.address, src.address, 'peer address is the source address')
  const b0 = during.p.buckets.find(b => b.bucket === bucket)
  t.ok(b0 !== undefined && b0.shardsFull > 0, 'bucket counts shards in full sync')
  t.ok(b0 !== undefined && b0.shards === b0.shardsFull + b0.shardsIncremental, 'shards = full + incremental')
  t.ok(during.sh.listed < during.sh.sourceIndexCount, `listed ${during.sh.listed} < sourceIndexCount ${during.sh.sourceIndexCount}`)
  t.equal(during.sh.entriesBehind, 0, 'entriesBehind is 0 for a shard in full state (only meaningful for incremental)')

  // The human output while behind: the per-peer summary line comes first.
  const human = await runCli(['status', '--node', tgt.address], { timeoutMs: 30_000 })
  t.equal(human.code, 0, 'status (human) exits 0')
  const lines = human.stdout.split('\n')
  t.match(lines[0], /^site tgt: 1 peers; notices received \d+/, 'first line: site summary')
  t.match(lines[1], new RegExp(`^  src \\(${src.address.replace(/\./g, '\\.')}\\): .+$`), 'second line: one-line summary of peer src')
  t.ok(lines.findIndex(l => l.startsWith('peer src')) > 1, 'detail of the peer comes after the summary lines')

  // ---- split on the source while the target is still listing ----
  const shardToSplit = during.sh.shard
  const sp = await split(src, bucket, shardToSplit)
  lap(`split src shard ${shardToSplit} -> ${sp.newShard} (moved ${sp.moved})`)
  const afterSplit = await waitFor(async () => {
    const s = await statusJson(tgt)
    const b = peerOf(s, 'src')?.buckets.find(b => b.bucket === bucket)
    const parent = b?.shardStatus.find(x => x.shard === shardToSplit)
    const child = b?.shardStatus.find(x => x.shard === sp.newShard)
    if (parent === undefined || child === undefined) return undefined
    if (![...parent.newShardsByNotice, ...parent.newShardsByPull].includes(sp.newShard)) return undefined
    return { parent, child }
  }, { timeoutMs: 60_000, intervalMs: 150, what: 'tgt status to show the new shard under its parent' })
  lap('status shows the split')
  t.ok([...afterSplit.parent.newShardsByNotice, ...afterSplit.parent.newShardsByPull].includes(sp.newShard),
    `parent ${shardToSplit}: newShardsByNotice ${JSON.stringify(afterSplit.parent.newShardsByNotice)} / byPull ${JSON.stringify(afterSplit.parent.newShardsByPull)} has ${sp.newShard}`)
  t.match(afterSplit.child.foundBy, /^(notice|pull)$/, `new shard ${sp.newShard} foundBy ${afterSplit.child.foundBy}`)
  t.equal(afterSplit.parent.foundBy, 'initial', 'an original shard is foundBy initial')
  if (afterSplit.parent.newShardsByNotice.includes(sp.newShard)) t.equal(afterSplit.child.foundBy, 'notice', 'found by notice: child says notice')

  // ---- caught up ----
  const done = await waitFor(async () => {
    const s = await statusJson(tgt)
    const p = peerOf(s, 'src')
    return p?.caughtUp === true ? s : undefined
  }, { timeoutMs: 60_000, intervalMs: 250, what: 'tgt to be caught up with src' })
  lap('caught up')
  await waitConverged(src, tgt, bucket, { timeoutMs: 30_000 })
  const p = peerOf(done, 'src') as PeerSyncStatus__Output
  t.equal(p.summary, 'caught up', 'summary says caught up')
  t.equal(p.shardsBehind, 0, 'shardsBehind 0')
  t.equal(p.lastError, '', 'no last error')
  const b = p.buckets.find(b => b.bucket === bucket)
  t.ok(b !== undefined, 'bucket listed in status')
  if (b !== undefined) {
    t.equal(b.shards, 3, 'three source shards (two + one split)')
    t.equal(b.shardsFull, 0, 'no shard in full sync')
    t.equal(b.shardsIncremental, b.shards, 'all shards incremental')
    t.equal(b.entriesBehind, 0, 'bucket entriesBehind 0')
    t.equal(b.shardsBehind, 0, 'bucket shardsBehind 0')
    t.same(b.shardStatus.filter(s => s.state !== 'incremental' || s.entriesBehind !== 0).map(s => s.shard), [], 'every shard incremental with entriesBehind 0')
    t.same(b.shardStatus.filter(s => s.logCursor !== s.logHead).map(s => s.shard), [], 'logCursor = logHead on every shard')
    t.same([...b.shardStatus.map(s => s.shard)].sort((x, y) => x - y), [0, 1, sp.newShard].sort((x, y) => x - y), 'shard ids are the source\'s')
  }
  t.equal(Number(p.objectsSynced), N, `objectsSynced = ${N} (each object applied once)`)

  // Human output once caught up.
  const human2 = await runCli(['status', '--node', tgt.address], { timeoutMs: 30_000 })
  const l2 = human2.stdout.split('\n')
  t.equal(l2[1], `  src (${src.address}): caught up`, 'summary line says caught up')

  // gRPC SyncStatus equals status --json (stable once caught up).
  const [viaCli, viaGrpc] = [await statusJson(tgt), await grpcStatus(tgt)]
  const norm = (s: SyncStatusResponse__Output): unknown => JSON.parse(JSON.stringify(s))
  t.same(norm(viaGrpc), norm(viaCli), 'SyncStatus via gRPC = status --json')
})
