/**
 * Roles and identities on real node processes over real gRPC (127.0.0.1):
 *
 * - the auth matrix: every method of every service of the loaded
 *   shardsync.v1 package (so a new method is covered by itself) x every
 *   kind of credential (none, not bearer, wrong, unknown, expired of each
 *   role, the right token of each role, a peer or a client naming another
 *   site) -> the expected status and stable code. Nothing stored changes.
 * - SSRF: a client (or peer) token calling AddPeer is PERMISSION_DENIED and
 *   the node dials nothing; the same call with the admin token does dial
 *   (so the listener would have seen it).
 * - forged notices and "I am site X" fields: a peer authenticated as C that
 *   claims site A (header, notice, exclude_origin) is refused and nothing is
 *   stored; A and B still sync with their own per-site tokens.
 * - mutual TLS: the certificate names the identity (URI SAN), a role
 *   mapping applies, and two nodes sync with certificates alone.
 * - rotation: two tokens of one identity are valid at once; SIGHUP reloads
 *   the credentials file (a broken file keeps the previous one).
 * - `--auth-token` on the command line is refused (process list).
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { createBucket, listAllObjects, putObject } from '../../node/cli/object-commands'
import { callUnary, createClients, type Clients } from '../../node/rpc/clients'
import { tokenSha256 } from '../../node/rpc/credentials'
import { rolesFor, ROLES, type Role } from '../../node/rpc/method-roles'
import { loadShardsyncProto } from '../../node/rpc/proto'
import { NodeProcess, runCli, waitFor } from '../../scripts/lib/cluster'
import { makeCa, makeCert } from './certs'

t.setTimeout(240_000)

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-auth-matrix-'))
const nodes: NodeProcess[] = []
const closers: Array<{ close: () => void }> = []
t.teardown(async () => {
  for (const c of closers) c.close()
  await Promise.all(nodes.map(async n => await n.stop().catch(() => null)))
  if (t.passing()) fs.rmSync(root, { recursive: true, force: true })
  else t.comment(`auth matrix files kept in ${root}`)
})

const rnd = (): string => Math.random().toString(36).slice(2)
const TOKENS = {
  alice: `client-${rnd()}-${rnd()}`,
  ops: `admin-${rnd()}-${rnd()}`,
  C: `peer-c-${rnd()}-${rnd()}`,
  A: `peer-a-${rnd()}-${rnd()}`,
  B: `peer-b-${rnd()}-${rnd()}`,
  oldClient: `old-client-${rnd()}`,
  oldPeer: `old-peer-${rnd()}`,
  oldAdmin: `old-admin-${rnd()}`
}
const hex = (tok: string): string => tokenSha256(tok).toString('hex')
const PAST = '2020-01-01T00:00:00Z'

function writeFile (name: string, text: string): string {
  const f = path.join(root, name)
  fs.writeFileSync(f, text, { mode: 0o600 })
  return f
}

/** B's credentials: users alice (client) and ops (admin), sites A and C (peers), and expired tokens of each role. */
const B_CREDENTIALS = writeFile('b-credentials.json', JSON.stringify({
  tokens: [
    { identity: 'alice', role: 'client', sha256: hex(TOKENS.alice) },
    { identity: 'ops', role: 'admin', sha256: hex(TOKENS.ops) },
    { identity: 'C', role: 'peer', sha256: hex(TOKENS.C) },
    { identity: 'A', role: 'peer', sha256: hex(TOKENS.A) },
    { identity: 'alice', role: 'client', sha256: hex(TOKENS.oldClient), expires: PAST },
    { identity: 'C', role: 'peer', sha256: hex(TOKENS.oldPeer), expires: PAST },
    { identity: 'ops', role: 'admin', sha256: hex(TOKENS.oldAdmin), expires: PAST }
  ]
}, null, 2))
const A_CREDENTIALS = writeFile('a-credentials.json', JSON.stringify({
  tokens: [
    { identity: 'ops', role: 'admin', sha256: hex(TOKENS.ops) },
    { identity: 'B', role: 'peer', sha256: hex(TOKENS.B) }
  ]
}))

function startNode (site: string, args: string[], env?: Record<string, string>): NodeProcess {
  const n = new NodeProcess({ site, args: ['--shards', '2', '--sync-interval-ms', '200', ...args], env, logFile: path.join(root, `${site}.log`), dataDir: path.join(root, `${site}-data`) })
  nodes.push(n)
  return n
}

