/**
 * `shardsync wait-synced --node ADDR [--timeout S]`: exit 0 once every peer
 * is caught up (and then the target really holds the source's objects);
 * exit 1 on timeout, both when the target is throttled far behind and when
 * a peer cannot be reached at all.
 */
import t from 'tap'
import { callUnary } from '../../node/rpc/clients'
import { connectOneWay, runCli } from '../../scripts/lib/cluster'
import { diffListings, isEmptyDiff, listing, makeBucket, makeKeys, putMany, startSites, stopwatch, waitFor } from '../sync/helpers'

t.test('wait-synced returns 0 after convergence', async t => {
  const lap = stopwatch(t)
  const [src, tgt] = await startSites(t, [{ site: 'src' }, { site: 'tgt' }])
  const bucket = 'ws-ok'
  await makeBucket(src, bucket, { shards: 2 })
  await putMany(src.clients, bucket, makeKeys('a-', 300))
  await connectOneWay(src, tgt)
  // More writes while it syncs.
  await putMany(src.clients, bucket, makeKeys('b-', 200))
  const started = Date.now()
  const r = await runCli(['wait-synced', '--node', tgt.address, '--timeout', '60'], { timeoutMs: 90_000 })
  lap(`wait-synced took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.equal(r.code, 0, 'wait-synced exits 0', { stderr: r.stderr })
  t.match(r.stderr, /synced: every peer is caught up/, 'says synced')
  const [s, x] = await Promise.all([listing(src, bucket), listing(tgt, bucket)])
  t.equal(s.size, 500, 'source holds 500 objects')
  t.ok(isEmptyDiff(diffListings(s, x)), 'when wait-synced returns 0, the target already holds every source version')
  // Idempotent: once synced it returns at once.
  const again = Date.now()
  const r2 = await runCli(['wait-synced', '--node', tgt.address, '--timeout', '30'], { timeoutMs: 60_000 })
  t.equal(r2.code, 0, 'second wait-synced exits 0')
  t.ok(Date.now() - again < 10_000, `second wait-synced returns quickly (${Date.now() - again} ms)`)
  // The source also syncs the target's copy: it is caught up too.
  const r3 = await runCli(['wait-synced', '--node', src.address, '--timeout', '30'], { timeoutMs: 60_000 })
  t.equal(r3.code, 0, 'wait-synced on the source (peer tgt) exits 0')
})

t.test('wait-synced exits 1 on timeout while the target is throttled behind', async t => {
  const [src, tgt] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--sync-rate', '50'] }])
  const bucket = 'ws-slow'
  await makeBucket(src, bucket, { shards: 2 })
  await putMany(src.clients, bucket, makeKeys('s-', 1000), { size: 32 })
  await connectOneWay(src, tgt)
  const started = Date.now()
  const r = await runCli(['wait-synced', '--node', tgt.address, '--timeout', '2'], { timeoutMs: 30_000 })
  const took = Date.now() - started
  t.equal(r.code, 1, 'wait-synced exits 1', { stderr: r.stderr })
  t.match(r.stderr, /not synced after 2s/, 'says not synced after 2s')
  t.ok(took >= 2000 && took < 10_000, `returned after the timeout, not long after (${took} ms)`)
  const x = await listing(tgt, bucket)
  t.ok(x.size < 1000, `target really was behind (${x.size}/1000)`)
})

t.test('wait-synced exits 1 when a peer is unreachable', async t => {
  const [solo] = await startSites(t, [{ site: 'solo' }])
  await callUnary(solo.clients.admin, 'AddPeer', { id: 'ghost', address: '127.0.0.1:1' })
  const status = await runCli(['status', '--node', solo.address, '--json'], { timeoutMs: 30_000 })
  const peers = (JSON.parse(status.stdout) as { peers: Array<{ peer: string, caughtUp: boolean, summary: string }> }).peers
  t.same(peers.map(p => [p.peer, p.caughtUp]), [['ghost', false]], 'status: ghost peer not caught up')
  t.comment(`ghost summary: ${peers[0]?.summary}`)
  const started = Date.now()
  const r = await runCli(['wait-synced', '--node', solo.address, '--timeout', '2'], { timeoutMs: 30_000 })
  t.equal(r.code, 1, 'wait-synced exits 1', { stderr: r.stderr })
  t.ok(Date.now() - started < 10_000, 'returned soon after the timeout')
})

t.test('wait-synced against an unreachable node fails (non-zero)', async t => {
  const r = await runCli(['wait-synced', '--node', '127.0.0.1:1', '--timeout', '2'], { timeoutMs: 60_000 })
  t.not(r.code, 0, `exits non-zero (${r.code}): ${r.stderr.trim().split('\n')[0]}`)
})

// Regression: a target throttled by --sync-rate used to sleep off a whole
// batch's token debt (500/rate seconds) before it noticed SIGTERM. The rate
// limiter now wakes on the sync's abort signal and takes small batches.
t.test('a throttled target exits promptly on SIGTERM', async t => {
  const [src, tgt] = await startSites(t, [{ site: 'src' }, { site: 'tgt', args: ['--sync-rate', '20'] }])
  const bucket = 'ws-stop'
  await makeBucket(src, bucket, { shards: 2 })
  await putMany(src.clients, bucket, makeKeys('s-', 400), { size: 32 })
  await connectOneWay(src, tgt)
  await waitFor(async () => (await listing(tgt, bucket)).size > 0, { timeoutMs: 30_000, what: 'tgt to start copying' })
  const started = Date.now()
  const code = await tgt.stop()
  const took = Date.now() - started
  t.equal(code, 0, 'exits 0')
  t.ok(took < 3000, `stopped within 3 s of SIGTERM (took ${took} ms)`)
})
