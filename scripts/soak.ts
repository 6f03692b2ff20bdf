/**
 * `npm run soak -- --minutes 10` (issue 26): a long two-site soak, run by an
 * operator or a developer to see that a pair that writes without end keeps
 * its disk, its sync logs and its tombstones bounded. test/ops/soak.test.ts
 * runs it for ~25 s in CI (no plateau check there: too short).
 *
 * Starts two real node processes A and B (scripts/lib/cluster.ts, 127.0.0.1
 * port 0, each with --metrics), peered both ways, over one bucket. Both sites
 * then write a steady open-loop mix at --rate ops/s in total over a bounded
 * key space (--keys): a put of a key the soak last left absent, an
 * overwrite or a delete of a key it last left live (about a third each), of
 * --size bytes, so the live data stays bounded while the operations grow
 * without bound; with --split-every-s a shard of one site is split now and
 * then. Every --sample-s it samples per site: the recursive size of the data
 * directory, and the gauges shardsync_log_entries and shardsync_tombstones
 * (summed over their labels; null when the node has no such gauge).
 *
 * At the end the writers stop, `shardsync wait-synced` runs on both sites
 * and `shardsync verify --deep` between them, and it prints the table over
 * time, the plateau verdict of every series (scripts/lib/soak-report.ts) and,
 * with --json FILE, a JSON summary. Exit 1 if the sites do not sync or
 * verify finds a difference; 2 with --require-plateau if a series grows.
 * Ctrl-C ends the writing early and goes on to the end checks.
 *
 * The nodes get the log-trim flags (TRIM_FLAGS below; --no-trim: the control,
 * trimming effectively off) when their CLI has them, and a note otherwise.
 */
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { CLI, connectAll, runCli, startNodes, stopAll, waitFor, type NodeProcess } from './lib/cluster'
import { createBucket, listBuckets, listShards, putObject, splitShard } from '../node/cli/object-commands'
import { callUnary } from '../node/rpc/clients'
import { formatPlateaus, formatTable, gaugeSum, PLATEAU_FACTOR, plateaus, toSeries, type Sample, type SiteSample } from './lib/soak-report'

/**
 * The node flags of log trimming and position reports, in one place: name
 * and value for the soak (short intervals, so that a short run trims), and
 * the value under --no-trim (an interval of 0: never). A flag the node's CLI does not know is left out
 * (and named in the output and the JSON).
 */
const TRIM_FLAGS: Array<{ flag: string, value: number, noTrim: number }> = [
  { flag: '--log-trim-interval-ms', value: 2000, noTrim: 0 },
  { flag: '--log-retention-age-ms', value: 300_000, noTrim: 300_000 },
  { flag: '--log-retention-entries', value: 1_000_000, noTrim: 1_000_000 },
  { flag: '--position-report-ms', value: 1000, noTrim: 1000 }
]
/** The gauges sampled from /metrics. */
const GAUGES = { logEntries: 'shardsync_log_entries', tombstones: 'shardsync_tombstones' }
const SITES = ['A', 'B']
const BUCKET = 'soak'