function clients (address: string, metadata: Record<string, string> = {}, credentials?: grpc.ChannelCredentials): Clients {
  const c = createClients(address, { metadata, credentials })
  closers.push(c)
  return c
}
const bearer = (tok: string): Record<string, string> => ({ authorization: `Bearer ${tok}` })

/** "STATUS/shardsync-code" of a failed call, or OK. */
function label (s: { code: number, metadata?: grpc.Metadata }): string {
  if (s.code === grpc.status.OK) return 'OK'
  return `${grpc.status[s.code]}/${String(s.metadata?.get('shardsync-code')[0] ?? '-')}`
}

async function outcome (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'OK'
  } catch (err) {
    const e = err as { code: string, cause?: grpc.ServiceError }
    return e.cause !== undefined ? label(e.cause) : `?/${e.code}`
  }
}

// ---------------------------------------------------------------- every method, generically

interface MethodRef { service: string, name: string, path: string, requestStream: boolean, responseStream: boolean }

function allMethods (): MethodRef[] {
  const out: MethodRef[] = []
  for (const [service, def] of Object.entries(loadShardsyncProto().definition)) {
    if (!service.startsWith('shardsync.') || (def as { format?: string }).format !== undefined) continue
    for (const [name, m] of Object.entries(def as unknown as grpc.ServiceDefinition)) out.push({ service, name, path: m.path, requestStream: m.requestStream, responseStream: m.responseStream })
  }
  return out
}

type Generic = Record<string, (...args: unknown[]) => grpc.ClientUnaryCall & grpc.ClientWritableStream<unknown> & grpc.ClientReadableStream<unknown>>
const genericClients = new Map<string, grpc.Client>()
function genericClient (address: string, service: string): Generic {
  const key = `${address} ${service}`
  let c = genericClients.get(key)
  if (c === undefined) {
    const Ctor = grpc.makeGenericClientConstructor(loadShardsyncProto().definition[service] as unknown as grpc.ServiceDefinition, service)
    c = new Ctor(address, grpc.credentials.createInsecure())
    closers.push(c)
    genericClients.set(key, c)
  }
  return c as unknown as Generic
}

/** Calls one method with an empty request (streams: no messages) and returns its outcome label. */
async function callAny (address: string, m: MethodRef, md: Record<string, string>): Promise<string> {
  const c = genericClient(address, m.service)
  const metadata = new grpc.Metadata()
  for (const [k, v] of Object.entries(md)) metadata.set(k, v)
  const opts = { deadline: Date.now() + 30_000 }
  return await new Promise<string>((resolve) => {
    const cb = (err: grpc.ServiceError | null): void => resolve(err === null ? 'OK' : label(err))
    if (!m.requestStream && !m.responseStream) { c[m.name]({}, metadata, opts, cb); return }
    if (m.requestStream && !m.responseStream) { c[m.name](metadata, opts, cb).end(); return }
    const call = m.requestStream ? c[m.name](metadata, opts) : c[m.name]({}, metadata, opts)
    call.on('data', () => {})
    call.on('error', () => {})
    call.on('status', (s: grpc.StatusObject) => resolve(label(s)))
    if (m.requestStream) call.end()
  })
}

interface Credential { name: string, md: Record<string, string>, expect: (path: string) => 'AUTH' | 'DENIED' | 'MISMATCH' | 'PASS' }
const UNAUTH = 'UNAUTHENTICATED/UNAUTHENTICATED'
const ROLE_DENIED = 'PERMISSION_DENIED/ROLE_DENIED'
const SITE_MISMATCH = 'PERMISSION_DENIED/SITE_MISMATCH'
const asRole = (role: Role) => (p: string): 'DENIED' | 'PASS' => rolesFor(p).includes(role) ? 'PASS' : 'DENIED'

