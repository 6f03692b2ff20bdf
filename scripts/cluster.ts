/**
 * `npm run cluster -- [--nodes N] [--metrics] [-- NODE FLAGS...]`: starts N
 * nodes (default 2: a pair; 3: a ring) that sync both ways, with data under
 * a temp folder and free ports. Prints their addresses and stops them all
 * cleanly on Ctrl-C (SIGINT/SIGTERM). Node logs go to <data>/<site>.log.
 *
 * Uses the same helper as the integration tests (scripts/lib/cluster.ts).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { connectAll, startNodes, stopAll } from './lib/cluster'

async function main (): Promise<void> {
  const argv = process.argv.slice(2)
  const sep = argv.indexOf('--')
  const own = sep >= 0 ? argv.slice(0, sep) : argv
  const nodeFlags = sep >= 0 ? argv.slice(sep + 1) : []
  const at = own.indexOf('--nodes')
  const count = at >= 0 ? Number(own[at + 1]) : 2
  if (!Number.isInteger(count) || count < 1 || count > 26) throw new Error('--nodes must be 1..26')
  const withMetrics = own.includes('--metrics')
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-cluster-'))
  const sites = Array.from({ length: count }, (_, i) => String.fromCharCode(65 + i))
  const nodes = await startNodes(sites.map(site => ({
    site,
    dataDir: path.join(root, site),
    logFile: path.join(root, `${site}.log`),
    args: [...(withMetrics ? ['--metrics', '127.0.0.1:0'] : []), ...nodeFlags]
  })))
  await connectAll(nodes)
  process.stdout.write(`${count} nodes, each syncing from every other one; data and logs under ${root}\n`)
  for (const n of nodes) {
    const metrics = n.logged('listening')[0]?.metrics
    process.stdout.write(`  ${n.spec.site}  ${n.address}${metrics !== undefined ? `  metrics http://${String(metrics)}/metrics` : ''}\n`)
  }
  process.stdout.write('Ctrl-C stops them all.\n')
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    process.stdout.write('\nstopping...\n')
    void stopAll(nodes).then(() => { process.stdout.write('stopped\n'); process.exit(0) })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err) => { process.stderr.write(`cluster: ${(err as Error).message}\n`); process.exit(1) })
