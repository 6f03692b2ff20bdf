/**
 * Chaos: two real nodes syncing both ways under a steady write load with a
 * small split threshold (so shards split on both sides all the time), while
 * each node is SIGKILLed at random moments and restarted on the same port
 * and data directory.
 *
 * Writers (several per site, each with its own key space) retry on errors
 * and record only what PutObject acknowledged. Afterwards: wait-synced on
 * both, every acknowledged write is on both sites with its etag (or with
 * the etag of a later, unacknowledged write of the same writer to the same
 * key, which may have landed), verify --deep is identical both ways, no
 * shard is left SPLITTING, and both outboxes are empty.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { createBucket, putObject } from '../../node/cli/object-commands'
import { callUnary, createClients, type Clients } from '../../node/rpc/clients'
import type { ListObjectsResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListObjectsResponse'
import type { ListShardsResponse__Output } from '../../node/rpc/generated/shardsync/v1/ListShardsResponse'
import type { SyncStatusResponse__Output } from '../../node/rpc/generated/shardsync/v1/SyncStatusResponse'
import { connectAll, NodeProcess, runCli, waitFor } from '../../scripts/lib/cluster'

t.setTimeout(300_000)

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000)
const KILLS_PER_NODE = Number(process.env.CHAOS_KILLS_PER_NODE ?? 6)
const WRITERS_PER_SITE = 3
const BUCKET = 'chaos'
const THRESHOLD = 300

/** Small deterministic PRNG (mulberry32), so a failing schedule can be replayed. */
function prng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6D2B79F5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(SEED)
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

interface KeyState { acked?: string, later: Set<string> }

