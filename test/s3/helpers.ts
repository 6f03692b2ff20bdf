/**
 * Helpers of the S3 tests (test/s3/*.test.ts): nodes with --s3 on port 0,
 * their S3 endpoints from the "listening" line, wait-synced, the real
 * clients (rclone, s3cmd, boto3) run as child processes with an environment
 * of their own, and a small SigV4 signer for the error cases (built on
 * node/s3/sigv4.ts, whose verification test/s3/sigv4.test.ts checks against
 * AWS's worked examples).
 *
 * A client that is missing fails the test in CI (env CI set) and is skipped,
 * naming why, elsewhere.
 */
import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { DEV_S3_KEY } from '../../node/rpc/credentials'
import { EMPTY_SHA256, signatureOf, signingKey, stringToSign, canonicalRequest, parseQuery, scopeOf } from '../../node/s3/sigv4'
import { connectAll, runCli } from '../../scripts/lib/cluster'
import { startSites, type NodeProcess, type TestLike } from '../sync/helpers'

export { DEV_S3_KEY }

/** The S3 endpoint (http://HOST:PORT) a node logged at its last start. */
export function s3Endpoint (node: NodeProcess): string {
  const line = [...node.lines].reverse().find(l => l.msg === 'listening')
  if (line?.s3 === undefined) throw new Error(`${node.spec.site} serves no S3`)
  return `http://${String(line.s3)}`
}

/** Two sites A and B, each with S3 on a free port, peers of each other. */
export async function startS3Pair (t: TestLike, args: string[] = []): Promise<[NodeProcess, NodeProcess]> {
  const [a, b] = await startSites(t, [{ site: 'A', args: ['--s3', '127.0.0.1:0', ...args] }, { site: 'B', args: ['--s3', '127.0.0.1:0', ...args] }])
  await connectAll([a, b])
  return [a, b]
}

/** `shardsync wait-synced` on a node: its syncs from every peer are caught up. */
export async function waitSynced (t: TestLike, node: NodeProcess): Promise<void> {
  const r = await runCli(['wait-synced', '--node', node.address, '--timeout', '300'], { timeoutMs: 320_000 })
  if (r.code !== 0) throw new Error(`wait-synced on ${node.spec.site} failed: ${r.stderr}`)
  t.comment(`${node.spec.site}: wait-synced`)
}

/** The environment of a client: none of the AWS_* variables or config files of the machine. */
export function clientEnv (home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('RCLONE_')) env[k] = v
  return { ...env, HOME: home, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' }
}

export interface Run { code: number | null, stdout: string, stderr: string }

