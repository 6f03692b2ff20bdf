/**
 * The role table (node/rpc/method-roles.ts) is exhaustive: every method of
 * every service in the loaded shardsync.v1 package has a row with at least
 * one role, and every row names a method that exists (or server
 * reflection). A new RPC without a row fails here. Also the parsing rules
 * of the credentials file and of certificate identities (pure logic).
 */
import t from 'tap'
import type { PeerCertificate } from 'node:tls'
import { loadShardsyncProto } from '../../node/rpc/proto'
import { METHOD_ROLES, ROLES, rolesFor } from '../../node/rpc/method-roles'
import { Authenticator, certificateIdentity, parseCredentials, tokenSha256 } from '../../node/rpc/credentials'
import { isShardsyncError } from '../../storage/errors'

function protoMethodPaths (): string[] {
  const paths: string[] = []
  for (const [name, def] of Object.entries(loadShardsyncProto().definition)) {
    if (!name.startsWith('shardsync.') || (def as { format?: string }).format !== undefined) continue // messages and enums have a format
    for (const m of Object.values(def as Record<string, { path: string }>)) paths.push(m.path)
  }
  return paths
}

t.test('every proto method has a row, and every row a method', async t => {
  const paths = protoMethodPaths()
  t.ok(paths.length >= 21, `found the methods of the three services (${paths.length})`)
  for (const p of paths) t.ok(rolesFor(p).length > 0, `${p} has a row`)
  const known = new Set(paths)
  for (const p of Object.keys(METHOD_ROLES)) {
    if (p.startsWith('/grpc.reflection.')) continue
    t.ok(known.has(p), `row ${p} names a method of the proto`)
  }
  for (const roles of Object.values(METHOD_ROLES)) for (const r of roles) t.ok((ROLES as readonly string[]).includes(r), `role ${r} is known`)
  t.same(rolesFor('/shardsync.v1.AdminService/NoSuchMethod'), [], 'unknown paths have no roles (refused)')
  t.same(rolesFor('constructor'), [], 'no prototype keys')
})

t.test('least privilege: what each role may do', async t => {
  const may = (role: string, p: string): boolean => rolesFor(p).includes(role as never)
  t.notOk(may('client', '/shardsync.v1.AdminService/AddPeer'), 'client may not AddPeer (SSRF)')
  t.notOk(may('client', '/shardsync.v1.SyncService/NotifyReshardComplete'), 'client may not send notices')
  t.notOk(may('client', '/shardsync.v1.SyncService/PullChanges'), 'client may not pull changes')
  t.notOk(may('peer', '/shardsync.v1.ObjectService/PutObject'), 'peer may not write data')
  t.notOk(may('peer', '/shardsync.v1.AdminService/AddPeer'), 'peer may not administer')
  t.notOk(may('admin', '/shardsync.v1.SyncService/NotifyReshardComplete'), 'admin is not a peer')
  t.ok(may('admin', '/shardsync.v1.ObjectService/PutObject'), 'admin implies client')
  t.ok(may('peer', '/shardsync.v1.ObjectService/ListBuckets'), 'peers discover buckets')
})

const HEX = (s: string): string => tokenSha256(s).toString('hex')

t.test('credentials file: parsing and refusals', async t => {
  const ok = parseCredentials(JSON.stringify({ tokens: [{ identity: 'B', role: 'peer', sha256: HEX('tok-b-1') }, { identity: 'B', role: 'peer', sha256: HEX('tok-b-2').toUpperCase(), expires: '2030-01-01T00:00:00Z' }], certificates: { defaultRole: 'none', identities: { ops: 'admin' } } }))
  t.equal(ok.tokens.length, 2, 'two tokens for one identity (rotation)')
  t.equal(ok.certificates.defaultRole, 'none')
  const bad = [
    'not json', '[]', '{"x":1}', '{"tokens":{}}',
    JSON.stringify({ tokens: [{ identity: 'B', role: 'root', sha256: HEX('x') }] }),
    JSON.stringify({ tokens: [{ identity: 'a:b', role: 'peer', sha256: HEX('x') }] }),
    JSON.stringify({ tokens: [{ identity: 'B', role: 'peer', sha256: 'abc' }] }),
    JSON.stringify({ tokens: [{ identity: 'B', role: 'peer', token: 'plain-text-token' }] }),
    JSON.stringify({ tokens: [{ identity: 'B', role: 'peer', sha256: HEX('x'), expires: 'soon' }] }),
    JSON.stringify({ tokens: [{ identity: 'B', role: 'peer', sha256: HEX('x') }, { identity: 'C', role: 'peer', sha256: HEX('x') }] }),
    JSON.stringify({ certificates: { defaultRole: 'god' } }),
    JSON.stringify({ certificates: { identities: { ops: 'root' } } })
  ]
  for (const text of bad) {
    try {
      parseCredentials(text)
      t.fail(`accepted ${text}`)
    } catch (err) {
      t.ok(isShardsyncError(err, 'INVALID_ARGUMENT'), `refused with INVALID_ARGUMENT: ${text.slice(0, 60)}`)
      t.notOk((err as Error).message.includes(HEX('x')), 'the message carries no digest')
    }
  }
})

