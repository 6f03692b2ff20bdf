/**
 * `--metrics HOST:PORT`: /metrics is valid Prometheus text exposition, every
 * shardsync_ family has HELP and TYPE, names follow the conventions
 * (counters end _total, histograms carry a unit suffix such as _seconds),
 * histograms are well-formed; the incremental lag gauge rises while a
 * throttled target falls behind and returns to 0 once synced; RPCs and
 * split events are counted.
 */
import crypto from 'node:crypto'
import http from 'node:http'
import t from 'tap'
import { putObject } from '../../node/cli/object-commands'
import { connectOneWay } from '../../scripts/lib/cluster'
import { leveldbTableReads } from '../../storage/database'
import { makeBucket, makeKeys, putMany, split, startSites, stopwatch, waitConverged, waitFor, type NodeProcess } from '../sync/helpers'
import { metrics, metricsAddress, parseProm, parseValue, scrape, value, type Parsed, type Sample } from './prom'

t.test('metrics: exposition format, lag, rpc and split counters', async t => {
  const lap = stopwatch(t)
  const [src, tgt] = await startSites(t, [
    { site: 'src', args: ['--metrics', '127.0.0.1:0'] },
    { site: 'tgt', args: ['--metrics', '127.0.0.1:0', '--sync-rate', '100'] }
  ])
  const bucket = 'metrics-b'
  await makeBucket(src, bucket, { shards: 2 })
  await connectOneWay(src, tgt)
  // Target caught up with the empty bucket: every shard in incremental sync.
  await waitFor(async () => {
    const p = await metrics(tgt)
    return value(p, 'shardsync_full_sync_shards', { peer: 'src' }) === 0 && (await tgt.logged('shard entering incremental sync')).length >= 2
  }, { timeoutMs: 30_000, what: 'tgt in incremental sync of the empty bucket' })
  lap('tgt in incremental sync')

  // ---- format ----
  const r = await scrape(metricsAddress(src))
  t.equal(r.status, 200, '/metrics answers 200')
  t.match(r.contentType, /^text\/plain; version=0\.0\.4/, `content type ${r.contentType}`)
  const other = await new Promise<number>((resolve, reject) => http.get(`http://${metricsAddress(src)}/nope`, res => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject))
  t.equal(other, 404, 'other paths answer 404')
  for (const node of [src, tgt]) {
    const p = parseProm((await scrape(metricsAddress(node))).body)
    t.same(p.errors.slice(0, 10), [], `${node.spec.site}: every line is valid Prometheus text`)
    // The stock prebuilt LevelDB (no toolchain at install) maps its tables.
    if (process.platform === 'linux' && leveldbTableReads() === 'pread') t.equal(value(p, 'shardsync_db_mapped_table_files'), 0, `${node.spec.site}: LevelDB maps no table file`)
    const ours = [...p.families.values()].filter(f => f.name.startsWith('shardsync_'))
    t.ok(ours.length > 20, `${node.spec.site}: ${ours.length} shardsync_ families`)
    t.same(ours.filter(f => f.help === undefined || f.help === '' || f.type === undefined).map(f => f.name), [], `${node.spec.site}: every shardsync_ family has HELP and TYPE`)
    t.same([...p.families.values()].filter(f => !f.name.startsWith('shardsync_')).map(f => f.name), [], `${node.spec.site}: every family has the shardsync_ prefix`)
    t.same(ours.filter(f => f.type === 'counter' && !f.name.endsWith('_total')).map(f => f.name), [], 'counters end _total')
    // prom-client's default nodejs_active_*_total are gauges (a library
    // naming quirk); the node's own families must not do that.
    const own = ours.filter(f => !/^shardsync_(nodejs|process)_/.test(f.name))
    t.same(own.filter(f => f.type !== 'counter' && f.name.endsWith('_total')).map(f => f.name), [], 'only counters end _total (shardsync\'s own families)')
    t.same(ours.filter(f => f.type === 'histogram' && !/_(seconds|bytes)$/.test(f.name)).map(f => f.name), [], 'histograms end in a base unit (_seconds/_bytes)')
    t.same(ours.filter(f => f.samples.some(s => !s.name.startsWith(f.name))).map(f => f.name), [], 'samples belong to their family')
    // Histograms: cumulative buckets ending in +Inf = _count.
    const badHist: string[] = []
    for (const f of ours.filter(f => f.type === 'histogram')) {
      const series = new Map<string, Sample[]>()
      for (const s of f.samples.filter(s => s.name === `${f.name}_bucket`)) {
        const { le, ...rest } = s.labels
        const k = JSON.stringify(rest)
        series.set(k, [...(series.get(k) ?? []), s])
      }
      for (const [k, bs] of series) {
        const les = bs.map(b => parseValue(b.labels.le))
        const counts = bs.map(b => b.value)
        const count = f.samples.find(s => s.name === `${f.name}_count` && JSON.stringify(s.labels) === k)?.value
        const sorted = les.every((l, i) => i === 0 || l > les[i - 1]) && counts.every((c, i) => i === 0 || c >= counts[i - 1])
        if (!sorted || les[les.length - 1] !== Infinity || counts[counts.length - 1] !== count) badHist.push(`${f.name}${k}`)
      }
    }
    t.same(badHist, [], `${node.spec.site}: histogram buckets cumulative, +Inf = _count`)
    for (const name of ['shardsync_leveldb_size_bytes', 'shardsync_rpc_requests_total', 'shardsync_process_cpu_seconds_total', 'shardsync_split_events_total', 'shardsync_rpc_duration_seconds', 'shardsync_objects_synced_total', 'shardsync_incremental_lag_entries', 'shardsync_notices_received_total', 'shardsync_log_entries', 'shardsync_tombstones', 'shardsync_log_trimmed_total']) {
      t.ok(p.families.has(name), `${node.spec.site}: ${name} present`)
    }
    t.ok((value(p, 'shardsync_leveldb_size_bytes') ?? 0) > 0, 'leveldb size > 0')
    t.ok(p.samples.some(s => s.name === 'shardsync_log_entries' && s.labels.bucket === bucket), `${node.spec.site}: log entries gauge has a bucket label`)
  }
  lap('format checked')

  // ---- lag rises while the throttled target falls behind, then returns to 0 ----
  const N = 1000
  const writing = putMany(src.clients, bucket, makeKeys('m-', N), { size: 64, concurrency: 64 })
  let maxLag = 0
  let maxLagSeconds = 0
  await waitFor(async () => {
    const p = await metrics(tgt)
    maxLag = Math.max(maxLag, value(p, 'shardsync_incremental_lag_entries', { peer: 'src' }) ?? 0)
    maxLagSeconds = Math.max(maxLagSeconds, value(p, 'shardsync_incremental_lag_seconds', { peer: 'src' }) ?? 0)
    return maxLag > 100 && maxLagSeconds > 0
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'tgt lag gauge to rise' })
  await writing
  lap(`lag rose (entries ${maxLag}, seconds ${maxLagSeconds})`)
  t.ok(maxLag > 100, `shardsync_incremental_lag_entries{peer="src"} rose to ${maxLag}`)
  t.ok(maxLagSeconds > 0, `shardsync_incremental_lag_seconds{peer="src"} rose to ${maxLagSeconds}`)
  const mid = await metrics(tgt)
  const synced1 = value(mid, 'shardsync_objects_synced_total', { peer: 'src' }) ?? 0
  await waitConverged(src, tgt, bucket, { timeoutMs: 60_000 })
  const settled = await waitFor(async () => {
    const p = await metrics(tgt)
    return value(p, 'shardsync_incremental_lag_entries', { peer: 'src' }) === 0 && value(p, 'shardsync_incremental_lag_seconds', { peer: 'src' }) === 0 ? p : undefined
  }, { timeoutMs: 30_000, intervalMs: 250, what: 'tgt lag gauges back to 0' })
  lap('lag back to 0')
  t.equal(value(settled, 'shardsync_incremental_lag_entries', { peer: 'src' }), 0, 'lag entries 0 after sync')
  t.equal(value(settled, 'shardsync_incremental_lag_seconds', { peer: 'src' }), 0, 'lag seconds 0 after sync')
  t.equal(value(settled, 'shardsync_full_sync_shards', { peer: 'src' }), 0, 'no shard in full sync')
  const synced2 = value(settled, 'shardsync_objects_synced_total', { peer: 'src' }) ?? 0
  t.ok(synced2 >= synced1, `objects_synced_total is monotonic (${synced1} -> ${synced2})`)
  t.equal(synced2, N, `objects_synced_total{peer="src"} = ${N}`)
  t.ok((value(settled, 'shardsync_bytes_synced_total', { peer: 'src' }) ?? 0) >= N * 64, 'bytes_synced_total >= bytes written')

  // ---- rpc counters on both sides ----
  const sp = await metrics(src)
  const methods = [...new Set(sp.samples.filter(s => s.name === 'shardsync_rpc_requests_total').map(s => `${s.labels.method}:${s.labels.code}`))]
  t.comment(`src rpc methods: ${methods.join(' ')}`)
  const okCount = (p: Parsed, m: string): number => p.samples.filter(s => s.name === 'shardsync_rpc_requests_total' && s.labels.method.endsWith(m) && s.labels.code === 'OK').reduce((n, s) => n + s.value, 0)
  t.ok(okCount(sp, 'PutObject') >= N, `src counted ${okCount(sp, 'PutObject')} OK PutObject RPCs`)
  t.ok(okCount(sp, 'CreateBucket') >= 1, 'src counted CreateBucket')
  t.ok(okCount(sp, 'ListShards') >= 1, 'src counted ListShards (served to tgt)')
  t.ok(okCount(sp, 'AddPeer') >= 1, 'src counted AddPeer')
  t.ok(okCount(sp, 'PullChanges') + okCount(sp, 'FetchObjects') + okCount(sp, 'ListIndex') >= 1, 'src counted sync RPCs served to tgt')
  const durCount = sp.samples.filter(s => s.name === 'shardsync_rpc_duration_seconds_count' && s.labels.method.endsWith('PutObject') && s.labels.code === 'OK').reduce((n, s) => n + s.value, 0)
  t.equal(durCount, okCount(sp, 'PutObject'), 'rpc_duration_seconds_count = rpc_requests_total for PutObject')

  // ---- split events counted on the source, notices on both ----
  const before = value(sp, 'shardsync_split_events_total', { event: 'done' }) ?? 0
  const s = await split(src, bucket, 0)
  lap(`split 0 -> ${s.newShard}`)
  const afterSplit = await waitFor(async () => {
    const p = await metrics(src)
    return (value(p, 'shardsync_split_events_total', { event: 'done' }) ?? 0) > before && (value(p, 'shardsync_notices_sent_total', { peer: 'tgt' }) ?? 0) >= 1 ? p : undefined
  }, { timeoutMs: 30_000, what: 'split and notice counted on src' })
  t.ok((value(afterSplit, 'shardsync_split_events_total', { event: 'started' }) ?? 0) >= 1, 'split_events_total{event="started"} >= 1')
  t.ok((value(afterSplit, 'shardsync_split_events_total', { event: 'done' }) ?? 0) >= 1, 'split_events_total{event="done"} >= 1')
  t.ok((value(afterSplit, 'shardsync_notices_sent_total', { peer: 'tgt' }) ?? 0) >= 1, 'notices_sent_total{peer="tgt"} >= 1')
  t.equal(value(afterSplit, 'shardsync_outbox_depth', { peer: 'tgt' }) ?? 0, 0, 'outbox to tgt drained')
  const tp = await waitFor(async () => {
    const p = await metrics(tgt)
    return (value(p, 'shardsync_notices_received_total', { result: 'stored' }) ?? 0) >= 1 ? p : undefined
  }, { timeoutMs: 30_000, what: 'tgt to count a stored notice' })
  t.ok((value(tp, 'shardsync_notices_received_total', { result: 'stored' }) ?? 0) >= 1, 'tgt notices_received_total{result="stored"} >= 1')
  t.same(parseProm((await scrape(metricsAddress(tgt))).body).errors.slice(0, 10), [], 'tgt /metrics still valid at the end')
})