export async function run (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv, input?: string, timeoutMs?: number } = {}): Promise<Run> {
  return await new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${cmd} timed out`)) }, opts.timeoutMs ?? 300_000)
    p.on('error', (err) => { clearTimeout(timer); reject(err) })
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    p.stdin.end(opts.input ?? '')
  })
}

/** The path of a command on PATH, or undefined. */
export function which (cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

/**
 * Whether a client is there. Missing: in CI the test fails (CI installs it:
 * .ci/run), elsewhere it is skipped with the reason. Returns false then.
 */
export function needClient (t: TestLike, name: string, found: boolean, install: string): boolean {
  if (found) return true
  if (process.env.CI !== undefined && process.env.CI !== '') t.fail(`${name} is missing in CI: .ci/run must install it (${install})`)
  else t.pass(`${name} cases`, { skip: `${name} is not installed here (${install}); CI installs it` })
  return false
}

/** Python interpreters that can import boto3, one per boto3 version (Debian's /usr/bin/python3, and python3 on PATH). */
export function boto3Pythons (): Array<{ python: string, version: string }> {
  const seen = new Map<string, string>()
  for (const py of ['/usr/bin/python3', which('python3')]) {
    if (py === undefined || !fs.existsSync(py)) continue
    const r = spawnSync(py, ['-c', 'import boto3; print(boto3.__version__)'], { encoding: 'utf8', env: clientEnv(os.tmpdir()) })
    if (r.status === 0 && !seen.has(r.stdout.trim())) seen.set(r.stdout.trim(), py)
  }
  return [...seen].map(([version, python]) => ({ python, version }))
}

export function tempDir (t: TestLike, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shardsync-s3-${name}-`))
  t.teardown(() => { if (t.passing()) fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

// ---- a raw signed request, for the error cases --------------------------------

export interface RawRequest {
  method: string
  /** Path and query as sent, e.g. "/bkt/key?uploads". */
  url: string
  headers?: Record<string, string>
  body?: Buffer | string | Buffer[]
  accessKey?: string
  secret?: string
  region?: string
  /** Signing time (default now). */
  at?: Date
  /** x-amz-content-sha256 (default: the body's SHA-256). */
  payloadHash?: string
  /** Signature to send instead of the right one. */
  forceSignature?: string
  /** Send no Authorization at all. */
  anonymous?: boolean
  /** The body, made once the seed signature is known (aws-chunked with chunk signatures). */
  bodyFromSeed?: (seed: string, key: Buffer, scope: string, amzDate: string) => Buffer
}

export interface RawAnswer { status: number, headers: http.IncomingHttpHeaders, body: Buffer, code?: string }

export function amzDate (d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
}

/** Signs (header form) and sends one request; returns status, headers, body and the S3 error code if any. */
export async function s3Request (endpoint: string, r: RawRequest): Promise<RawAnswer> {
  const u = new URL(endpoint)
  let body: Buffer = Array.isArray(r.body) ? Buffer.concat(r.body) : Buffer.from(r.body ?? '')
  const at = r.at ?? new Date()
  const date = amzDate(at)
  const qAt = r.url.indexOf('?')
  const rawPath = qAt < 0 ? r.url : r.url.slice(0, qAt)
  const headers: Record<string, string> = { host: u.host, 'x-amz-date': date, 'x-amz-content-sha256': r.payloadHash ?? crypto.createHash('sha256').update(body).digest('hex'), 'content-length': String(body.length), ...(r.headers ?? {}) }
  if (r.anonymous !== true) {
    const signed = Object.keys(headers).map(h => h.toLowerCase()).sort()
    const lower: Record<string, string> = {}
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v
    const claim = { scopeDate: date.slice(0, 8), region: r.region ?? 'us-east-1', service: 's3' }
    const canonical = canonicalRequest({ method: r.method, path: decodeURIComponent(rawPath), query: parseQuery(qAt < 0 ? '' : r.url.slice(qAt + 1)) ?? [], headers: lower }, signed, lower['x-amz-content-sha256'])
    const key = signingKey(r.secret ?? DEV_S3_KEY.secret, claim.scopeDate, claim.region, 's3')
    const sig = r.forceSignature ?? signatureOf(key, stringToSign(date, scopeOf(claim), canonical))
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${r.accessKey ?? DEV_S3_KEY.accessKey}/${claim.scopeDate}/${claim.region}/s3/aws4_request, SignedHeaders=${signed.join(';')}, Signature=${sig}`
    if (r.bodyFromSeed !== undefined) body = r.bodyFromSeed(sig, key, scopeOf(claim), date)
  }
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: r.method, path: r.url, headers }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => {
        const text = Buffer.concat(parts)
        const code = /<Code>([^<]+)<\/Code>/.exec(text.toString('utf8'))?.[1]
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, code })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A presigned GET URL signed at `at`, valid for `expires` seconds. */
export function presignedUrl (endpoint: string, urlPath: string, opts: { at?: Date, expires: number, secret?: string }): string {
  const u = new URL(endpoint)
  const date = amzDate(opts.at ?? new Date())
  const scope = { scopeDate: date.slice(0, 8), region: 'us-east-1', service: 's3' }
  const q = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(`${DEV_S3_KEY.accessKey}/${scopeOf(scope)}`)}&X-Amz-Date=${date}&X-Amz-Expires=${opts.expires}&X-Amz-SignedHeaders=host`
  const canonical = canonicalRequest({ method: 'GET', path: decodeURIComponent(urlPath), query: parseQuery(q) ?? [], headers: { host: u.host } }, ['host'], 'UNSIGNED-PAYLOAD')
  const sig = signatureOf(signingKey(opts.secret ?? DEV_S3_KEY.secret, scope.scopeDate, 'us-east-1', 's3'), stringToSign(date, scopeOf(scope), canonical))
  return `${endpoint}${urlPath}?${q}&X-Amz-Signature=${sig}`
}

/** A plain GET (no signing of its own: for presigned URLs). */
export async function plainGet (url: string): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => {
        const text = Buffer.concat(parts)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, code: /<Code>([^<]+)<\/Code>/.exec(text.toString('utf8'))?.[1] })
      })
    }).on('error', reject)
  })
}

export { EMPTY_SHA256 }
