/**
 * Property-based fuzzing of every RPC of a live node (fast-check, fixed seed,
 * printed). Two real node processes: A holds the seeded bucket, B syncs it
 * from A, so B has sync progress objects. B is the node under fuzz:
 *
 * - typed fuzz: random and malformed (but encodable) messages to every
 *   method through the generated clients: huge, unicode, NUL-containing
 *   strings, random numbers (negatives reach uint32 fields as raw varints),
 *   random shard numbers, notice strings, cursors and caller site ids.
 * - raw fuzz: arbitrary byte payloads to every method path through a plain
 *   grpc.Client with identity serializers, so the server must decode garbage.
 *
 * Every method of the loaded proto is fuzzed both ways (asserted: the
 * typed generators and the raw paths cover exactly the proto's methods).
 * Inputs are drawn from the fixed seed up front (fc.sample) and sent
 * CONCURRENCY at a time, FUZZ_TYPED_RUNS + FUZZ_RAW_RUNS in all (10,000 by
 * default, the issue's floor). Every case's status must be a proper one
 * (never UNKNOWN, never INTERNAL); every CHECK_EVERY cases, with nothing in
 * flight, the node must answer health SERVING and the client-visible state
 * (ListBuckets, ListObjects of the seeded bucket, ListShards, ListPeers,
 * per-shard sync progress from SyncStatus) must equal the baseline (a
 * change names the cases of that window). At the end node B is stopped and
 * a digest of every key and value of both its LevelDBs is compared with
 * one taken before the fuzz. Inputs that would be a valid mutation are
 * never sent.
 */
import crypto from 'node:crypto'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import fc from 'fast-check'
import t from 'tap'
import { service as healthServiceDefinition } from 'grpc-health-check'
import { createBucket, putObject } from '../../node/cli/object-commands'
import { callUnary, createClients, type Clients } from '../../node/rpc/clients'
import { loadShardsyncProto } from '../../node/rpc/proto'
import { CODE_METADATA_KEY } from '../../node/rpc/status-map'
import { parseNotice } from '../../node/sync/notices'
import { isValidSiteId, validateBucketName, validateObjectKey } from '../../storage/validate'
import { connectAll, NodeProcess, stopAll, waitFor } from '../../scripts/lib/cluster'
import { CONTENT_DIR } from '../../storage/content-store'
import { openDatabase } from '../../storage/database'

t.setTimeout(400_000)

