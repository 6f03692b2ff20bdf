/**
 * Starts real shardsync node processes on 127.0.0.1 port 0, for tests,
 * `npm run pair`, the cluster script and the bench. One helper for all of
 * them, so every integration path starts nodes the same way.
 *
 * Each node is a child process running the built CLI (`dist/node/cli/main.js
 * node`); its JSON log lines are kept in memory (bounded) and optionally
 * written to a file. kill9() is a real SIGKILL; restart() reuses the data
 * directory and the port, so peers keep reaching it at the same address.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { callUnary, createClients, type Clients } from '../../node/rpc/clients'

export const CLI = path.join(__dirname, '..', '..', 'node', 'cli', 'main.js')
const MAX_LOG_LINES = 20_000

export interface NodeSpec {
  site: string
  dataDir?: string
  /** Extra CLI flags, e.g. ['--split-threshold', '1000']. */
  args?: string[]
  /** Append the node's log lines to this file. */
  logFile?: string
  /** Environment additions. */
  env?: Record<string, string>
}

export interface LogLine { level: number, msg: string, [k: string]: unknown }

export class NodeProcess {
  proc: ChildProcess | undefined
  address = ''
  port = 0
  readonly lines: LogLine[] = []
  readonly dataDir: string
  private exited: Promise<number | null> = Promise.resolve(null)
  private clientsCache: Clients | undefined

  constructor (readonly spec: NodeSpec) {
    this.dataDir = spec.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `shardsync-${spec.site}-`))
  }

  get clients (): Clients {
    this.clientsCache ??= createClients(this.address)
    return this.clientsCache
  }

  /** Starts the process and waits for its "listening" line. */
  async start (port = this.port): Promise<this> {
    const args = [CLI, 'node', '--site', this.spec.site, '--listen', `127.0.0.1:${port}`, '--data', this.dataDir, ...(this.spec.args ?? [])]
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.spec.env } })
    this.proc = proc
    this.exited = new Promise(resolve => proc.once('exit', (code) => resolve(code)))
    const logStream = this.spec.logFile !== undefined ? fs.createWriteStream(this.spec.logFile, { flags: 'a' }) : undefined
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); logStream?.write(d) })
    const listening = new Promise<string>((resolve, reject) => {
      const rl = readline.createInterface({ input: proc.stdout as NodeJS.ReadableStream })
      rl.on('line', (line) => {
        logStream?.write(line + '\n')
        let parsed: LogLine | undefined
        try { parsed = JSON.parse(line) as LogLine } catch { return }
        if (this.lines.length >= MAX_LOG_LINES) this.lines.splice(0, MAX_LOG_LINES / 2)
        this.lines.push(parsed)
        if (parsed.msg === 'listening') resolve(String(parsed.address))
      })
      proc.once('exit', (code) => reject(new Error(`node ${this.spec.site} exited with ${code} before listening: ${stderr.trim()}`)))
    })
    this.address = await listening
    this.port = Number(this.address.slice(this.address.lastIndexOf(':') + 1))
    return this
  }

  /** SIGTERM and wait for a clean exit. */
  async stop (): Promise<number | null> {
    this.closeClients()
    if (this.proc === undefined || this.proc.exitCode !== null) return this.proc?.exitCode ?? null
    this.proc.kill('SIGTERM')
    return await this.exited
  }

  /** SIGKILL: no cleanup at all. */
  async kill9 (): Promise<void> {
    this.closeClients()
    if (this.proc === undefined || this.proc.exitCode !== null) return
    this.proc.kill('SIGKILL')
    await this.exited
  }

  async restart (): Promise<this> {
    if (this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null) await this.stop()
    // The port was free while the node was down: a process binding port 0
    // meanwhile may hold it for a moment (parallel tests). Retried for up
    // to 10 s; a port taken for good still fails.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.start(this.port)
      } catch (err) {
        if (attempt >= 40 || !/EADDRINUSE/.test((err as Error).message)) throw err
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    }
  }

  /** Log lines with this message. */
  logged (msg: string): LogLine[] {
    return this.lines.filter(l => l.msg === msg)
  }

  private closeClients (): void {
    this.clientsCache?.close()
    this.clientsCache = undefined
  }
}

/** Starts nodes; does not connect them. */
export async function startNodes (specs: NodeSpec[]): Promise<NodeProcess[]> {
  return await Promise.all(specs.map(async s => await new NodeProcess(s).start(0)))
}

/** Makes every node a peer of every other one (AdminService.AddPeer). */
export async function connectAll (nodes: NodeProcess[]): Promise<void> {
  for (const a of nodes) {
    for (const b of nodes) {
      if (a !== b) await callUnary(a.clients.admin, 'AddPeer', { id: b.spec.site, address: b.address })
    }
  }
}

/** Connects in one direction only: `target` syncs from `source`, and `source` notifies `target`. */
export async function connectOneWay (source: NodeProcess, target: NodeProcess): Promise<void> {
  await callUnary(target.clients.admin, 'AddPeer', { id: source.spec.site, address: source.address })
  await callUnary(source.clients.admin, 'AddPeer', { id: target.spec.site, address: target.address })
}

export async function stopAll (nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map(async n => await n.stop().catch(() => null)))
}

/** Polls `check` until it returns a truthy value, or throws after timeoutMs. */
export async function waitFor<T> (check: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number, intervalMs?: number, what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
  let lastErr: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      lastErr = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${lastErr !== undefined ? `: ${(lastErr as Error).message}` : ''}`)
    await new Promise(resolve => setTimeout(resolve, opts.intervalMs ?? 200))
  }
}

/** Runs the CLI as a child process (e.g. verify) and returns its output. */
export async function runCli (args: string[], opts: { timeoutMs?: number, env?: Record<string, string> } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`shardsync ${args.join(' ')} timed out`)) }, opts.timeoutMs ?? 300_000)
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}
