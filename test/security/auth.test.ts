/**
 * Authentication and authorization of real node processes:
 *
 * The deprecated shared token (no --credentials; roles and identities are
 * in auth-matrix.test.ts):
 *
 * - bearer token: no token and a wrong token are UNAUTHENTICATED, the right
 *   one passes, health works without a token, and the token never shows up
 *   in the node's logs.
 * - mutual TLS (throw-away CAs made with the openssl CLI): a client without
 *   a certificate, or with one from an unrelated CA, is refused; the right
 *   certificate passes. Two nodes with mTLS + token sync a bucket, and
 *   `shardsync verify --deep` (given the credentials) says identical.
 * - split notices from a site that is not a peer are PERMISSION_DENIED and
 *   store nothing.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { service as healthServiceDefinition } from 'grpc-health-check'
import { createBucket, listAllObjects, putObject } from '../../node/cli/object-commands'
import { callUnary, createClients, type Clients } from '../../node/rpc/clients'
import { ShardsyncError } from '../../storage/errors'
import { NodeProcess, runCli, waitFor } from '../../scripts/lib/cluster'
import * as certs from './certs'

t.setTimeout(180_000)

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-auth-test-'))
const TOKEN = `tok-${Date.now().toString(36)}-S3cr3t-${Math.random().toString(36).slice(2)}`
const WRONG = `${TOKEN}x`
const nodes: NodeProcess[] = []
const openClients: Array<{ close: () => void }> = []

t.teardown(async () => {
  for (const c of openClients) c.close()
  await Promise.all(nodes.map(async n => await n.stop().catch(() => null)))
  if (t.passing()) fs.rmSync(root, { recursive: true, force: true })
  else t.comment(`auth test files kept in ${root}`)
})

function track<T extends { close: () => void }> (c: T): T { openClients.push(c); return c }

function startNode (site: string, args: string[], env?: Record<string, string>): NodeProcess {
  const n = new NodeProcess({ site, args: ['--shards', '2', '--sync-interval-ms', '200', ...args], env, logFile: path.join(root, `${site}.log`), dataDir: path.join(root, `${site}-data`) })
  nodes.push(n)
  return n
}

type HealthClient = grpc.Client & { Check: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string | number }) => void) => void }

async function healthCheck (address: string, creds = grpc.credentials.createInsecure()): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health')
  const h = track(new Health(address, creds) as unknown as HealthClient)
  return await new Promise((resolve, reject) => h.Check({ service: '' }, { deadline: Date.now() + 10_000 }, (err, res) => err !== null ? reject(err) : resolve(String(res?.status))))
}

/** The error's stable code and gRPC status, or 'OK'. */
async function outcome (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'OK'
  } catch (err) {
    const e = err as ShardsyncError
    const status = (e.cause as grpc.ServiceError | undefined)?.code
    return `${status !== undefined ? grpc.status[status] : '?'}/${e.code}`
  }
}

function allLogText (n: NodeProcess): string {
  const file = n.spec.logFile !== undefined && fs.existsSync(n.spec.logFile) ? fs.readFileSync(n.spec.logFile, 'utf8') : ''
  return JSON.stringify(n.lines) + file
}

// ---------------------------------------------------------------- certificates

const makeCa = (name: string): string => certs.makeCa(root, name)
const makeCert = (ca: string, name: string): certs.CertFiles => certs.makeCert(root, ca, name)

const TOKEN_FILE = path.join(root, 'token.txt')
fs.writeFileSync(TOKEN_FILE, TOKEN + '\n', { mode: 0o600 })

// ---------------------------------------------------------------- token