const CREDENTIALS: Credential[] = [
  { name: 'no credential', md: {}, expect: () => 'AUTH' },
  { name: 'token without "Bearer "', md: { authorization: TOKENS.ops }, expect: () => 'AUTH' },
  { name: 'wrong token (the admin token altered)', md: bearer(`${TOKENS.ops}x`), expect: () => 'AUTH' },
  { name: 'unknown token', md: bearer(`never-issued-${rnd()}`), expect: () => 'AUTH' },
  { name: 'expired client token', md: bearer(TOKENS.oldClient), expect: () => 'AUTH' },
  { name: 'expired peer token', md: bearer(TOKENS.oldPeer), expect: () => 'AUTH' },
  { name: 'expired admin token', md: bearer(TOKENS.oldAdmin), expect: () => 'AUTH' },
  { name: 'client token', md: bearer(TOKENS.alice), expect: asRole('client') },
  { name: 'peer token (C)', md: bearer(TOKENS.C), expect: asRole('peer') },
  { name: 'peer token (C) naming itself', md: { ...bearer(TOKENS.C), 'shardsync-site': 'C' }, expect: asRole('peer') },
  { name: 'admin token', md: bearer(TOKENS.ops), expect: asRole('admin') },
  { name: 'peer token (C) claiming site A', md: { ...bearer(TOKENS.C), 'shardsync-site': 'A' }, expect: () => 'MISMATCH' },
  { name: 'client token claiming site A', md: { ...bearer(TOKENS.alice), 'shardsync-site': 'A' }, expect: () => 'MISMATCH' },
  { name: 'admin token claiming site A', md: { ...bearer(TOKENS.ops), 'shardsync-site': 'A' }, expect: () => 'MISMATCH' }
]

let nodeB: NodeProcess

t.before(async () => {
  nodeB = await startNode('B', ['--credentials', B_CREDENTIALS, '--log-level', 'debug']).start()
})