t.test('heap headroom: the base (100 % by default) widened while large objects move, given back after; 0 leaves it to V8; a base at 300 or more holds', async t => {
  const [auto, v8, fixed] = await startSites(t, [
    { site: 'auto', args: ['--metrics', '127.0.0.1:0'] },
    { site: 'v8', args: ['--metrics', '127.0.0.1:0', '--heap-growth-percent', '0'] },
    { site: 'fixed', args: ['--metrics', '127.0.0.1:0', '--heap-growth-percent', '400'] }
  ])
  const ratio = async (n: NodeProcess): Promise<number | undefined> => value(await metrics(n), 'shardsync_heap_growth_ratio')
  t.equal(await ratio(auto), 1, 'idle: the default base, 100 %')
  t.equal(await ratio(v8), 0, 'idle at 0: V8 decides')
  t.equal(await ratio(fixed), 4, 'a base of 400 % is reported')
  for (const n of [auto, v8, fixed]) await makeBucket(n, 'heap', { shards: 1 })
  await putObject(auto.clients, 'heap', 'small', crypto.randomBytes(1000))
  t.equal(await ratio(auto), 1, 'a small object leaves the base')
  for (const n of [auto, v8, fixed]) await putObject(n.clients, 'heap', 'large', crypto.randomBytes(3 * 1024 * 1024))
  t.equal(await ratio(auto), 3, 'a large object widens it (300 %)')
  t.equal(await ratio(v8), 3, 'also when V8 decides otherwise')
  t.equal(await ratio(fixed), 4, 'a base above 300 % is never changed')
  await waitFor(async () => (await ratio(auto)) === 1 && (await ratio(v8)) === 0, { timeoutMs: 20_000, what: 'the headroom given back' })
  t.pass('given back to each base once no large content moved for a while')
  t.equal(await ratio(fixed), 4, 'still 400 %')
})
