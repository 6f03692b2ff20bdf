/**
 * Prometheus metrics of one node (prom-client, one registry per node so
 * that several nodes can live in one process in tests).
 *
 * Most values are read at scrape time from the state the node already keeps
 * (sync counters, progress, outbox), so hot paths do no metrics work; only
 * RPCs (observeRpc, called by the rpc layer) and split events are counted as
 * they happen. Served over HTTP by serveMetrics (`--metrics HOST:PORT`).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import client from 'prom-client'
import { CONTENT_DIR } from '../storage/content-store'
import { mappedTableFiles } from '../storage/database'
import type { BucketRecord } from '../storage/records'
import type { ShardsyncNode } from './shardsync-node'
import { keptForPeers } from './log-trimmer'
import { buildSyncStatus } from './sync-status'

type KeptForPeers = ReturnType<typeof keptForPeers>[number]

export class NodeMetrics {
  readonly registry = new client.Registry()
  private readonly rpcTotal: client.Counter<'method' | 'code'>
  private readonly rpcSeconds: client.Histogram<'method' | 'code'>
  private readonly streamResets: client.Counter<'method'>

  constructor (private readonly node: ShardsyncNode) {
    const registers = [this.registry]
    client.collectDefaultMetrics({ register: this.registry, prefix: 'shardsync_' })
    this.rpcTotal = new client.Counter({ name: 'shardsync_rpc_requests_total', help: 'RPCs handled, by method and status code', labelNames: ['method', 'code'], registers })
    this.rpcSeconds = new client.Histogram({
      name: 'shardsync_rpc_duration_seconds', help: 'RPC handling time, by method and status code', labelNames: ['method', 'code'], registers,
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]
    })
    this.streamResets = new client.Counter({ name: 'shardsync_stream_resets_total', help: 'Calls reset (RST_STREAM) because their client stopped reading: status not delivered within --stream-idle-ms', labelNames: ['method'], registers })
    const splits = new client.Counter({ name: 'shardsync_split_events_total', help: 'Shard split events on this node (as a source)', labelNames: ['event'], registers })
    node.splitter.on('split-started', () => splits.inc({ event: 'started' }))
    node.splitter.on('split-done', (_r: BucketRecord) => splits.inc({ event: 'done' }))
    // eslint-disable-next-line no-new
    new client.Counter({
      name: 'shardsync_split_limited_total',
      help: 'Splits not begun because of a limit: shard_limit (the bucket has --max-shards shards; auto-split stops), rate (--split-rate-limit)',
      labelNames: ['reason'],
      registers,
      collect: function (this: client.Counter<'reason'>) {
        this.reset()
        this.inc({ reason: 'shard_limit' }, node.splitter.counts.cappedSkips)
        this.inc({ reason: 'rate' }, node.splitter.counts.rateLimited)
      }
    })
    // eslint-disable-next-line no-new
    new client.Gauge({
      name: 'shardsync_heap_growth_ratio',
      help: 'V8 heap headroom over live data between major collections, as a ratio (3: 300 %): --heap-growth-percent (1 by default), widened to 3 while large objects move; 0: V8 decides',
      registers,
      collect: function (this: client.Gauge) { this.set(node.heapGrowthPercent / 100) }
    })
    // Ground truth for the LevelDB build (scripts/build-leveldb.js): 0 when
    // tables are read with pread; mapped tables' pages count in the RSS.
    // Read from /proc/self/maps at scrape time (absent where there is none).
    // eslint-disable-next-line no-new
    new client.Gauge({
      name: 'shardsync_db_mapped_table_files',
      help: 'LevelDB table files of this node memory-mapped now (0: read with pread)',
      registers,
      collect: function (this: client.Gauge) {
        const n = mappedTableFiles(node.options.dataDir)
        if (n === undefined) this.reset()
        else this.set(n)
      }
    })

    // Log trimming (issue 26): what the node keeps to serve its peers, by bucket.
    for (const [name, help, read] of [
      ['shardsync_log_entries', 'Sync log entries kept (not trimmed yet), by bucket', (k: KeptForPeers) => k.logEntries],
      ['shardsync_tombstones', 'Tombstones kept (deleted keys not collected yet), by bucket', (k: KeptForPeers) => k.tombstones]
    ] as const) {
      // eslint-disable-next-line no-new
      new client.Gauge({
        name, help, labelNames: ['bucket'], registers,
        collect: function (this: client.Gauge<'bucket'>) {
          this.reset()
          for (const k of keptForPeers(node.store)) this.set({ bucket: k.bucket }, read(k))
        }
      })
    }
    // eslint-disable-next-line no-new
    new client.Counter({
      name: 'shardsync_log_trimmed_total',
      help: 'Log entries trimmed and tombstones collected by this node since start',
      labelNames: ['what'],
      registers,
      collect: function (this: client.Counter<'what'>) {
        this.reset()
        this.inc({ what: 'log_entries' }, node.trimmer.totals.trimmed)
        this.inc({ what: 'tombstones' }, node.trimmer.totals.collected)
      }
    })

    const perPeer = (name: string, help: string, kind: 'counter' | 'gauge', read: (s: PeerSnapshot) => number): void => {
      const Metric = kind === 'counter' ? client.Counter : client.Gauge
      // eslint-disable-next-line no-new
      new Metric({
        name, help, labelNames: ['peer'], registers,
        collect: async function (this: client.Counter<'peer'> | client.Gauge<'peer'>) {
          this.reset()
          for (const s of await snapshot()) {
            const v = read(s)
            if ('set' in this) this.set({ peer: s.peer }, v)
            else if (v > 0) this.inc({ peer: s.peer }, v)
          }
        }
      })
    }
    let cached: { at: number, value: Promise<PeerSnapshot[]> } | undefined
    const snapshot = async (): Promise<PeerSnapshot[]> => {
      if (cached === undefined || Date.now() - cached.at > 500) cached = { at: Date.now(), value: this.peerSnapshots() }
      return await cached.value
    }
    perPeer('shardsync_objects_synced_total', 'Objects copied from the peer', 'counter', s => s.objects)
    perPeer('shardsync_bytes_synced_total', 'Bytes copied from the peer', 'counter', s => s.bytes)
    perPeer('shardsync_full_sync_shards', 'Source shards of the peer in full sync now', 'gauge', s => s.fullShards)
    perPeer('shardsync_incremental_lag_entries', 'Source log entries not yet applied, as of the last poll', 'gauge', s => s.lagEntries)
    perPeer('shardsync_incremental_lag_seconds', 'Age of the oldest unapplied change, in seconds', 'gauge', s => s.lagSeconds)
    perPeer('shardsync_outbox_depth', 'Split notices waiting to be sent to the peer', 'gauge', s => s.outbox)
    perPeer('shardsync_notices_sent_total', 'Split notices acknowledged by the peer', 'counter', s => s.sent)
    perPeer('shardsync_notices_retried_total', 'Split notice sends that failed and were retried', 'counter', s => s.retried)

    const received = new client.Counter({
      name: 'shardsync_notices_received_total', help: 'Split notices received from peers, by result', labelNames: ['result'], registers,
      collect () {
        this.reset()
        const r = node.notices
        for (const [result, v] of [['stored', r.recorded], ['ignored', r.ignored], ['rejected', r.rejected]] as const) if (v > 0) this.inc({ result }, v)
      }
    })
    void received
    // eslint-disable-next-line no-new
    new client.Gauge({
      name: 'shardsync_leveldb_size_bytes', help: 'Size of the node\'s LevelDB files (main and content databases)', registers,
      collect () { this.set(leveldbBytes(node.options.dataDir)) }
    })
  }

  observeStreamReset (method: string): void {
    this.streamResets.inc({ method })
  }

  observeRpc (method: string, code: string, seconds: number): void {
    this.rpcTotal.inc({ method, code })
    this.rpcSeconds.observe({ method, code }, seconds)
  }

  private async peerSnapshots (): Promise<PeerSnapshot[]> {
    const status = await buildSyncStatus(this.node, { summaryOnly: true })
    return status.peers.map(p => ({
      peer: p.peer,
      objects: p.objectsSynced,
      bytes: p.bytesSynced,
      fullShards: p.buckets.reduce((n, b) => n + b.shardsFull, 0),
      lagEntries: p.buckets.reduce((n, b) => n + b.entriesBehind, 0),
      lagSeconds: p.oldestUnappliedSeconds,
      outbox: p.outboxDepth,
      sent: p.noticesSent,
      retried: p.noticesRetried
    }))
  }
}

interface PeerSnapshot { peer: string, objects: number, bytes: number, fullShards: number, lagEntries: number, lagSeconds: number, outbox: number, sent: number, retried: number }

/** Bytes of the files of both LevelDBs of a data directory (storage/content-store.ts). */
export function leveldbBytes (dataDir: string): number {
  return dirSize(dataDir) + dirSize(path.join(dataDir, CONTENT_DIR))
}

