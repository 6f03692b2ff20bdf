/**
 * Bench section "s3": S3 PUT and GET throughput against the gRPC path, in
 * the same run, on one node serving both (--s3 on a free port), for small
 * (1 KiB) and large (64 MiB) objects. Each path loads its own keys, then
 * reads them all back; the figures are objects/s and MiB/s, and the ratios
 * S3 / gRPC (1 = as fast as gRPC). S3 requests are signed with SigV4 in the
 * header, UNSIGNED-PAYLOAD (what clients send over TLS), over keep-alive
 * HTTP/1.1 connections, one per request in flight. Called by scripts/bench.ts.
 */
import http from 'node:http'
import { createClients } from '../../node/rpc/clients'
import { createBucket, getObject } from '../../node/cli/object-commands'
import { DEV_S3_KEY } from '../../node/rpc/credentials'
import { canonicalRequest, scopeOf, signatureOf, signingKey, stringToSign } from '../../node/s3/sigv4'
import { BodyPool, Contention, type BenchConfig, type ContentionReport, loadObjects, nodeEnv, now, padKey, procCpuSeconds, round, scratch, startNode, stopNodes, waitQuiet } from './common'
import type { NodeProcess } from '../lib/cluster'

export interface S3BenchOptions { smallCount: number, largeCount: number, smallConcurrency: number, largeConcurrency: number }
export interface PathFigures { putPerSecond: number, getPerSecond: number, putMiBPerSecond: number, getMiBPerSecond: number }
export interface SizeResult { bytes: number, count: number, grpc: PathFigures, s3: PathFigures, putRatio: number, getRatio: number, contention: ContentionReport }
export interface S3BenchResult { options: S3BenchOptions, small: SizeResult, large: SizeResult }

const SMALL = 1024
const LARGE = 64 * 1024 * 1024

function amzDate (d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
}

/** One signed S3 request; resolves to the status and the body's length (the body is read and dropped). */
function s3Call (agent: http.Agent, endpoint: URL, method: 'PUT' | 'GET', path: string, body?: Buffer): Promise<{ status: number, bytes: number }> {
  const date = amzDate(new Date())
  const headers: Record<string, string> = { host: endpoint.host, 'x-amz-date': date, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
  if (body !== undefined) headers['content-length'] = String(body.length)
  const signed = Object.keys(headers).sort()
  const scope = { scopeDate: date.slice(0, 8), region: 'us-east-1', service: 's3' }
  const canonical = canonicalRequest({ method, path, query: [], headers }, signed, 'UNSIGNED-PAYLOAD')
  const sig = signatureOf(signingKey(DEV_S3_KEY.secret, scope.scopeDate, 'us-east-1', 's3'), stringToSign(date, scopeOf(scope), canonical))
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${DEV_S3_KEY.accessKey}/${scopeOf(scope)}, SignedHeaders=${signed.join(';')}, Signature=${sig}`
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: endpoint.hostname, port: endpoint.port, method, path, headers }, (res) => {
      let bytes = 0
      res.on('data', (d: Buffer) => { bytes += d.length })
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`S3 ${method} ${path}: HTTP ${res.statusCode}`))
        else resolve({ status: res.statusCode ?? 0, bytes })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Runs fn(i) for i < count with `concurrency` in flight; returns objects per second. */
async function timed (count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  const started = now()
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await fn(next++)
  }))
  return count / ((now() - started) / 1000)
}

function figures (put: number, get: number, bytes: number): PathFigures {
  const mib = bytes / (1024 * 1024)
  return { putPerSecond: round(put, 2), getPerSecond: round(get, 2), putMiBPerSecond: round(put * mib, 1), getMiBPerSecond: round(get * mib, 1) }
}

async function runSize (cfg: BenchConfig, node: NodeProcess, endpoint: URL, bytes: number, count: number, concurrency: number): Promise<SizeResult> {
  const label = bytes === SMALL ? '1 KiB' : '64 MiB'
  const bucket = bytes === SMALL ? 's3-small' : 's3-large'
  const clients = createClients(node.address)
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const pool = new BodyPool(Math.max(4 * 1024 * 1024, bytes === SMALL ? 0 : 8 * 1024 * 1024))
  try {
    await createBucket(clients, bucket, { shards: 16, autoSplit: false })
    await waitQuiet(cfg, `s3 ${label}`)
    const contention = new Contention()
    const cpu0 = procCpuSeconds(node.proc?.pid)
    cfg.log(`  [s3] ${count} x ${label}, ${concurrency} in flight: gRPC PUT`)
    const loaded = await loadObjects(node.address, bucket, { count, size: bytes, concurrency, channels: 2, key: i => padKey('g-', i), log: cfg.log, label: `gRPC ${label}` })
    const grpcPut = loaded.count / loaded.seconds
    cfg.log(`  [s3] gRPC GET`)
    const grpcGet = await timed(count, concurrency, async (i) => {
      const r = await getObject(clients, bucket, padKey('g-', i))
      if (r.data?.length !== bytes) throw new Error('gRPC GET: short object')
    })
    cfg.log(`  [s3] S3 PUT`)
    const big = bytes === SMALL ? undefined : pool.body(0, bytes)
    const s3Put = await timed(count, concurrency, async (i) => {
      await s3Call(agent, endpoint, 'PUT', `/${bucket}/${padKey('s-', i)}`, big ?? pool.body(i, bytes))
    })
    cfg.log(`  [s3] S3 GET`)
    const s3Get = await timed(count, concurrency, async (i) => {
      const r = await s3Call(agent, endpoint, 'GET', `/${bucket}/${padKey('s-', i)}`)
      if (r.bytes !== bytes) throw new Error('S3 GET: short object')
    })
    const busy = contention.stop(procCpuSeconds(node.proc?.pid) - cpu0)
    const grpc = figures(grpcPut, grpcGet, bytes)
    const s3 = figures(s3Put, s3Get, bytes)
    return { bytes, count, grpc, s3, putRatio: round(s3Put / grpcPut, 3), getRatio: round(s3Get / grpcGet, 3), contention: busy }
  } finally {
    agent.destroy()
    clients.close()
  }
}

export async function runS3Bench (cfg: BenchConfig, o: S3BenchOptions): Promise<S3BenchResult> {
  const s = scratch(cfg, 's3')
  let node: NodeProcess | undefined
  try {
    node = await startNode(cfg, s, 's3', ['--s3', '127.0.0.1:0'], nodeEnv(cfg, false))
    const line = node.logged('listening').pop()
    const endpoint = new URL(`http://${String(line?.s3)}`)
    const small = await runSize(cfg, node, endpoint, SMALL, o.smallCount, o.smallConcurrency)
    const large = await runSize(cfg, node, endpoint, LARGE, o.largeCount, o.largeConcurrency)
    return { options: o, small, large }
  } finally {
    await stopNodes(node)
    s.cleanup()
  }
}