t.test('auth matrix: every method x every credential', async t => {
  const methods = allMethods()
  t.ok(methods.length >= 21, `${methods.length} methods from the loaded proto package`)
  for (const role of ROLES) t.ok(CREDENTIALS.some(c => c.name.startsWith(role)), `the right token of role ${role} is in the matrix`)
  for (const m of methods) {
    for (const cred of CREDENTIALS) {
      const got = await callAny(nodeB.address, m, cred.md)
      const want = cred.expect(m.path)
      const what = `${m.path} with ${cred.name}`
      if (want === 'AUTH') t.equal(got, UNAUTH, what)
      else if (want === 'DENIED') t.equal(got, ROLE_DENIED, what)
      else if (want === 'MISMATCH') t.equal(got, SITE_MISMATCH, what)
      else t.ok(![UNAUTH, ROLE_DENIED, SITE_MISMATCH].includes(got) && !/^(INTERNAL|UNKNOWN)\//.test(got), `${what}: passes authorization (${got})`)
    }
  }
  const admin = clients(nodeB.address, bearer(TOKENS.ops))
  t.same((await callUnary<object, { buckets: unknown[] }>(admin.object, 'ListBuckets', {})).buckets, [], 'no bucket was created by any call')
  t.same((await callUnary<object, { peers: unknown[] }>(admin.admin, 'ListPeers', {})).peers, [], 'no peer was added by any call')
})

t.test('SSRF: AddPeer with a client or peer token is refused and nothing is dialled', async t => {
  let dialled = 0
  const trap = net.createServer((s) => { dialled++; s.destroy() })
  await new Promise<void>(resolve => trap.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { trap.close() })
  const trapAddress = `127.0.0.1:${(trap.address() as net.AddressInfo).port}`
  const admin = clients(nodeB.address, bearer(TOKENS.ops))
  for (const [who, tok] of [['client', TOKENS.alice], ['peer', TOKENS.C]]) {
    const c = clients(nodeB.address, bearer(tok))
    t.equal(await outcome(callUnary(c.admin, 'AddPeer', { id: 'evil', address: trapAddress })), ROLE_DENIED, `${who} token: AddPeer PERMISSION_DENIED/ROLE_DENIED`)
    t.equal(await outcome(callUnary(c.admin, 'RemovePeer', { id: 'A' })), ROLE_DENIED, `${who} token: RemovePeer PERMISSION_DENIED/ROLE_DENIED`)
  }
  t.same((await callUnary<object, { peers: unknown[] }>(admin.admin, 'ListPeers', {})).peers, [], 'the node has no new peer')
  // The refused call never reached the peer table, so no round will dial it.
  t.equal(dialled, 0, 'the trap saw no connection')
  // Positive control: the admin may, and then the node does dial.
  t.equal(await outcome(callUnary(admin.admin, 'AddPeer', { id: 'evil', address: trapAddress })), 'OK', 'admin token: AddPeer passes')
  await waitFor(() => dialled > 0, { timeoutMs: 60_000, what: 'the node to dial the peer the admin added' })
  t.ok(dialled > 0, 'with the admin token the node dials (the trap works)')
  await callUnary(admin.admin, 'RemovePeer', { id: 'evil' })
})

t.test('forged notices: a peer authenticated as C cannot speak for site A', async t => {
  const peerTokenA = writeFile('a-peer-token', TOKENS.A + '\n')
  const peerTokenB = writeFile('b-peer-token', TOKENS.B + '\n')
  await nodeB.stop()
  nodeB = await startNode('B', ['--credentials', B_CREDENTIALS, '--peer-token-file', peerTokenB]).start()
  const nodeA = await startNode('A', ['--credentials', A_CREDENTIALS, '--peer-token-file', peerTokenA]).start()
  const adminA = clients(nodeA.address, bearer(TOKENS.ops))
  const adminB = clients(nodeB.address, bearer(TOKENS.ops))
  const bucket = await createBucket(adminA, 'forged', { shards: 2, splitThreshold: 1000, autoSplit: false })
  for (let i = 0; i < 40; i++) await putObject(adminA, 'forged', `k-${i}`, Buffer.from(`v${i}`))
  await callUnary(adminA.admin, 'AddPeer', { id: 'B', address: nodeB.address })
  await callUnary(adminB.admin, 'AddPeer', { id: 'A', address: nodeA.address })
  // C is a known peer of B too (its address is never answered).
  await callUnary(adminB.admin, 'AddPeer', { id: 'C', address: '127.0.0.1:9' })
  await waitFor(async () => {
    let n = 0
    for await (const _ of listAllObjects(adminB, 'forged')) n++
    return n === 40
  }, { timeoutMs: 90_000, what: 'B to sync the bucket from A with per-site peer tokens' })
  t.pass('A and B sync with their own peer tokens')

  const status = async (): Promise<string> => {
    const s = await callUnary<object, Record<string, unknown> & { peers: Array<{ id: string, buckets: Array<{ shardStatus: Array<Record<string, unknown>> }> }> }>(adminB.admin, 'SyncStatus', {})
    return JSON.stringify({
      stored: s.noticesStored,
      ignored: s.noticesIgnored,
      progress: s.peers.map(p => [p.id, p.buckets.map(b => b.shardStatus.map(x => [x.shard, x.newShardsByNotice, x.newShardsByPull]))])
    })
  }
  const before = await status()
  const notice = `A:${bucket.id}:0:2`
  const cases: Array<[string, Record<string, string>, string]> = [
    ['C claiming A in the header, notice of A', { ...bearer(TOKENS.C), 'shardsync-site': 'A' }, SITE_MISMATCH],
    ['C with no header, notice of A', bearer(TOKENS.C), 'PERMISSION_DENIED/UNKNOWN_PEER'],
    ['C naming itself, notice of A', { ...bearer(TOKENS.C), 'shardsync-site': 'C' }, 'PERMISSION_DENIED/UNKNOWN_PEER'],
    ['client token, notice of A', bearer(TOKENS.alice), ROLE_DENIED],
    ['admin token, notice of A', bearer(TOKENS.ops), ROLE_DENIED]
  ]
  for (const [name, md, want] of cases) {
    const c = clients(nodeB.address, md)
    t.equal(await outcome(callUnary(c.sync, 'NotifyReshardComplete', { sourceReshardSyncInfo: notice })), want, `${name}: ${want}`)
  }
  const asC = clients(nodeB.address, bearer(TOKENS.C))
  t.equal(await outcome(callUnary(asC.sync, 'PullChanges', { bucket: 'forged', cursors: [{ shard: 0, afterSeq: 0 }], limit: 10, waitMs: 0, excludeOrigin: 'A' })), SITE_MISMATCH, 'PullChanges from C with exclude_origin A: SITE_MISMATCH')
  t.equal(await outcome(callUnary(asC.sync, 'PullChanges', { bucket: 'forged', cursors: [{ shard: 0, afterSeq: 0 }], limit: 10, waitMs: 0, excludeOrigin: 'C' })), 'OK', 'PullChanges from C with exclude_origin C passes')
  t.equal(await status(), before, 'notice counters and progress objects unchanged')
  await nodeA.stop()
})

t.test('mutual TLS: the certificate names the site; roles apply', async t => {
  const caPath = makeCa(root, 'ca')
  const certA = makeCert(root, 'ca', 'host-a', 'tls-a')
  const certB = makeCert(root, 'ca', 'host-b', 'tls-b')
  const certOps = makeCert(root, 'ca', 'ops')
  const creds = writeFile('tls-credentials.json', JSON.stringify({ tokens: [{ identity: 'tls-a', role: 'peer', sha256: hex(TOKENS.A) }], certificates: { defaultRole: 'none', identities: { 'tls-a': 'peer', 'tls-b': 'peer', ops: 'admin' } } }))
  const args = (c: { cert: string, key: string }): string[] => ['--tls-cert', c.cert, '--tls-key', c.key, '--tls-ca', caPath, '--credentials', creds]
  const a = startNode('tls-a', args(certA))
  const b = startNode('tls-b', args(certB))
  await Promise.all([a.start(), b.start()])
  const ca = fs.readFileSync(caPath)
  const tls = (c: { cert: string, key: string }): grpc.ChannelCredentials => grpc.credentials.createSsl(ca, fs.readFileSync(c.key), fs.readFileSync(c.cert))
  const opsA = clients(a.address, {}, tls(certOps))
  const opsB = clients(b.address, {}, tls(certOps))
  t.equal(await outcome(callUnary(opsA.admin, 'NodeInfo', {})), 'OK', 'ops certificate (listed admin): NodeInfo passes')
  t.equal(await outcome(callUnary(opsA.sync, 'ListIndex', { bucket: 'x', shard: 0, limit: 1 })), ROLE_DENIED, 'ops certificate: ListIndex ROLE_DENIED')
  const asA = clients(b.address, {}, tls(certA))
  t.equal(await outcome(callUnary(asA.admin, 'AddPeer', { id: 'x', address: '127.0.0.1:9' })), ROLE_DENIED, 'site certificate: AddPeer ROLE_DENIED')
  const asAClaimingB = clients(a.address, { 'shardsync-site': 'tls-b' }, tls(certA))
  t.equal(await outcome(callUnary(asAClaimingB.sync, 'ListShards', { bucket: 'x' })), SITE_MISMATCH, 'certificate of tls-a claiming tls-b: SITE_MISMATCH')
  const tokenAOverCertB = clients(a.address, bearer(TOKENS.A), tls(certB))
  t.equal(await outcome(callUnary(tokenAOverCertB.sync, 'ListShards', { bucket: 'x' })), UNAUTH, 'peer token of tls-a over the certificate of tls-b: UNAUTHENTICATED')
  const tokenAOverCertA = clients(a.address, bearer(TOKENS.A), tls(certA))
  t.equal(await outcome(callUnary(tokenAOverCertA.sync, 'ListShards', { bucket: 'x' })), 'NOT_FOUND/BUCKET_NOT_FOUND', 'peer token of tls-a over its own certificate passes')
  const stranger = makeCert(root, 'ca', 'stranger')
  const asStranger = clients(a.address, {}, tls(stranger))
  t.equal(await outcome(callUnary(asStranger.object, 'ListBuckets', {})), UNAUTH, 'a certificate of the CA with no role (defaultRole none): UNAUTHENTICATED')

  await createBucket(opsA, 'tls-bucket', { shards: 2, splitThreshold: 1000, autoSplit: false })
  for (let i = 0; i < 30; i++) await putObject(opsA, 'tls-bucket', `o-${i}`, Buffer.from(`payload ${i}`))
  await callUnary(opsA.admin, 'AddPeer', { id: 'tls-b', address: b.address })
  await callUnary(opsB.admin, 'AddPeer', { id: 'tls-a', address: a.address })
  await waitFor(async () => {
    let n = 0
    for await (const _ of listAllObjects(opsB, 'tls-bucket')) n++
    return n === 30
  }, { timeoutMs: 90_000, what: 'tls-b to sync from tls-a with certificates alone' })
  t.pass('two nodes sync with certificate identities and no token')
  await Promise.all([a.stop(), b.stop()])
})

t.test('--auth-token on the command line is refused', async t => {
  for (const args of [['--auth-token', TOKENS.ops, 'bucket', 'ls', '--node', nodeB.address], ['--auth-token', TOKENS.ops, 'node', '--site', 'x', '--data', path.join(root, 'x')]]) {
    const r = await runCli(args, { timeoutMs: 60_000 })
    t.equal(r.code, 2, `${args[2]}: exit 2`)
    t.match(r.stderr, /^shardsync: INVALID_ARGUMENT: /, `${args[2]}: INVALID_ARGUMENT`)
    t.notMatch(r.stdout + r.stderr, TOKENS.ops, 'the token is not echoed')
  }
  const viaEnv = await runCli(['bucket', 'ls', '--node', nodeB.address], { timeoutMs: 60_000, env: { SHARDSYNC_AUTH_TOKEN: TOKENS.alice } })
  t.equal(viaEnv.code, 0, 'the client token from SHARDSYNC_AUTH_TOKEN works')
  const file = writeFile('ops-token', TOKENS.ops + '\n')
  const viaFile = await runCli(['--auth-token-file', file, 'peer', 'ls', '--node', nodeB.address], { timeoutMs: 60_000 })
  t.equal(viaFile.code, 0, 'the admin token from --auth-token-file works')
  const clientAdmin = await runCli(['peer', 'ls', '--node', nodeB.address], { timeoutMs: 60_000, env: { SHARDSYNC_AUTH_TOKEN: TOKENS.alice } })
  t.equal(clientAdmin.code, 2, 'a client token cannot list peers')
  t.match(clientAdmin.stderr, /ROLE_DENIED/, 'the CLI prints the stable code')
  await nodeB.stop()
  const logs = fs.readFileSync(path.join(root, 'B.log'), 'utf8')
  for (const [name, tok] of Object.entries(TOKENS)) t.notOk(logs.includes(tok), `token ${name} never in B's logs`)
})

t.test('rotation: two valid tokens for one identity, reloaded on SIGHUP without a restart', async t => {
  const oldTok = `rot-old-${rnd()}`
  // The new token as an operator makes it: `shardsync token new`.
  const newFile = path.join(root, 'rot-new-token')
  const made = await runCli(['token', 'new', '--identity', 'ann', '--role', 'admin', '--out', newFile], { timeoutMs: 60_000 })
  t.equal(made.code, 0, 'shardsync token new')
  const newTok = fs.readFileSync(newFile, 'utf8').trim()
  const newEntry = JSON.parse(made.stdout) as { identity: string, role: string, sha256: string }
  t.same(newEntry, { identity: 'ann', role: 'admin', sha256: hex(newTok) }, 'it prints the entry for the credentials file')
  t.equal(fs.statSync(newFile).mode & 0o777, 0o600, 'the token file is private')
  const file = writeFile('rot-credentials.json', JSON.stringify({ tokens: [{ identity: 'ann', role: 'admin', sha256: hex(oldTok) }] }))
  const n = await startNode('rot', ['--credentials', file]).start()
  const info = async (tok: string): Promise<string> => await outcome(callUnary(clients(n.address, bearer(tok)).admin, 'NodeInfo', {}))
  const reload = async (text: string): Promise<void> => {
    const seen = n.logged('credentials reloaded').length
    fs.writeFileSync(file, text)
    n.proc?.kill('SIGHUP')
    await waitFor(() => n.logged('credentials reloaded').length > seen, { timeoutMs: 30_000, what: 'the reload' })
  }
  t.equal(await info(oldTok), 'OK', 'old token works')
  t.equal(await info(newTok), UNAUTH, 'new token not yet')
  await reload(JSON.stringify({ tokens: [{ identity: 'ann', role: 'admin', sha256: hex(oldTok) }, newEntry] }))
  t.equal(await info(oldTok), 'OK', 'during rotation: old token works')
  t.equal(await info(newTok), 'OK', 'during rotation: new token works')
  await reload(JSON.stringify({ tokens: [newEntry] }))
  t.equal(await info(oldTok), UNAUTH, 'after rotation: old token refused')
  t.equal(await info(newTok), 'OK', 'after rotation: new token works')
  const failed = n.logged('credentials not reloaded').length
  fs.writeFileSync(file, '{ broken')
  n.proc?.kill('SIGHUP')
  await waitFor(() => n.logged('credentials not reloaded').length > failed, { timeoutMs: 30_000, what: 'the refused reload' })
  t.equal(await info(newTok), 'OK', 'a broken file keeps the previous credentials')
  await n.stop()
})

t.test('without credentials a node serves loopback only', async t => {
  const r = await runCli(['node', '--site', 'open', '--listen', '0.0.0.0:0', '--data', path.join(root, 'open')], { timeoutMs: 60_000 })
  t.equal(r.code, 2, 'a non-loopback listen without credentials is refused at start')
  t.match(r.stderr, /INVALID_ARGUMENT/)
})