function dirSize (dir: string): number {
  let total = 0
  try {
    for (const f of fs.readdirSync(dir)) {
      try { total += fs.statSync(path.join(dir, f)).size } catch {}
    }
  } catch {}
  return total
}

/**
 * Serves GET /metrics; returns the bound address. With `token` (from
 * --metrics-token-file) a scrape must carry "Authorization: Bearer <token>"
 * (compared in constant time), else 401; without it, open as before.
 */
export async function serveMetrics (metrics: NodeMetrics, hostPort: string, opts: { token?: string } = {}): Promise<{ address: string, close: () => Promise<void> }> {
  const expected = opts.token !== undefined ? digest(`Bearer ${opts.token}`) : undefined
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n')
      return
    }
    if (expected !== undefined) {
      const given = req.headers.authorization
      if (typeof given !== 'string' || !crypto.timingSafeEqual(digest(given), expected)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="shardsync metrics"' }).end('unauthorized\n')
        return
      }
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end('metrics unavailable\n')
    )
  })
  const i = hostPort.lastIndexOf(':')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(Number(hostPort.slice(i + 1)), hostPort.slice(0, i), resolve)
  })
  const addr = server.address() as { port: number }
  return {
    address: `${hostPort.slice(0, i)}:${addr.port}`,
    close: async () => await new Promise<void>(resolve => server.close(() => resolve()))
  }
}

function digest (s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest()
}