t.test('two sites, writes both ways, random kill -9 and restart', async t => {
  const started = Date.now()
  t.comment(`chaos seed ${SEED} (replay with CHAOS_SEED=${SEED})`)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-chaos-'))
  const args = ['--shards', '2', '--split-threshold', String(THRESHOLD), '--sync-interval-ms', '200']
  const nodes = ['east', 'west'].map(site => new NodeProcess({ site, args, dataDir: path.join(root, `${site}-data`), logFile: path.join(root, `${site}.log`) }))
  t.teardown(async () => {
    await Promise.all(nodes.map(async n => await n.stop().catch(() => null)))
    if (t.passing()) fs.rmSync(root, { recursive: true, force: true })
    else t.comment(`chaos data and logs kept in ${root}`)
  })
  await Promise.all(nodes.map(async n => await n.start(0)))
  const [east, west] = nodes
  await createBucket(east.clients, BUCKET, { shards: 2, splitThreshold: THRESHOLD, autoSplit: true })
  await connectAll(nodes)
  await waitFor(async () => (await callUnary<object, { buckets: Array<{ name: string }> }>(west.clients.object, 'ListBuckets', {})).buckets.some(b => b.name === BUCKET),
    { timeoutMs: 60_000, what: 'west to create the bucket' })

  // ------------------------------------------------------------ writers
  const ledger = new Map<string, KeyState>() // key -> acked etag (+ later unacked attempts)
  const stats = { attempts: 0, acked: 0, failed: 0, errors: new Map<string, number>() }
  let stop = false
  const writer = async (node: NodeProcess, id: string): Promise<void> => {
    let clients: Clients | undefined
    let keys = 0
    while (!stop) {
      clients ??= createClients(node.address)
      const key = keys === 0 || rand() < 0.7 ? `${id}-${String(keys++).padStart(5, '0')}` : `${id}-${String(Math.floor(rand() * keys)).padStart(5, '0')}`
      const body = crypto.randomBytes(32 + Math.floor(rand() * 200))
      const etag = crypto.createHash('md5').update(body).digest('hex')
      const state = ledger.get(key) ?? { later: new Set<string>() }
      ledger.set(key, state)
      state.later.add(etag)
      stats.attempts++
      try {
        const info = await putObject(clients, BUCKET, key, body)
        if (info.etag !== etag) throw new Error(`etag ${info.etag} != md5 ${etag}`)
        state.acked = etag
        state.later.clear()
        stats.acked++
        await sleep(40 + rand() * 40)
      } catch (err) {
        stats.failed++
        const code = (err as { code?: string }).code ?? String(err)
        stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1)
        // A fresh channel: the old one may sit in reconnect backoff.
        clients.close()
        clients = undefined
        await sleep(50 + rand() * 150)
      }
    }
    clients?.close()
  }
  const writers = nodes.flatMap(n => Array.from({ length: WRITERS_PER_SITE }, async (_, i) => await writer(n, `${n.spec.site}-w${i}`)))

  // ------------------------------------------------------------ killer
  const kills: string[] = []
  const schedule = nodes.flatMap(n => Array.from({ length: KILLS_PER_NODE }, () => n))
  for (let i = schedule.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [schedule[i], schedule[j]] = [schedule[j], schedule[i]] }
  await sleep(1500)
  for (const victim of schedule) {
    await sleep(300 + rand() * 1200)
    const pid = victim.proc?.pid
    await victim.kill9()
    const down = Date.now()
    await sleep(50 + rand() * 450)
    await victim.restart()
    kills.push(`${victim.spec.site}(pid ${pid}, down ${Date.now() - down} ms)`)
  }
  await sleep(1500)
  stop = true
  await Promise.all(writers)
  const loadDone = Date.now()
  t.comment(`kills: ${kills.length}: ${kills.join(', ')}`)
  t.comment(`writes: ${stats.attempts} attempted, ${stats.acked} acknowledged, ${stats.failed} failed (${JSON.stringify(Object.fromEntries(stats.errors))}); ${ledger.size} keys; load phase ${((loadDone - started) / 1000).toFixed(1)} s`)
  t.equal(kills.length, 2 * KILLS_PER_NODE, `${2 * KILLS_PER_NODE} kill -9 + restarts survived`)
  t.ok(stats.acked > 100, 'writes were acknowledged throughout')

  // ------------------------------------------------------------ convergence
  for (const n of nodes) {
    const r = await runCli(['wait-synced', '--node', n.address, '--timeout', '120'], { timeoutMs: 150_000 })
    t.equal(r.code, 0, `wait-synced on ${n.spec.site}`)
    if (r.code !== 0) t.comment(`wait-synced ${n.spec.site}: ${r.stdout.slice(-400)} ${r.stderr.slice(-600)}`)
  }
  // Both directions caught up and both outboxes drained.
  const statusOf = async (n: NodeProcess): Promise<SyncStatusResponse__Output> => await callUnary(n.clients.admin, 'SyncStatus', { summaryOnly: true })
  await waitFor(async () => {
    for (const n of nodes) {
      const s = await statusOf(n)
      if (!s.peers.every(p => p.caughtUp && p.outboxDepth === 0)) return false
    }
    return true
  }, { timeoutMs: 60_000, what: 'both sites caught up with empty outboxes' }).catch(() => undefined)
  for (const n of nodes) {
    const s = await statusOf(n)
    t.same(s.peers.map(p => p.outboxDepth), [0], `outbox depth 0 on ${n.spec.site}`, { peers: s.peers.map(p => ({ peer: p.peer, summary: p.summary, lastError: p.lastError })) })
  }

  const listingOf = async (n: NodeProcess): Promise<Map<string, string>> => {
    const out = new Map<string, string>()
    let startAfter = ''
    for (;;) {
      const page = await callUnary<object, ListObjectsResponse__Output>(n.clients.object, 'ListObjects', { bucket: BUCKET, startAfter, limit: 1000 })
      for (const o of page.objects) out.set(o.key, o.etag)
      if (page.nextStartAfter === '') return out
      startAfter = page.nextStartAfter
    }
  }
  // Sync finishes in the background after wait-synced's last poll; allow for it.
  const check = async (): Promise<{ checked: number, problems: string[] }> => {
    const listings = await Promise.all(nodes.map(listingOf))
    const problems: string[] = []
    let checked = 0
    for (const [key, st] of ledger) {
      if (st.acked === undefined) continue
      checked++
      for (const [i, l] of listings.entries()) {
        const got = l.get(key)
        if (got !== st.acked && (got === undefined || !st.later.has(got))) problems.push(`${nodes[i].spec.site}: ${key} has ${got ?? 'nothing'}, acked ${st.acked}`)
      }
    }
    return { checked, problems }
  }
  let result = await check()
  if (result.problems.length > 0) {
    await waitFor(async () => { result = await check(); return result.problems.length === 0 }, { timeoutMs: 30_000, what: 'acknowledged writes on both sites' }).catch(() => undefined)
  }
  t.same(result.problems.slice(0, 10), [], `every acknowledged write is on both sites (${result.checked} keys checked, ${result.problems.length} problems)`)

  for (const [src, tgt] of [[east, west], [west, east]]) {
    const v = await runCli(['verify', '--source', src.address, '--target', tgt.address, '--deep'], { timeoutMs: 120_000 })
    t.equal(v.code, 0, `verify --deep ${src.spec.site} -> ${tgt.spec.site} exits 0`, { stdout: v.stdout.slice(-800), stderr: v.stderr.slice(-800) })
    t.match(v.stdout, /identical/, `verify ${src.spec.site} -> ${tgt.spec.site} says identical`)
  }

  const splits: string[] = []
  for (const n of nodes) {
    const shards = await callUnary<object, ListShardsResponse__Output>(n.clients.sync, 'ListShards', { bucket: BUCKET })
    const splitting = shards.shards.filter(s => String(s.state) === 'SPLIT_STATE_SPLITTING').map(s => s.shard)
    t.same(splitting, [], `no shard SPLITTING on ${n.spec.site}`)
    splits.push(`${n.spec.site}: ${shards.shards.length - 2} splits (${shards.shards.length} shards)`)
  }
  t.comment(`splits: ${splits.join('; ')}`)
  t.comment(`acknowledged writes checked: ${result.checked} keys on both sites; total ${((Date.now() - started) / 1000).toFixed(1)} s`)
  for (const n of nodes) t.equal(n.proc?.exitCode, null, `${n.spec.site} still running at the end`)
})