const argv = process.argv.slice(2)
function num (name: string, fallback: number): number {
  const i = argv.indexOf(name)
  if (i < 0) return fallback
  const v = Number(argv[i + 1])
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a number >= 0, got ${argv[i + 1]}`)
  return v
}
function str (name: string): string | undefined {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
/** Every value of a repeatable flag. */
function all (name: string): string[] {
  return argv.flatMap((a, i) => a === name && i + 1 < argv.length ? [argv[i + 1]] : [])
}

interface Config {
  seconds: number, rate: number, keys: number, size: number, sampleS: number, splitEveryS: number
  shards: number, concurrency: number, trim: boolean, json?: string, logs: string, keep: boolean, requirePlateau: boolean
  /** wait-synced's --timeout on each site. */
  syncTimeoutS: number
  /** Extra flags for both nodes (--node-arg, repeatable), e.g. --node-arg --sync-mode --node-arg related-art. */
  nodeArgs: string[]
}

function config (): Config {
  const seconds = argv.includes('--seconds') ? num('--seconds', 0) : num('--minutes', 10) * 60
  const c: Config = {
    seconds,
    rate: num('--rate', 300),
    keys: num('--keys', 2000),
    size: num('--size', 1024),
    sampleS: num('--sample-s', 10),
    splitEveryS: num('--split-every-s', 0),
    shards: num('--shards', 4),
    concurrency: num('--concurrency', 32),
    trim: !argv.includes('--no-trim'),
    json: str('--json'),
    logs: str('--logs') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-soak-')),
    keep: argv.includes('--keep'),
    requirePlateau: argv.includes('--require-plateau'),
    syncTimeoutS: num('--sync-timeout-s', 300),
    nodeArgs: all('--node-arg')
  }
  if (c.seconds <= 0 || c.rate <= 0 || c.keys < 1 || c.sampleS <= 0 || c.concurrency < 1) throw new Error('--seconds/--minutes, --rate, --keys, --sample-s and --concurrency must be > 0')
  return c
}

/** The trim flags this build's `node` command accepts, with their values, and the ones it does not. */
function trimArgs (trim: boolean): { args: string[], unsupported: string[] } {
  const help = execFileSync(process.execPath, [CLI, 'node', '--help'], { encoding: 'utf8' })
  const args: string[] = []
  const unsupported: string[] = []
  for (const f of TRIM_FLAGS) {
    if (new RegExp(`${f.flag}[ ,=]`).test(help)) args.push(f.flag, String(trim ? f.value : f.noTrim))
    else unsupported.push(f.flag)
  }
  return { args, unsupported }
}

/** `deleteMissing`: deletes answered OBJECT_NOT_FOUND (the key's put, from the other site, had not arrived yet): expected, not errors. */
interface OpCounts { puts: number, overwrites: number, deletes: number, deleteMissing: number, errors: Record<string, number>, late: number }

/**
 * One site's open-loop writer: op i is due at t0 + i / rate; at most
 * `concurrency` in flight; when it falls over a second behind, the backlog
 * is dropped (counted as `late`) instead of sent in a burst.
 */
class Writer {
  readonly counts: OpCounts = { puts: 0, overwrites: 0, deletes: 0, deleteMissing: 0, errors: {}, late: 0 }
  private inflight = 0
  private stopped = false
  private readonly done: Promise<void>
  private idle: (() => void) | undefined

  constructor (private readonly node: NodeProcess, private readonly rate: number, private readonly c: Config, private readonly live: Uint8Array) {
    this.done = this.loop()
  }

  get ops (): number { return this.counts.puts + this.counts.overwrites + this.counts.deletes }

  private async loop (): Promise<void> {
    const t0 = Date.now()
    let issued = 0
    while (!this.stopped) {
      let due = Math.floor((Date.now() - t0) * this.rate / 1000) - issued
      if (due > this.rate) { this.counts.late += due - Math.ceil(this.rate / 10); issued += due - Math.ceil(this.rate / 10); due = Math.ceil(this.rate / 10) }
      for (; due > 0 && this.inflight < this.c.concurrency; due--, issued++) void this.one()
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    while (this.inflight > 0) await new Promise<void>(resolve => { this.idle = resolve })
  }

  /** A key at random: absent (as the soak last left it) -> put; live -> overwrite or delete, even odds. */
  private async one (): Promise<void> {
    const k = crypto.randomInt(this.c.keys)
    const key = `k${String(k).padStart(6, '0')}`
    const kind = this.live[k] === 0 ? 'puts' : crypto.randomInt(2) === 0 ? 'overwrites' : 'deletes'
    this.inflight++
    try {
      if (kind === 'deletes') {
        this.live[k] = 0
        await callUnary(this.node.clients.object, 'DeleteObject', { bucket: BUCKET, key })
      } else {
        this.live[k] = 1
        await putObject(this.node.clients, BUCKET, key, crypto.randomBytes(this.c.size))
      }
      this.counts[kind]++
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? 'unknown')
      if (kind === 'deletes' && code === 'OBJECT_NOT_FOUND') this.counts.deleteMissing++
      else this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1
    } finally {
      this.inflight--
      if (this.inflight === 0) this.idle?.()
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.done
  }
}

/** Bytes of every file under `dir`; files that vanish meanwhile (compactions) count 0. */
async function diskBytes (dir: string): Promise<number> {
  let total = 0
  let entries: fs.Dirent[]
  try { entries = await fs.promises.readdir(dir, { withFileTypes: true }) } catch { return 0 }
  for (const e of entries) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) total += await diskBytes(p)
    else { try { total += (await fs.promises.lstat(p)).size } catch {} }
  }
  return total
}

async function scrape (address: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const req = http.get(`http://${address}/metrics`, { timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics: HTTP ${res.statusCode}`)))
    })
    req.on('timeout', () => req.destroy(new Error('/metrics timed out')))
    req.on('error', reject)
  })
}

async function sampleSite (node: NodeProcess, ops: number): Promise<SiteSample> {
  const address = String(node.logged('listening')[0]?.metrics)
  let text = ''
  try { text = await scrape(address) } catch (err) { process.stderr.write(`soak: ${node.spec.site} ${(err as Error).message}\n`) }
  return { diskBytes: await diskBytes(node.dataDir), logEntries: gaugeSum(text, GAUGES.logEntries), tombstones: gaugeSum(text, GAUGES.tombstones), ops }
}