const SEED = Number(process.env.FUZZ_SEED ?? 20261123)
const TYPED_RUNS = Number(process.env.FUZZ_TYPED_RUNS ?? 5400)
const RAW_RUNS = Number(process.env.FUZZ_RAW_RUNS ?? 5000)
/** Cases in flight at once. */
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 8)
/** Health and state are checked after this many cases. */
const CHECK_EVERY = 200
const BUCKET = 'seed-bucket'
const SEEDED_KEYS = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(4, '0')}`)

// Log trimming is off, and A reports no positions to B: both change stored
// state on their own (by design), and this test checks that no input does.
const NODE_ARGS = ['--shards', '2', '--split-threshold', '1000', '--sync-interval-ms', '200', '--max-object-bytes', String(1024 * 1024), '--log-trim-interval-ms', '0', '--position-report-ms', '86400000']
const a = new NodeProcess({ site: 'A', args: NODE_ARGS })
const b = new NodeProcess({ site: 'B', args: NODE_ARGS })
const callerClients = new Map<string, Clients>()
let bucketIdOnA = ''
let knownShardCount = 0

const validBucket = (s: string): boolean => { try { validateBucketName(s); return true } catch { return false } }
const validKey = (s: string): boolean => { try { validateObjectKey(s); return true } catch { return false } }
const validNotice = (s: string): boolean => { try { parseNotice(s); return true } catch { return false } }

type HealthClient = grpc.Client & { Check: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string | number }) => void) => void }
let health: HealthClient
let raw: grpc.Client

async function checkHealth (): Promise<string> {
  return await new Promise((resolve, reject) => health.Check({ service: '' }, { deadline: Date.now() + 5000 }, (err, res) => err !== null ? reject(err) : resolve(String(res?.status))))
}

/** Everything a client can see of B's stored state, as one string. */
async function snapshot (): Promise<string> {
  const c = b.clients
  const buckets = await callUnary<object, { buckets: unknown[] }>(c.object, 'ListBuckets', {})
  const objects = await callUnary<object, unknown>(c.object, 'ListObjects', { bucket: BUCKET, limit: 1000 })
  const shards = await callUnary<object, unknown>(c.sync, 'ListShards', { bucket: BUCKET })
  const peers = await callUnary<object, unknown>(c.admin, 'ListPeers', {})
  const status = await callUnary<object, { peers: Array<{ peer: string, buckets: Array<{ bucket: string, sourceBucketId: string, shards: number, shardStatus: Array<Record<string, unknown>> }> }> }>(c.admin, 'SyncStatus', { peer: 'A' })
  const progress = status.peers.map(p => ({
    peer: p.peer,
    buckets: p.buckets.map(bk => ({
      bucket: bk.bucket,
      id: bk.sourceBucketId,
      shards: bk.shards,
      detail: bk.shardStatus.map(s => [s.shard, s.state, s.logCursor, s.newShardsByNotice, s.newShardsByPull, s.foundBy])
    }))
  }))
  return JSON.stringify({ buckets, objects, shards, peers, progress })
}

t.before(async () => {
  await Promise.all([a.start(), b.start()])
  await createBucket(a.clients, BUCKET, { shards: 2, splitThreshold: 1000, autoSplit: false })
  for (const k of SEEDED_KEYS) await putObject(a.clients, BUCKET, k, Buffer.from(`value of ${k}`))
  await connectAll([a, b])
  const shardsOnA = await callUnary<object, { bucketId: string, shards: unknown[] }>(a.clients.sync, 'ListShards', { bucket: BUCKET })
  bucketIdOnA = shardsOnA.bucketId
  knownShardCount = shardsOnA.shards.length
  await waitFor(async () => {
    const page = await callUnary<object, { objects: unknown[] }>(b.clients.object, 'ListObjects', { bucket: BUCKET, limit: 1000 })
    const st = await callUnary<object, { peers: Array<{ caughtUp: boolean }> }>(b.clients.admin, 'SyncStatus', { peer: 'A' })
    return page.objects.length === SEEDED_KEYS.length && st.peers.every(p => p.caughtUp)
  }, { timeoutMs: 60_000, what: 'B to sync the seeded bucket from A' })
  // Stable state: two equal snapshots a sync round apart.
  await waitFor(async () => {
    const s1 = await snapshot()
    await new Promise(resolve => setTimeout(resolve, 600))
    return s1 === await snapshot()
  }, { timeoutMs: 30_000, what: 'a stable snapshot' })
  for (const site of ['A', 'B', 'C', 'evil:site']) callerClients.set(site, createClients(b.address, { metadata: { 'shardsync-site': site } }))
  const Health = grpc.makeGenericClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health')
  health = new Health(b.address, grpc.credentials.createInsecure()) as unknown as HealthClient
  raw = new grpc.Client(b.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 16 * 1024 * 1024 })
})

t.teardown(async () => {
  for (const c of callerClients.values()) c.close()
  health?.close()
  raw?.close()
  await stopAll([a, b])
})

// ---------------------------------------------------------------- arbitraries

const hugeString = fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 500, max: 400_000 })).map(([s, n]) => s.repeat(n))
const anyString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom('', '\u0000', 'a\u0000b', '\uD800', 'x\uDFFFy', '..', 'A', 'B', BUCKET, 'k0001', ':', ':::', 'a'.repeat(1025), '\u{1F600}'.repeat(300)) },
  { weight: 1, arbitrary: hugeString }
)
/** uint32 fields: in range, and negatives / overflows that the encoder turns into raw varints. */
const anyUint = fc.oneof(
  fc.integer({ min: 0, max: 10 }),
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: -(2 ** 31), max: -1 }),
  fc.constantFrom(0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xffffffff, -1)
)
const anyUint64 = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeInteger().map(Math.abs), fc.integer({ min: -(2 ** 31), max: -1 }))
const bucketArb = fc.oneof({ weight: 3, arbitrary: fc.constant(BUCKET) }, { weight: 4, arbitrary: anyString })
const keyArb = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...SEEDED_KEYS) }, { weight: 5, arbitrary: anyString })
const siteArb = fc.constantFrom('A', 'B', 'C', 'evil:site', '')
const noticeArb = fc.oneof(
  anyString,
  fc.tuple(
    fc.oneof(fc.constantFrom('A', 'B', 'C', ''), anyString),
    fc.oneof(fc.constant('@ID@'), anyString, fc.constantFrom('x', 'bucket-1')),
    fc.oneof(fc.integer({ min: -5, max: 2 ** 32 }).map(String), anyString),
    fc.oneof(fc.integer({ min: -5, max: 2 ** 32 }).map(String), anyString)
  ).map(parts => parts.join(':'))
)

type Call = { service: 'object' | 'sync' | 'admin', method: string, kind: 'unary' | 'server' | 'client', req: unknown, messages?: unknown[] }

const typedCall: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ name: anyString, initialShards: anyUint, splitThreshold: anyUint64, autoSplit: fc.option(fc.boolean(), { nil: undefined }) })
    .map(req => ({ service: 'object' as const, method: 'CreateBucket', kind: 'unary' as const, req })),
  fc.constant({ service: 'object' as const, method: 'ListBuckets', kind: 'unary' as const, req: {} }),
  fc.record({ name: bucketArb }).map(req => ({ service: 'object' as const, method: 'DeleteBucket', kind: 'unary' as const, req })),
  fc.tuple(bucketArb, keyArb, fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 3 }), fc.boolean())
    .map(([bucket, key, chunks, emptyFirst]) => ({
      service: 'object' as const,
      method: 'PutObject',
      kind: 'client' as const,
      req: undefined,
      messages: emptyFirst ? [{ data: Buffer.from('x') }, ...chunks.map(d => ({ bucket, key, data: Buffer.from(d) }))] : [{ bucket, key, data: Buffer.from(chunks[0] ?? []) }, ...chunks.slice(1).map(d => ({ data: Buffer.from(d) }))]
    })),
  fc.record({ bucket: bucketArb, key: keyArb }).map(req => ({ service: 'object' as const, method: 'GetObject', kind: 'server' as const, req })),
  fc.record({ bucket: bucketArb, key: keyArb }).map(req => ({ service: 'object' as const, method: 'HeadObject', kind: 'unary' as const, req })),
  fc.record({ bucket: bucketArb, key: keyArb }).map(req => ({ service: 'object' as const, method: 'DeleteObject', kind: 'unary' as const, req })),
  fc.record({ bucket: bucketArb, prefix: anyString, startAfter: anyString, limit: anyUint }).map(req => ({ service: 'object' as const, method: 'ListObjects', kind: 'unary' as const, req })),
  fc.record({ bucket: bucketArb }).map(req => ({ service: 'sync' as const, method: 'ListShards', kind: 'unary' as const, req })),
  fc.record({ bucket: bucketArb, shard: anyUint, marker: anyString, limit: anyUint }).map(req => ({ service: 'sync' as const, method: 'ListIndex', kind: 'unary' as const, req })),
  fc.record({ bucket: bucketArb, key: keyArb }).map(req => ({ service: 'sync' as const, method: 'GetObject', kind: 'server' as const, req })),
  fc.record({ bucket: bucketArb, keys: fc.oneof(fc.array(keyArb, { maxLength: 8 }), fc.integer({ min: 1000, max: 3000 }).map(n => Array.from({ length: n }, (_, i) => `k${i}`))) })
    .map(req => ({ service: 'sync' as const, method: 'FetchObjects', kind: 'server' as const, req })),
  fc.record({ bucket: bucketArb, shard: anyUint }).map(req => ({ service: 'sync' as const, method: 'QuerySplitState', kind: 'unary' as const, req })),
  fc.record({ bucket: bucketArb, shard: anyUint, marker: anyString, includeDeleted: fc.boolean(), inlineMaxBytes: anyUint, referenceOriginSite: fc.oneof(siteArb, anyString) })
    .map(req => ({ service: 'sync' as const, method: 'StreamShard', kind: 'server' as const, req })),
  noticeArb.map(s => ({ service: 'sync' as const, method: 'NotifyReshardComplete', kind: 'unary' as const, req: { sourceReshardSyncInfo: s } })),
  fc.record({
    bucket: bucketArb,
    cursors: fc.array(fc.record({ shard: anyUint, afterSeq: anyUint64 }), { maxLength: 6 }),
    limit: anyUint,
    waitMs: fc.oneof(fc.integer({ min: 0, max: 50 }), anyUint),
    excludeOrigin: fc.oneof(siteArb, anyString)
  }).map(req => ({ service: 'sync' as const, method: 'PullChanges', kind: 'unary' as const, req })),
  fc.constant({ service: 'admin' as const, method: 'NodeInfo', kind: 'unary' as const, req: {} }),
  fc.record({ bucket: bucketArb, shard: anyUint }).map(req => ({ service: 'admin' as const, method: 'SplitShard', kind: 'unary' as const, req })),
  fc.record({ id: fc.oneof(siteArb, anyString), address: fc.oneof(anyString, fc.constantFrom('127.0.0.1:1', 'host:99999', ':0', '[::1]:')) })
    .map(req => ({ service: 'admin' as const, method: 'AddPeer', kind: 'unary' as const, req })),
  fc.record({ id: fc.oneof(siteArb, anyString) }).map(req => ({ service: 'admin' as const, method: 'RemovePeer', kind: 'unary' as const, req })),
  fc.constant({ service: 'admin' as const, method: 'ListPeers', kind: 'unary' as const, req: {} }),
  fc.record({ peer: fc.oneof(siteArb, anyString), summaryOnly: fc.boolean() }).map(req => ({ service: 'admin' as const, method: 'SyncStatus', kind: 'unary' as const, req }))
)

/**
 * Methods added after the typed sample was fixed are drawn apart (their own
 * seed), so that adding one does not reshuffle the inputs of all the others.
 */
const laterTypedCall: fc.Arbitrary<Call> = fc.oneof(
  fc.record({
    bucket: bucketArb,
    positions: fc.array(fc.record({ shard: anyUint, seq: anyUint64, incremental: fc.boolean() }), { maxLength: 6 }),
    reporterBucketId: fc.oneof(anyString, fc.constantFrom('abc123', '')),
    heads: fc.array(fc.record({ shard: anyUint, afterSeq: anyUint64 }), { maxLength: 6 })
  }).map(req => ({ service: 'sync' as const, method: 'ReportPositions', kind: 'unary' as const, req })),
)
const LATER_RUNS = Number(process.env.FUZZ_LATER_RUNS ?? 400)

/** Would this request (typed or decoded from raw bytes) be a valid mutation? Those are never sent. */
function isValidMutation (method: string, req: Record<string, unknown>, messages?: Array<Record<string, unknown>>): boolean {
  const str = (v: unknown): string => typeof v === 'string' ? v : ''
  switch (method) {
    case 'CreateBucket': return validBucket(str(req.name))
    case 'DeleteBucket': return validBucket(str(req.name)) && str(req.name) !== BUCKET // only an empty bucket could go; B has none
    case 'PutObject': {
      const first = messages?.[0] ?? req
      return str(first.bucket) === BUCKET || (validBucket(str(first.bucket)) && validKey(str(first.key)))
    }
    case 'DeleteObject': return str(req.bucket) === BUCKET && SEEDED_KEYS.includes(str(req.key))
    case 'SplitShard': return str(req.bucket) === BUCKET
    case 'AddPeer': return isValidSiteId(req.id) && req.id !== 'B'
    case 'RemovePeer': return req.id === 'A'
    case 'ReportPositions': return str(req.bucket) === BUCKET // a valid report is stored: never sent
    case 'NotifyReshardComplete': return validNotice(str(req.sourceReshardSyncInfo)) || str(req.sourceReshardSyncInfo).includes(bucketIdOnA)
    default: return false
  }
}

// ---------------------------------------------------------------- running calls

interface Outcome { code: grpc.status, shardsyncCode?: string, details: string, local?: boolean }

function outcomeOf (err: grpc.ServiceError | null | undefined): Outcome {
  if (err === null || err === undefined) return { code: grpc.status.OK, details: '' }
  const sc = err.metadata?.get(CODE_METADATA_KEY)[0]
  return { code: err.code, shardsyncCode: typeof sc === 'string' ? sc : undefined, details: String(err.details) }
}

const DEADLINE_MS = 10_000

async function runTyped (call: Call, caller: string): Promise<Outcome> {
  const clients = callerClients.get(caller) ?? b.clients
  const client = clients[call.service] as unknown as Record<string, (...args: unknown[]) => unknown>
  const opts: grpc.CallOptions = { deadline: Date.now() + DEADLINE_MS }
  return await new Promise<Outcome>((resolve) => {
    try {
      if (call.kind === 'unary') {
        client[call.method](call.req, new grpc.Metadata(), opts, (err: grpc.ServiceError | null) => resolve(outcomeOf(err)))
      } else if (call.kind === 'server') {
        const s = client[call.method](call.req, new grpc.Metadata(), opts) as grpc.ClientReadableStream<unknown>
        s.on('data', () => {})
        s.on('error', (err: grpc.ServiceError) => resolve(outcomeOf(err)))
        s.on('status', (st: grpc.StatusObject) => { if (st.code === grpc.status.OK) resolve(outcomeOf(null)) })
      } else {
        const s = client[call.method](new grpc.Metadata(), opts, (err: grpc.ServiceError | null) => resolve(outcomeOf(err))) as grpc.ClientWritableStream<unknown>
        for (const m of call.messages ?? []) s.write(m)
        s.end()
      }
    } catch (err) {
      // Refused by the client's own serializer: never reached the server.
      resolve({ code: grpc.status.INVALID_ARGUMENT, details: String(err), local: true })
    }
  })
}

interface MethodInfo { path: string, name: string, requestStream: boolean, responseStream: boolean, decode: (b: Buffer) => Record<string, unknown> }

function allMethods (): MethodInfo[] {
  const v1 = loadShardsyncProto().grpcObject.shardsync.v1
  const out: MethodInfo[] = []
  for (const svc of [v1.ObjectService, v1.SyncService, v1.AdminService]) {
    for (const [name, def] of Object.entries(svc.service as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>)) {
      out.push({ path: def.path, name, requestStream: def.requestStream, responseStream: def.responseStream, decode: (buf) => def.requestDeserialize(buf) as Record<string, unknown> })
    }
  }
  return out
}

const identity = (x: Buffer): Buffer => x

async function runRaw (m: MethodInfo, payloads: Buffer[]): Promise<Outcome> {
  const opts: grpc.CallOptions = { deadline: Date.now() + DEADLINE_MS }
  return await new Promise<Outcome>((resolve) => {
    if (!m.requestStream && !m.responseStream) {
      raw.makeUnaryRequest(m.path, identity, identity, payloads[0], new grpc.Metadata(), opts, (err) => resolve(outcomeOf(err)))
    } else if (m.responseStream) {
      const s = raw.makeServerStreamRequest(m.path, identity, identity, payloads[0], new grpc.Metadata(), opts)
      s.on('data', () => {})
      s.on('error', (err: grpc.ServiceError) => resolve(outcomeOf(err)))
      s.on('status', (st: grpc.StatusObject) => { if (st.code === grpc.status.OK) resolve(outcomeOf(null)) })
    } else {
      const s = raw.makeClientStreamRequest(m.path, identity, identity, new grpc.Metadata(), opts, (err) => resolve(outcomeOf(err)))
      for (const p of payloads) s.write(p)
      s.end()
    }
  })
}

// ---------------------------------------------------------------- the run

interface Stats { cases: number, skipped: number, local: number, byCode: Record<string, number>, bad: Array<{ what: string, outcome: Outcome }>, uncoded: Array<{ what: string, outcome: Outcome }>, changed: string[] }
const stats: Stats = { cases: 0, skipped: 0, local: 0, byCode: {}, bad: [], uncoded: [], changed: [] }
let baseline = ''

function proper (o: Outcome): boolean {
  return o.code !== grpc.status.UNKNOWN && o.code !== grpc.status.INTERNAL
}

function describe (x: unknown): string {
  const s = JSON.stringify(x, (_k, v: unknown) => typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : (v instanceof Uint8Array ? Buffer.from(v).toString('hex').slice(0, 80) : v))
  return s.length > 400 ? s.slice(0, 400) + '…' : s
}

function record (what: string, o: Outcome): void {
  stats.cases++
  if (o.local === true) stats.local++
  const name = o.shardsyncCode !== undefined ? `${grpc.status[o.code]}/${o.shardsyncCode}` : grpc.status[o.code]
  stats.byCode[name] = (stats.byCode[name] ?? 0) + 1
  if (!proper(o)) stats.bad.push({ what, outcome: o })
  // The client computes DEADLINE_EXCEEDED (its own deadline) and CANCELLED itself.
  if (o.code !== grpc.status.OK && o.code !== grpc.status.DEADLINE_EXCEEDED && o.code !== grpc.status.CANCELLED && o.local !== true && o.shardsyncCode === undefined) stats.uncoded.push({ what: what.slice(0, 120), outcome: o })
}

/** A case: what it is (for reports), and how to run it (undefined: a valid mutation, not sent). */
interface Case { what: string, run?: () => Promise<Outcome> }

/** Runs the cases CONCURRENCY at a time; after each CHECK_EVERY, with none in flight, checks health and state. */
async function runAll (cases: Case[]): Promise<void> {
  for (let from = 0; from < cases.length; from += CHECK_EVERY) {
    const window = cases.slice(from, from + CHECK_EVERY)
    let next = 0
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < window.length) {
        const c = window[next++]
        if (c.run === undefined) { stats.skipped++; continue }
        record(c.what, await c.run())
      }
    }))
    const h = await checkHealth()
    if (h !== 'SERVING') throw new Error(`health is ${h} after case ${from + window.length}`)
    const now = await snapshot()
    if (now !== baseline) {
      stats.changed.push(`state changed by one of cases ${from}-${from + window.length - 1}: ${window.filter(c => c.run !== undefined).slice(0, 3).map(c => c.what).join(' / ')} …`)
      baseline = now
    }
  }
}

/** Every key and value of both of B's LevelDBs, hashed (B must be stopped). */
async function leveldbDigest (): Promise<{ digest: string, keys: number }> {
  const hash = crypto.createHash('sha256')
  let n = 0
  for (const dir of [b.dataDir, path.join(b.dataDir, CONTENT_DIR)]) {
    const db = await openDatabase(dir)
    try {
      for await (const [k, v] of db.iterator<string, Buffer>({ valueEncoding: 'buffer' })) {
        hash.update(`${dir === b.dataDir ? 'main' : 'content'}\0${k}\0`).update(v).update('\0')
        n++
      }
    } finally {
      await db.close()
    }
  }
  return { digest: hash.digest('hex'), keys: n }
}

/** "ObjectService.PutObject" for every method of the loaded proto. */
function protoMethodNames (): string[] {
  return allMethods().map(m => m.path.slice(m.path.lastIndexOf('.') + 1).replace('/', '.')).sort()
}

const SERVICE_NAME = { object: 'ObjectService', sync: 'SyncService', admin: 'AdminService' } as const

t.test('fuzz every RPC of a live node', async t => {
  // The LevelDB digest before: B stopped, read, started again.
  await b.stop()
  const before = await leveldbDigest()
  await b.start(b.port)
  await waitFor(async () => {
    const s1 = await snapshot()
    await new Promise(resolve => setTimeout(resolve, 600))
    return s1 === await snapshot()
  }, { timeoutMs: 30_000, what: 'a stable snapshot after the restart' })
  for (const c of callerClients.values()) c.close()
  callerClients.clear()
  for (const site of ['A', 'B', 'C', 'evil:site']) callerClients.set(site, createClients(b.address, { metadata: { 'shardsync-site': site } }))
  health.close()
  raw.close()
  const Health = grpc.makeGenericClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health')
  health = new Health(b.address, grpc.credentials.createInsecure()) as unknown as HealthClient
  raw = new grpc.Client(b.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 16 * 1024 * 1024 })

  const started = Date.now()
  baseline = await snapshot()
  t.comment(`fast-check seed ${SEED} (override with FUZZ_SEED); ${TYPED_RUNS} typed + ${RAW_RUNS} raw inputs, ${CONCURRENCY} at a time`)

  // Typed: the generated clients, random caller site ids.
  const typed = [
    ...fc.sample(fc.tuple(typedCall, siteArb), { seed: SEED, numRuns: TYPED_RUNS }),
    ...fc.sample(fc.tuple(laterTypedCall, siteArb), { seed: SEED + 2, numRuns: LATER_RUNS })
  ]
  const typedMethods = new Set(typed.map(([call]) => `${SERVICE_NAME[call.service]}.${call.method}`))
  t.same([...typedMethods].sort(), protoMethodNames(), 'typed inputs reach every method of the proto')
  const typedCases: Case[] = typed.map(([call, caller]) => {
    const req = call.req as Record<string, unknown> | undefined
    if (req !== undefined && 'sourceReshardSyncInfo' in req) req.sourceReshardSyncInfo = String(req.sourceReshardSyncInfo).replace('@ID@', bucketIdOnA)
    const what = `typed ${call.service}.${call.method} as ${caller}: ${describe(call.req ?? call.messages)}`
    if (isValidMutation(call.method, req ?? {}, call.messages as Array<Record<string, unknown>>)) return { what }
    return { what, run: async () => await runTyped(call, caller) }
  })

  // Raw: arbitrary bytes to every method path.
  const methods = allMethods()
  t.equal(methods.length, protoMethodNames().length, 'raw inputs go to every method path of the proto')
  const payload = fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 64, maxLength: 2048 }) },
    // a plausible field header followed by garbage, so decoding gets further
    { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 40 })).map(([f, w, rest]) => Uint8Array.from([(f << 3) | w, ...rest])) },
    // string fields holding bytes that are not UTF-8
    { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ minLength: 1, maxLength: 12 })).map(([f, bytes]) => Uint8Array.from([(f << 3) | 2, bytes.length + 1, 0xff, ...bytes])) },
    { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 2_000_000 }).map(n => new Uint8Array(n).fill(0xff)) }
  )
  const rawInputs = fc.sample(fc.tuple(fc.constantFrom(...methods), fc.array(payload, { minLength: 1, maxLength: 3 })), { seed: SEED + 1, numRuns: RAW_RUNS })
  t.same([...new Set(rawInputs.map(([m]) => m.path))].sort(), methods.map(m => m.path).sort(), 'raw inputs reach every method path')
  const rawCases: Case[] = rawInputs.map(([m, payloads]) => {
    const buffers = payloads.map(p => Buffer.from(p))
    let decoded: Array<Record<string, unknown>> | undefined
    try { decoded = buffers.map(m.decode) } catch { decoded = undefined }
    const what = `raw ${m.path} (${decoded === undefined ? 'undecodable' : 'decodable'}): ${buffers.map(x => x.toString('hex').slice(0, 60)).join(' | ')}`
    if (decoded !== undefined && isValidMutation(m.name, decoded[0], decoded)) return { what }
    return { what, run: async () => await runRaw(m, m.requestStream ? buffers : buffers.slice(0, 1)) }
  })

  // And one message over --max-message-bytes (8 MiB) to every method: refused by grpc-js itself.
  const huge = Buffer.alloc(9 * 1024 * 1024, 0x0a)
  for (const m of methods) rawCases.push({ what: `raw ${m.path}: a 9 MiB message`, run: async () => await runRaw(m, [huge]) })

  await runAll(typedCases)
  const typedRun = stats.cases
  t.comment(`typed: ${typedRun} cases sent in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  await runAll(rawCases)
  const seconds = (Date.now() - started) / 1000

  t.equal(await checkHealth(), 'SERVING', 'node B still SERVING at the end')
  t.equal(await snapshot(), baseline, 'final state equals the baseline')
  t.equal(b.proc?.exitCode, null, 'node B never exited')
  t.ok(stats.cases >= 10_000 || TYPED_RUNS + LATER_RUNS + RAW_RUNS < 10_600, `at least 10,000 generated inputs sent (${stats.cases}; ${stats.skipped} more were valid mutations, not sent)`)
  t.same(stats.bad.slice(0, 5), [], 'no UNKNOWN or INTERNAL status for bad input')
  t.same(stats.uncoded.slice(0, 5), [], 'every refusal by the node carries a shardsync-code')
  t.same(stats.changed.slice(0, 5), [], 'no case changed the stored state')
  const internalLogged = b.logged('internal error').length
  t.equal(internalLogged, 0, 'no "internal error" logged by the node', { sample: b.logged('internal error').slice(0, 3) })
  t.comment(`fuzz cases run: ${stats.cases} (typed ${typedRun}, raw ${stats.cases - typedRun}); skipped as valid mutations: ${stats.skipped}; refused client-side: ${stats.local}; ${seconds.toFixed(1)} s`)
  t.comment(`statuses: ${JSON.stringify(stats.byCode)}`)
  if (stats.bad.length > 0) t.comment(`first improper statuses:\n${stats.bad.slice(0, 5).map(x => `  ${grpc.status[x.outcome.code]} ${x.outcome.shardsyncCode ?? '-'} "${x.outcome.details}" <- ${x.what}`).join('\n')}`)

  await b.stop()
  const after = await leveldbDigest()
  t.same(after, before, `LevelDB contents of B unchanged (${before.keys} keys, both databases)`)
})
