/**
 * Three sites, each syncing from the other two (connectAll). A write to A
 * reaches B and C with A's version and is applied once on each (the copy
 * reachable through the third site is skipped as equal); writes on every
 * site converge everywhere; and nothing loops: once converged, the sites'
 * change logs (sum of ListShards log_seq) and applied counters stay still.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import type { SyncStatusResponse__Output } from '../../node/rpc/generated/shardsync/v1/SyncStatusResponse'
import type { ObjectInfo__Output } from '../../node/rpc/generated/shardsync/v1/ObjectInfo'
import { connectAll } from '../../scripts/lib/cluster'
import {
  bucketInfo, diffListings, isEmptyDiff, listing, makeBucket, makeKeys, putMany, shardList, startSites, stopwatch, verifyDeep, waitConverged, waitFor, type NodeProcess
} from '../sync/helpers'

async function syncStatus (n: NodeProcess): Promise<SyncStatusResponse__Output> {
  return await callUnary<object, SyncStatusResponse__Output>(n.clients.admin, 'SyncStatus', {})
}

/** Objects the node applied, per peer it syncs from. */
async function applied (n: NodeProcess): Promise<Record<string, number>> {
  const s = await syncStatus(n)
  return Object.fromEntries(s.peers.map(p => [p.peer, Number(p.objectsSynced)]))
}

function sum (r: Record<string, number>): number { return Object.values(r).reduce((a, b) => a + b, 0) }

async function logSeqSum (n: NodeProcess, bucket: string): Promise<number> {
  return (await shardList(n, bucket)).reduce((a, s) => a + Number(s.logSeq), 0)
}

async function allCaughtUp (nodes: NodeProcess[]): Promise<boolean> {
  for (const n of nodes) {
    const s = await syncStatus(n)
    if (s.peers.length !== nodes.length - 1 || !s.peers.every(p => p.caughtUp)) return false
  }
  return true
}

