/**
 * `npm run pair`: the whole story in one command.
 *
 * Starts two nodes (A with small shards, B throttled so its full sync takes
 * a while), loads objects into A, connects B to A, keeps writing to A so
 * that A's shards split in the middle of B's full sync, waits until the
 * sites converge, runs `verify --deep`, prints a summary, and stops both
 * nodes. Exit code 0 only if the sites are identical.
 *
 * Both nodes also serve S3 (--s3 on a free port); their endpoints are printed.
 *
 * Options: --objects N (default 20000), --rate R (B's --sync-rate, default
 * 4000), --keep (leave data dirs), --logs DIR (write node logs there).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { connectAll, runCli, stopAll, waitFor, type NodeProcess, startNodes } from './lib/cluster'
import { createBucket, load } from '../node/cli/object-commands'
import { callUnary } from '../node/rpc/clients'
import { DEV_S3_KEY } from '../node/rpc/credentials'
import type { ListBucketsResponse__Output } from '../node/rpc/generated/shardsync/v1/ListBucketsResponse'

/** The S3 endpoint a node logged in its "listening" line. */
function s3Of (node: NodeProcess): string {
  return `http://${String(node.logged('listening').pop()?.s3)}`
}

function flag (name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

async function objectCount (node: NodeProcess, bucket: string): Promise<number> {
  const res = await callUnary<object, ListBucketsResponse__Output>(node.clients.object, 'ListBuckets', {})
  return Number(res.buckets.find(b => b.name === bucket)?.objectCount ?? 0)
}

async function main (): Promise<void> {
  const objects = flag('--objects', 20_000)
  const rate = flag('--rate', 4000)
  const keep = process.argv.includes('--keep')
  const logsAt = process.argv.indexOf('--logs')
  const logDir = logsAt >= 0 ? process.argv[logsAt + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-pair-logs-'))
  fs.mkdirSync(logDir, { recursive: true })
  const bucket = 'pair-demo'
  const say = (s: string): void => { process.stdout.write(s + '\n') }

  const [a, b] = await startNodes([
    { site: 'A', args: ['--split-threshold', '1000', '--log-level', 'info', '--s3', '127.0.0.1:0'], logFile: path.join(logDir, 'A.log') },
    { site: 'B', args: ['--sync-rate', String(rate), '--sync-interval-ms', '300', '--log-level', 'info', '--s3', '127.0.0.1:0'], logFile: path.join(logDir, 'B.log') }
  ])
  const nodes = [a, b]
  const stopAndExit = (code: number): void => { void stopAll(nodes).then(() => process.exit(code)) }
  process.once('SIGINT', () => stopAndExit(130))
  try {
    say(`A at ${a.address} (data ${a.dataDir}), B at ${b.address} (data ${b.dataDir}); logs in ${logDir}`)
    say(`S3: A at ${s3Of(a)}, B at ${s3Of(b)} (path-style, region us-east-1, key ${DEV_S3_KEY.accessKey} / ${DEV_S3_KEY.secret}; docs/s3.md)`)
    await createBucket(a.clients, bucket, { shards: 4, splitThreshold: 1000 })
    const first = Math.floor(objects / 2)
    say(`loading ${first} objects into A...`)
    await load(a.clients, bucket, { count: first, size: 1024, concurrency: 32, prefix: 'first-', quiet: true })
    const splitsBefore = a.logged('split done').length
    say(`A has ${splitsBefore} splits so far; connecting A and B (two-way)`)
    await connectAll(nodes)

    // Keep writing while B lists: these writes make A's shards split under B.
    await waitFor(() => b.logged('shard entering full sync').length > 0, { what: 'B to start full sync' })
    const fullSyncStarted = Date.now()
    say(`B started full sync; writing ${objects - first} more objects into A meanwhile...`)
    await load(a.clients, bucket, { count: objects - first, size: 1024, concurrency: 16, prefix: 'during-', quiet: true })
    const splitsDuring = a.logged('split done').filter(l => Date.parse(String(l.time)) >= fullSyncStarted).length

    await waitFor(async () => (await objectCount(b, bucket)) === objects, { timeoutMs: 600_000, intervalMs: 500, what: 'B to hold every object' })
    const synced = Date.now()
    const verify = await runCli(['verify', '--source', a.address, '--target', b.address, '--bucket', bucket, '--deep'])
    const summary = verify.stdout.trim().split('\n').pop() ?? ''
    const notices = b.logged('split notice stored').length
    const byNotice = b.logged('new source shard found: full sync started').filter(l => l.foundBy === 'notice').length
    const byPull = b.logged('new source shard found: full sync started').filter(l => l.foundBy === 'pull').length
    const retries = b.logged('source shard is SPLITTING: full sync round abandoned, retry next cycle').length
    say('')
    say(`objects:               ${objects}`)
    say(`splits on A:           ${a.logged('split done').length} (${splitsDuring} during B's full sync)`)
    say(`notices stored on B:   ${notices}`)
    say(`new shards started:    ${byNotice} by notice, ${byPull} by pull`)
    say(`SPLITTING retries:     ${retries}`)
    say(`B converged in:        ${((synced - fullSyncStarted) / 1000).toFixed(1)} s`)
    say(`verify --deep:         ${summary}`)
    await stopAll(nodes)
    if (!keep) for (const n of nodes) fs.rmSync(n.dataDir, { recursive: true, force: true })
    process.exit(verify.code === 0 && splitsDuring > 0 ? 0 : 1)
  } catch (err) {
    process.stderr.write(`pair: ${(err as Error).message}\n`)
    stopAndExit(1)
  }
}

void main()