t.test('bearer token', async t => {
  const node = await startNode('tok', ['--auth-token-file', TOKEN_FILE, '--log-level', 'debug']).start()
  const none = track(createClients(node.address))
  const wrong = track(createClients(node.address, { metadata: { authorization: `Bearer ${WRONG}` } }))
  const bare = track(createClients(node.address, { metadata: { authorization: TOKEN } }))
  const right = track(createClients(node.address, { metadata: { authorization: `Bearer ${TOKEN}` } }))

  for (const [name, c] of [['no token', none], ['wrong token', wrong], ['token without "Bearer "', bare]] as Array<[string, Clients]>) {
    t.equal(await outcome(callUnary(c.object, 'ListBuckets', {})), 'UNAUTHENTICATED/UNAUTHENTICATED', `${name}: ObjectService refused`)
    t.equal(await outcome(callUnary(c.admin, 'NodeInfo', {})), 'UNAUTHENTICATED/UNAUTHENTICATED', `${name}: AdminService refused`)
    t.equal(await outcome(callUnary(c.sync, 'ListShards', { bucket: 'b-auth' })), 'UNAUTHENTICATED/UNAUTHENTICATED', `${name}: SyncService refused`)
    t.equal(await outcome(callUnary(c.object, 'CreateBucket', { name: 'sneaky' })), 'UNAUTHENTICATED/UNAUTHENTICATED', `${name}: CreateBucket refused`)
    t.equal(await outcome(putObject(c, 'b-auth', 'k', Buffer.from('x'))), 'UNAUTHENTICATED/UNAUTHENTICATED', `${name}: PutObject (client stream) refused`)
  }
  t.equal(await outcome(callUnary(right.object, 'CreateBucket', { name: 'b-auth', initialShards: 2 })), 'OK', 'right token: CreateBucket passes')
  t.equal(await outcome(putObject(right, 'b-auth', 'k', Buffer.from('x'))), 'OK', 'right token: PutObject passes')
  const buckets = await callUnary<object, { buckets: Array<{ name: string }> }>(right.object, 'ListBuckets', {})
  t.same(buckets.buckets.map(b => b.name), ['b-auth'], 'nothing was created by the refused calls')
  t.equal(await healthCheck(node.address), 'SERVING', 'health answers without a token')

  // The CLI with the token in the environment (never on argv).
  const viaFlag = await runCli(['bucket', 'ls', '--node', node.address], { timeoutMs: 60_000, env: { SHARDSYNC_AUTH_TOKEN: TOKEN } })
  t.equal(viaFlag.code, 0, 'CLI with SHARDSYNC_AUTH_TOKEN works')
  t.match(viaFlag.stdout, /b-auth/)
  const noFlag = await runCli(['bucket', 'ls', '--node', node.address], { timeoutMs: 60_000 })
  t.not(noFlag.code, 0, 'CLI without a token fails')
  t.notMatch(noFlag.stdout + noFlag.stderr, TOKEN, 'CLI error output does not carry the token')

  await node.stop()
  const text = allLogText(node)
  t.ok(text.length > 0, 'node logged something')
  t.notOk(text.includes(TOKEN), 'the token never appears in the node logs')
  t.notOk(text.includes('S3cr3t'), 'no part of the token appears in the node logs')
})

t.test('token from env and from file', async t => {
  const file = TOKEN_FILE
  const viaEnv = await startNode('tokenv', [], { SHARDSYNC_AUTH_TOKEN: TOKEN }).start()
  const viaFile = await startNode('tokfile', ['--auth-token-file', file]).start()
  for (const n of [viaEnv, viaFile]) {
    const none = track(createClients(n.address))
    const right = track(createClients(n.address, { metadata: { authorization: `Bearer ${TOKEN}` } }))
    t.equal(await outcome(callUnary(none.admin, 'NodeInfo', {})), 'UNAUTHENTICATED/UNAUTHENTICATED', `${n.spec.site}: no token refused`)
    t.equal(await outcome(callUnary(right.admin, 'NodeInfo', {})), 'OK', `${n.spec.site}: right token passes`)
    await n.stop()
    t.notOk(allLogText(n).includes('S3cr3t'), `${n.spec.site}: token not in logs`)
  }
})

// ---------------------------------------------------------------- mTLS