t.test('authenticate: tokens, expiry, certificates', async t => {
  const creds = parseCredentials(JSON.stringify({
    tokens: [
      { identity: 'B', role: 'peer', sha256: HEX('tok-b-old'), expires: '2026-01-01T00:00:00Z' },
      { identity: 'B', role: 'peer', sha256: HEX('tok-b-new') },
      { identity: 'ann', role: 'client', sha256: HEX('tok-ann') }
    ],
    certificates: { identities: { ops: 'admin', gone: 'none' } }
  }))
  const a = new Authenticator({ credentials: creds, mutualTls: true })
  const at = Date.parse('2025-06-01T00:00:00Z')
  const later = Date.parse('2026-06-01T00:00:00Z')
  t.match(a.authenticate('Bearer tok-b-old', undefined, at), { kind: 'authenticated', identity: 'B', role: 'peer' }, 'old token before expiry')
  t.match(a.authenticate('Bearer tok-b-new', undefined, at), { identity: 'B' }, 'new token at the same time (rotation)')
  t.equal(a.authenticate('Bearer tok-b-old', undefined, later), undefined, 'old token after expiry')
  t.equal(a.authenticate('tok-ann', undefined, at), undefined, 'no "Bearer "')
  t.equal(a.authenticate('Bearer tok-annx', undefined, at), undefined, 'wrong token')
  t.equal(a.authenticate(undefined, undefined, at), undefined, 'nothing')
  const cert = (cn: string, san = ''): PeerCertificate => ({ subject: { CN: cn }, subjectaltname: san }) as unknown as PeerCertificate
  t.match(a.authenticate(undefined, cert('site-x'), at), { identity: 'site-x', role: 'peer', via: 'certificate' }, 'certificate CN, default role peer')
  t.match(a.authenticate(undefined, cert('host.example', 'DNS:host.example, IP Address:127.0.0.1, URI:shardsync://ops'), at), { identity: 'ops', role: 'admin' }, 'URI SAN wins over CN; listed role')
  t.equal(a.authenticate(undefined, cert('gone'), at), undefined, 'a certificate mapped to none is refused')
  t.equal(a.authenticate('Bearer wrong-token', cert('site-x'), at), undefined, 'a wrong token is not rescued by a certificate')
  t.match(a.authenticate('Bearer tok-b-new', cert('host-b', 'DNS:host-b, URI:shardsync://B'), at), { identity: 'B', via: 'token' }, 'token with a certificate naming the same identity')
  t.match(a.authenticate('Bearer tok-b-new', cert('host-c'), at), { identity: 'B' }, 'token with a certificate naming only a CN (a host name)')
  t.equal(a.authenticate('Bearer tok-b-new', cert('host-c', 'URI:shardsync://C'), at), undefined, 'token of B over a certificate of C: refused')
  t.equal(certificateIdentity(cert('x', 'URI:shardsync://a, URI:shardsync://b')), undefined, 'two identities: ambiguous, refused')
  t.equal(certificateIdentity(cert('bad:name')), undefined, 'invalid identity refused')
  const shared = new Authenticator({ sharedToken: 'the-shared-token', mutualTls: true })
  t.equal(shared.mode, 'shared')
  t.match(shared.authenticate('Bearer the-shared-token', cert('x')), { kind: 'shared' })
  t.equal(shared.authenticate(undefined, cert('x')), undefined, 'shared mode: a certificate alone is not enough (as before)')
  t.equal(new Authenticator({ mutualTls: false }).mode, 'open')
})