/** Splits the shard with the most index entries on one site; returns what happened, in words. */
async function splitOnce (node: NodeProcess): Promise<string> {
  try {
    const shards = (await listShards(node.clients, BUCKET)).shards.filter(s => s.state !== 'SPLIT_STATE_SPLITTING')
    if (shards.length === 0) return 'no shard to split'
    const biggest = shards.reduce((a, b) => Number(b.indexCount) > Number(a.indexCount) ? b : a)
    const r = await splitShard(node.clients, BUCKET, biggest.shard)
    return `split ${node.spec.site} shard ${r.shard} -> ${r.newShard} (${Number(r.moved)} moved)`
  } catch (err) {
    return `split on ${node.spec.site} refused: ${String((err as { code?: unknown }).code ?? (err as Error).message)}`
  }
}

async function main (): Promise<void> {
  const c = config()
  const say = (s: string): void => { process.stdout.write(s + '\n') }
  fs.mkdirSync(c.logs, { recursive: true })
  const trim = trimArgs(c.trim)
  const nodeArgs = ['--shards', String(c.shards), '--sync-interval-ms', '500', '--metrics', '127.0.0.1:0', '--log-level', 'info', ...trim.args, ...c.nodeArgs]
  const nodes = await startNodes(SITES.map(site => ({ site, dataDir: path.join(c.logs, `${site}-data`), logFile: path.join(c.logs, `${site}.log`), args: nodeArgs })))
  const [a, b] = nodes
  let writers: Writer[] = []
  let interrupted = false
  process.once('SIGINT', () => {
    interrupted = true
    say('\nSIGINT: ending the writes early (again to abort)')
    process.once('SIGINT', () => { void stopAll(nodes).then(() => process.exit(130)) })
  })
  try {
    say(`soak: ${c.seconds} s at ${c.rate} ops/s over ${c.keys} keys of ${c.size} B, both sites writing; sample every ${c.sampleS} s${c.splitEveryS > 0 ? `; a split every ${c.splitEveryS} s` : ''}`)
    say(`trim: ${c.trim ? 'on' : 'OFF (--no-trim control)'}; node flags: ${nodeArgs.join(' ')}`)
    if (trim.unsupported.length > 0) say(`note: this node build has no ${trim.unsupported.join(', ')}: not passed`)
    for (const n of nodes) say(`  ${n.spec.site} at ${n.address}, metrics ${String(n.logged('listening')[0]?.metrics)}, data ${n.dataDir}`)
    say(`  logs in ${c.logs}`)
    await createBucket(a.clients, BUCKET, { shards: c.shards, splitThreshold: 1_000_000_000, autoSplit: false })
    await connectAll(nodes)
    await waitFor(async () => (await listBuckets(b.clients)).some(x => x.name === BUCKET), { what: `B to find bucket ${BUCKET}`, timeoutMs: 60_000 })

    const live = new Uint8Array(c.keys)
    const samples: Sample[] = []
    const splits: string[] = []
    const start = Date.now()
    const elapsed = (): number => (Date.now() - start) / 1000
    const take = async (phase: Sample['phase']): Promise<Sample> => {
      const t = Math.round(elapsed() * 10) / 10
      const sites: Record<string, SiteSample> = {}
      await Promise.all(nodes.map(async (n, i) => { sites[n.spec.site] = await sampleSite(n, writers[i]?.ops ?? 0) }))
      const s = { t, phase, sites }
      samples.push(s)
      return s
    }
    writers = nodes.map(n => new Writer(n, c.rate / nodes.length, c, live))
    await take('run')
    let nextSample = c.sampleS
    let nextSplit = c.splitEveryS > 0 ? c.splitEveryS : Infinity
    let splitSite = 0
    while (elapsed() < c.seconds && !interrupted) {
      await new Promise(resolve => setTimeout(resolve, 100))
      if (elapsed() >= nextSplit) {
        nextSplit += c.splitEveryS
        const what = await splitOnce(nodes[splitSite++ % nodes.length])
        splits.push(`${elapsed().toFixed(0)} s: ${what}`)
        say(`  [${elapsed().toFixed(0)} s] ${what}`)
      }
      // The sample due at the very end is the one taken once the writers stopped.
      if (elapsed() >= nextSample && elapsed() < c.seconds) {
        nextSample += c.sampleS
        const s = await take('run')
        say(`  [${s.t.toFixed(0)} s] ${SITES.map(x => `${x}: ${(s.sites[x].diskBytes / 1048576).toFixed(2)} MiB, log ${s.sites[x].logEntries ?? '-'}, tomb ${s.sites[x].tombstones ?? '-'}, ops ${s.sites[x].ops}`).join(' | ')}`)
      }
    }
    await Promise.all(writers.map(async w => await w.stop()))
    const writeSeconds = elapsed()
    await take('run')
    say(`writers stopped after ${writeSeconds.toFixed(1)} s; waiting until both sites are synced...`)

    const synced: Record<string, { code: number | null, line: string }> = {}
    for (const n of [...nodes, a]) {
      const r = await runCli(['wait-synced', '--node', n.address, '--timeout', String(c.syncTimeoutS)], { timeoutMs: c.syncTimeoutS * 1000 + 30_000 })
      synced[n.spec.site] = { code: r.code, line: r.stderr.trim().split('\n').pop() ?? '' }
    }
    const verify = await runCli(['verify', '--source', a.address, '--target', b.address, '--bucket', BUCKET, '--deep'], { timeoutMs: 300_000 })
    const verifyLine = verify.stdout.trim().split('\n').pop() ?? ''
    await take('end')

    const seconds = Math.min(c.seconds, writeSeconds)
    const verdicts = plateaus(samples, SITES, seconds)
    const ops = Object.fromEntries(nodes.map((n, i) => [n.spec.site, writers[i].counts]))
    const totalOps = writers.reduce((s, w) => s + w.ops, 0)
    const bucket = await Promise.all(nodes.map(async n => (await listBuckets(n.clients)).find(x => x.name === BUCKET)))
    say('')
    say(formatTable(samples, SITES).trimEnd())
    say('')
    say(`operations: ${totalOps} in ${writeSeconds.toFixed(1)} s (${Math.round(totalOps / writeSeconds)}/s); ${SITES.map(s => `${s}: ${ops[s].puts} puts, ${ops[s].overwrites} overwrites, ${ops[s].deletes} deletes (+${ops[s].deleteMissing} of keys not there yet), ${Object.values(ops[s].errors).reduce((x, y) => x + y, 0)} errors ${JSON.stringify(ops[s].errors)}, ${ops[s].late} late`).join('; ')}`)
    say(`live objects at the end: ${bucket.map((x, i) => `${SITES[i]} ${Number(x?.objectCount ?? 0)}`).join(', ')} (key space ${c.keys})`)
    if (splits.length > 0) say(`splits: ${splits.length} (${splits.filter(s => s.includes('->')).length} done)`)
    say(`plateau (max over the last third <= ${PLATEAU_FACTOR} x max over the middle third, with the operations still growing):`)
    say(formatPlateaus(verdicts).trimEnd())
    say(`wait-synced: ${SITES.map(s => `${s} ${synced[s].code === 0 ? 'synced' : `FAILED (${synced[s].line})`}`).join(', ')}`)
    say(`verify --deep A -> B: ${verifyLine}`)

    const syncedOk = Object.values(synced).every(s => s.code === 0)
    const identical = verify.code === 0 && /^identical:/.test(verifyLine)
    const growing = Object.entries(verdicts).filter(([, v]) => v.verdict === 'growing').map(([k]) => k)
    const exitCode = !syncedOk || !identical ? 1 : c.requirePlateau && growing.length > 0 ? 2 : 0
    if (c.json !== undefined) {
      const summary = {
        config: { ...c, writeSeconds: Math.round(writeSeconds * 10) / 10, interrupted, allNodeArgs: nodeArgs },
        trimFlags: { passed: trim.args, unsupported: trim.unsupported },
        plateauRule: `max over the last third <= ${PLATEAU_FACTOR} x max over the middle third, operations growing`,
        samples,
        series: toSeries(samples, SITES),
        plateau: verdicts,
        ops,
        totalOps,
        splits,
        liveObjects: Object.fromEntries(bucket.map((x, i) => [SITES[i], Number(x?.objectCount ?? 0)])),
        waitSynced: synced,
        verify: { code: verify.code, identical, line: verifyLine },
        exitCode
      }
      fs.writeFileSync(c.json, JSON.stringify(summary, null, 2) + '\n')
      say(`JSON summary: ${c.json}`)
    }
    await stopAll(nodes)
    if (!c.keep && exitCode !== 1) for (const n of nodes) fs.rmSync(n.dataDir, { recursive: true, force: true })
    else say(`data kept in ${c.logs}`)
    process.exit(exitCode)
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`)
    await Promise.all(writers.map(async w => await w.stop().catch(() => {})))
    await stopAll(nodes)
    process.exit(1)
  }
}

main().catch((err) => { process.stderr.write(`soak: ${(err as Error).message}\n`); process.exit(1) })
