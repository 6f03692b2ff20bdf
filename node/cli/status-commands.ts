/**
 * `shardsync status` and `shardsync wait-synced`: both read
 * AdminService.SyncStatus, the same thing grpcurl shows.
 */
import { callUnary, type Clients } from '../rpc/clients'
import type { SyncStatusResponse__Output } from '../rpc/generated/shardsync/v1/SyncStatusResponse'
import type { PeerSyncStatus__Output } from '../rpc/generated/shardsync/v1/PeerSyncStatus'
import { Progress } from './progress'

export async function fetchStatus (c: Clients, summaryOnly = false): Promise<SyncStatusResponse__Output> {
  return await callUnary<object, SyncStatusResponse__Output>(c.admin, 'SyncStatus', { summaryOnly })
}

/** The human view: one summary line per peer first, then the detail. */
export function formatStatus (s: SyncStatusResponse__Output): string {
  const out: string[] = [`site ${s.siteId}: ${s.peers.length} peers; notices received ${s.noticesReceived} (stored ${s.noticesStored}, ignored ${s.noticesIgnored}, rejected ${s.noticesRejected})`]
  for (const p of s.peers) out.push(`  ${p.peer} (${p.address}): ${p.summary}`)
  out.push(`kept for peers: ${s.logEntries} log entries, ${s.tombstones} tombstones`)
  for (const p of s.peers) out.push('', ...formatPeer(p))
  return out.join('\n') + '\n'
}

function formatPeer (p: PeerSyncStatus__Output): string[] {
  const out = [
    `peer ${p.peer} at ${p.address}: ${p.summary}`,
    `  synced ${p.objectsSynced} objects (${mib(Number(p.bytesSynced))}); notices to it: sent ${p.noticesSent}, retried ${p.noticesRetried}, in outbox ${p.outboxDepth}; last error: ${p.lastError === '' ? 'none' : `${p.lastError} at ${new Date(Number(p.lastErrorMs)).toISOString()}`}`
  ]
  for (const b of p.buckets) {
    out.push(`  bucket ${b.bucket} (source id ${b.sourceBucketId}): ${b.shards} shards, ${b.shardsFull} full, ${b.shardsIncremental} incremental, ${b.shardsBehind} behind (${b.entriesBehind} entries, ${b.secondsBehind} s)`)
    if (b.shardStatus.length === 0) continue
    out.push('    shard  state        progress           behind        new shards: notice | pull   found    retries  last error')
    for (const sh of b.shardStatus) {
      const progress = sh.state === 'full' ? `listed ${sh.listed}/${sh.sourceIndexCount}` : `log ${sh.logCursor}/${sh.logHead}`
      const behind = sh.state === 'full' ? `${sh.secondsBehind} s` : `${sh.entriesBehind} (${sh.secondsBehind} s)`
      const news = `${sh.newShardsByNotice.join(',') || '-'} | ${sh.newShardsByPull.join(',') || '-'}`
      const err = sh.lastError === '' ? '-' : `${sh.lastError} ${new Date(Number(sh.lastErrorMs)).toISOString()}`
      out.push(`    ${pad(String(sh.shard), 6)} ${pad(sh.state, 12)} ${pad(progress, 18)} ${pad(behind, 13)} ${pad(news, 26)} ${pad(sh.foundBy, 8)} ${pad(String(sh.splittingRetries), 8)} ${err}`)
    }
  }
  return out
}

export async function showStatus (c: Clients, opts: { json: boolean, watchSeconds?: number }): Promise<void> {
  for (;;) {
    const status = await fetchStatus(c)
    const text = opts.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status)
    if (opts.watchSeconds === undefined) { process.stdout.write(text); return }
    if (process.stdout.isTTY === true) process.stdout.write('\x1b[2J\x1b[H')
    process.stdout.write(`${new Date().toISOString()} (every ${opts.watchSeconds}s, Ctrl-C to stop)\n` + text)
    await new Promise(resolve => setTimeout(resolve, opts.watchSeconds as number * 1000))
  }
}

/** Resolves true when every peer is caught up (twice in a row), false on timeout. */
export async function waitSynced (c: Clients, timeoutSeconds: number, quiet = false): Promise<boolean> {
  const deadline = Date.now() + timeoutSeconds * 1000
  let progress: Progress | undefined
  let streak = 0
  try {
    while (Date.now() < deadline) {
      const s = await fetchStatus(c, true)
      const total = s.peers.reduce((n, p) => n + p.buckets.reduce((m, b) => m + b.shards, 0), 0)
      const behind = s.peers.reduce((n, p) => n + p.shardsBehind, 0)
      progress ??= total > 0 ? new Progress('wait-synced (shards caught up)', total, quiet) : undefined
      progress?.update(total - behind)
      streak = s.peers.every(p => p.caughtUp) ? streak + 1 : 0
      if (streak >= 2) return true
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    return false
  } finally {
    progress?.stop()
  }
}

function pad (s: string, n: number): string { return s.length >= n ? s : s + ' '.repeat(n - s.length) }
function mib (bytes: number): string { return `${(bytes / 1048576).toFixed(1)} MiB` }