t.test('mutual TLS + token: refusals, and two nodes that sync', async t => {
  makeCa('ca')
  makeCa('otherca')
  const nodeA = makeCert('ca', 'node-a')
  const nodeB = makeCert('ca', 'node-b')
  const client = makeCert('ca', 'client')
  const stranger = makeCert('otherca', 'stranger')
  const caFile = path.join(root, 'ca.crt')
  const ca = fs.readFileSync(caFile)
  const read = (f: string): Buffer => fs.readFileSync(f)
  const tlsArgs = (c: { cert: string, key: string }): string[] => ['--tls-cert', c.cert, '--tls-key', c.key, '--tls-ca', caFile, '--auth-token-file', TOKEN_FILE]
  const a = startNode('tls-a', tlsArgs(nodeA))
  const b = startNode('tls-b', tlsArgs(nodeB))
  await Promise.all([a.start(), b.start()])
  const auth = { authorization: `Bearer ${TOKEN}` }
  const good = (addr: string): Clients => track(createClients(addr, { credentials: grpc.credentials.createSsl(ca, read(client.key), read(client.cert)), metadata: auth }))

  const insecure = track(createClients(a.address, { metadata: auth }))
  const noCert = track(createClients(a.address, { credentials: grpc.credentials.createSsl(ca), metadata: auth }))
  const otherCa = track(createClients(a.address, { credentials: grpc.credentials.createSsl(ca, read(stranger.key), read(stranger.cert)), metadata: auth }))
  const certNoToken = track(createClients(a.address, { credentials: grpc.credentials.createSsl(ca, read(client.key), read(client.cert)) }))
  const ok = good(a.address)
  const refused = (o: string): boolean => o.startsWith('UNAVAILABLE/') || o.startsWith('UNAUTHENTICATED/')
  const o1 = await outcome(callUnary(insecure.admin, 'NodeInfo', {}, 5000))
  t.ok(refused(o1), `plaintext client refused (${o1})`)
  const o2 = await outcome(callUnary(noCert.admin, 'NodeInfo', {}, 5000))
  t.ok(refused(o2), `TLS client without a certificate refused (${o2})`)
  const o3 = await outcome(callUnary(otherCa.admin, 'NodeInfo', {}, 5000))
  t.ok(refused(o3), `client certificate from another CA refused (${o3})`)
  t.equal(await outcome(callUnary(certNoToken.admin, 'NodeInfo', {})), 'UNAUTHENTICATED/UNAUTHENTICATED', 'right certificate but no token: UNAUTHENTICATED')
  t.equal(await outcome(callUnary(ok.admin, 'NodeInfo', {})), 'OK', 'right certificate + token passes')
  t.equal(await healthCheck(a.address, grpc.credentials.createSsl(ca, read(client.key), read(client.cert))), 'SERVING', 'health over mTLS without a token')

  // Two nodes with mTLS + token sync a bucket.
  const ca1 = good(a.address)
  const cb1 = good(b.address)
  await createBucket(ca1, 'tls-bucket', { shards: 2, splitThreshold: 40, autoSplit: true })
  await callUnary(ca1.admin, 'AddPeer', { id: 'tls-b', address: b.address })
  await callUnary(cb1.admin, 'AddPeer', { id: 'tls-a', address: a.address })
  for (let i = 0; i < 120; i++) await putObject(ca1, 'tls-bucket', `obj-${String(i).padStart(4, '0')}`, Buffer.from(`payload ${i} `.repeat(i % 17 + 1)))
  await waitFor(async () => {
    let n = 0
    for await (const _ of listAllObjects(cb1, 'tls-bucket')) n++
    return n === 120
  }, { timeoutMs: 90_000, what: 'B to hold the 120 objects over mTLS' })
  const creds = ['--tls-ca', caFile, '--tls-cert', client.cert, '--tls-key', client.key, '--auth-token-file', TOKEN_FILE]
  const synced = await runCli([...creds, 'wait-synced', '--node', b.address, '--timeout', '90'], { timeoutMs: 120_000 })
  t.equal(synced.code, 0, 'wait-synced with credentials', { stderr: synced.stderr.slice(-500) })
  const v = await runCli([...creds, 'verify', '--source', a.address, '--target', b.address, '--deep'], { timeoutMs: 120_000 })
  t.equal(v.code, 0, 'verify --deep over mTLS + token exits 0', { stdout: v.stdout.slice(-500), stderr: v.stderr.slice(-500) })
  t.match(v.stdout, /identical/, 'verify says identical')
  const vNoCreds = await runCli(['verify', '--source', a.address, '--target', b.address], { timeoutMs: 60_000 })
  t.not(vNoCreds.code, 0, 'verify without credentials fails')

  // ------------------------------------------------------------ non-peer notices
  const shardsOnA = await callUnary<object, { bucketId: string }>(ca1.sync, 'ListShards', { bucket: 'tls-bucket' })
  const statusOf = async (): Promise<{ counters: unknown, progress: string }> => {
    const s = await callUnary<object, Record<string, unknown> & { peers: Array<{ buckets: Array<{ shardStatus: Array<Record<string, unknown>> }> }> }>(cb1.admin, 'SyncStatus', {})
    const progress = JSON.stringify(s.peers.map(p => p.buckets.map(bk => bk.shardStatus.map(x => [x.shard, x.newShardsByNotice, x.newShardsByPull, x.foundBy]))))
    return { counters: { stored: s.noticesStored, ignored: s.noticesIgnored }, progress }
  }
  const before = await statusOf()
  const asSite = (site: string): Clients => track(createClients(b.address, { credentials: grpc.credentials.createSsl(ca, read(client.key), read(client.cert)), metadata: { ...auth, 'shardsync-site': site } }))
  const cases: Array<[string, Clients, string]> = [
    ['stranger site naming itself', asSite('stranger'), `stranger:${shardsOnA.bucketId}:0:7`],
    ['no caller site, stranger in the notice', good(b.address), `stranger:${shardsOnA.bucketId}:1:9`],
    ['stranger caller, real peer in the notice', asSite('stranger'), `tls-a:${shardsOnA.bucketId}:0:11`],
    ['real peer caller, stranger in the notice', asSite('tls-a'), `stranger:${shardsOnA.bucketId}:0:12`]
  ]
  for (const [name, c, notice] of cases) {
    t.equal(await outcome(callUnary(c.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: notice })), 'PERMISSION_DENIED/UNKNOWN_PEER', `${name}: PERMISSION_DENIED`)
  }
  const after = await statusOf()
  t.same(after.counters, before.counters, 'notice stored/ignored counters unchanged')
  t.equal(after.progress, before.progress, 'progress objects unchanged')

  await Promise.all([a.stop(), b.stop()])
  t.notOk(allLogText(a).includes('S3cr3t') || allLogText(b).includes('S3cr3t'), 'token not in the TLS nodes\' logs')
})