t.test('ring of three: once each, convergence, no ping-pong', async t => {
  const lap = stopwatch(t)
  const args = ['--shards', '2']
  const nodes = await startSites(t, [{ site: 'A', args }, { site: 'B', args }, { site: 'C', args }])
  const [a, b, c] = nodes
  const bucket = 'ring'
  await makeBucket(a, bucket, { shards: 2 })
  await connectAll(nodes)
  await waitFor(async () => await bucketInfo(b, bucket) !== undefined && await bucketInfo(c, bucket) !== undefined, { what: 'bucket on B and C' })
  await waitFor(async () => await allCaughtUp(nodes), { timeoutMs: 60_000, what: 'all sites caught up on the empty bucket' })
  lap('bucket on all three sites, all caught up')

  // ---- phase 1: only A writes ----
  const N = 300
  const written = await putMany(a.clients, bucket, makeKeys('a-', N))
  const byKey = new Map<string, ObjectInfo__Output>(written.map(i => [i.key, i]))
  await Promise.all([waitConverged(a, b, bucket), waitConverged(a, c, bucket)])
  await waitFor(async () => await allCaughtUp(nodes), { timeoutMs: 60_000, what: 'all caught up after phase 1' })
  lap('phase 1 converged')
  for (const n of [b, c]) {
    const l = await listing(n, bucket)
    const wrong = [...byKey.values()].filter(w => { const x = l.get(w.key); return x === undefined || x.etag !== w.etag || x.originSite !== 'A' || Number(x.mtime) !== Number(w.mtime) })
    t.same(wrong.map(w => w.key).slice(0, 10), [], `${n.spec.site}: every object of A is there with A's etag, mtime and origin`)
    t.equal(l.size, N, `${n.spec.site}: exactly ${N} objects`)
  }
  const ap1 = { A: await applied(a), B: await applied(b), C: await applied(c) }
  t.comment(`applied after phase 1: ${JSON.stringify(ap1)}`)
  t.equal(sum(ap1.B), N, `B applied each of A's ${N} objects once (summed over its peers: ${JSON.stringify(ap1.B)})`)
  t.equal(sum(ap1.C), N, `C applied each of A's ${N} objects once (summed over its peers: ${JSON.stringify(ap1.C)})`)
  t.equal(sum(ap1.A), 0, `A applied none of its own objects back (${JSON.stringify(ap1.A)})`)
  t.equal((ap1.B.A ?? 0) + (ap1.B.C ?? 0), N, 'B: from A plus from C = N')

  // ---- phase 2: every site writes its own keys at once ----
  const M = 200
  const all = await Promise.all(nodes.map(async n => await putMany(n.clients, bucket, makeKeys(`${n.spec.site.toLowerCase()}2-`, M))))
  for (const w of all.flat()) byKey.set(w.key, w)
  for (const [x, y] of [[a, b], [a, c], [b, c]]) await waitConverged(x, y, bucket, { timeoutMs: 60_000 })
  await waitFor(async () => await allCaughtUp(nodes), { timeoutMs: 60_000, what: 'all caught up after phase 2' })
  lap('phase 2 converged')
  for (const n of nodes) {
    const l = await listing(n, bucket)
    const wrong = [...byKey.values()].filter(w => l.get(w.key)?.etag !== w.etag || l.get(w.key)?.originSite !== w.originSite)
    t.same(wrong.map(w => w.key).slice(0, 10), [], `${n.spec.site}: every written object, with its writer's etag and origin`)
    t.equal(l.size, N + 3 * M, `${n.spec.site}: ${N + 3 * M} objects`)
  }
  const ap2 = { A: await applied(a), B: await applied(b), C: await applied(c) }
  t.comment(`applied after phase 2: ${JSON.stringify(ap2)}`)
  t.equal(sum(ap2.A), 2 * M, 'A applied the objects of B and C once each')
  t.equal(sum(ap2.B), N + 2 * M, 'B applied the objects of A and C once each')
  t.equal(sum(ap2.C), N + 2 * M, 'C applied the objects of A and B once each')

  // ---- no ping-pong: logs and counters stand still ----
  const seqs1 = await Promise.all(nodes.map(async n => await logSeqSum(n, bucket)))
  const counts1 = await Promise.all(nodes.map(applied))
  await new Promise(resolve => setTimeout(resolve, 4000)) // observe a quiet period: ~20 sync rounds at 200 ms
  const seqs2 = await Promise.all(nodes.map(async n => await logSeqSum(n, bucket)))
  const counts2 = await Promise.all(nodes.map(applied))
  lap(`quiet period: log_seq sums ${JSON.stringify(seqs1)} -> ${JSON.stringify(seqs2)}`)
  t.same(seqs2, seqs1, 'no site\'s change log grew during a quiet period (no ping-pong)')
  t.same(counts2, counts1, 'no site applied anything during a quiet period')
  t.ok(seqs1.every(s => s > 0), 'log_seq sums are positive')
  // A site's log holds its own writes plus what it applied, nothing more.
  t.ok(seqs1[1] <= N + 3 * M, `B's log (${seqs1[1]}) is no longer than the writes it holds (${N + 3 * M})`)

  // ---- verify --deep between every pair, both ways ----
  const total = N + 3 * M
  for (const [x, y] of [[a, b], [b, a], [a, c], [c, a], [b, c], [c, b]]) {
    const v = await verifyDeep(x, y, bucket)
    t.equal(v.code, 0, `verify --deep ${x.spec.site} -> ${y.spec.site} exits 0`, { stdout: v.stdout.slice(0, 1000) })
    t.match(v.stdout, new RegExp(`^identical: 1 buckets, ${total} objects \\(deep\\)$`, 'm'), `${x.spec.site} -> ${y.spec.site}: identical`)
  }
  const [la, lb, lc] = await Promise.all(nodes.map(async n => await listing(n, bucket)))
  t.ok(isEmptyDiff(diffListings(la, lb)) && isEmptyDiff(diffListings(la, lc)), 'listings identical (etag, size, mtime, origin)')
  lap('verified all pairs')
})
