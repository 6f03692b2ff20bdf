/**
 * Who a caller is: the node's credentials (bearer tokens and, with mutual
 * TLS, client certificates) turned into a CallIdentity. Built once at start
 * by run-node.ts from security.ts's config (and rebuilt on SIGHUP); asked
 * by the auth interceptor (interceptors.ts) for every call but health.
 *
 * Modes:
 * - open: nothing configured. Every call is allowed, with no identity; the
 *   node then only listens on loopback (config.ts).
 * - shared (deprecated): one token, no --credentials. Its holder has every
 *   role and peer calls are not bound to a site; the node warns at start.
 *   With mutual TLS too, the certificate only admits the connection.
 * - credentials: a --credentials file and/or --tls-ca. A bearer token, when
 *   sent, must be one listed in the file (by SHA-256, compared in constant
 *   time against every entry, optional expiry); it names the identity and
 *   role (a certificate that names an identity by URI SAN must name the
 *   same one; a CN alone is taken as a host name then). Without a token, a verified client certificate names the identity
 *   (URI SAN "shardsync://ID", else the subject CN) and gets the role the
 *   file gives it, else the default certificate role (peer).
 *
 * Tokens are never logged and never kept in plain text here (digests only).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import type { PeerCertificate } from 'node:tls'
import { ShardsyncError } from '../../storage/errors'
import { isValidSiteId } from '../../storage/validate'
import type { CallIdentity } from './call-identity'
import { isRole, type Role } from './method-roles'

export const CERT_URI_PREFIX = 'shardsync://'

/** The --credentials file, as parsed. */
export interface CredentialsFile {
  tokens: Array<{ identity: string, role: Role, sha256: Buffer, expiresAt?: number }>
  certificates: { defaultRole: Role | 'none', identities: Map<string, Role | 'none'> }
  /** S3 access keys (node/s3/auth.ts): SigV4 needs the secret itself, so it is kept as given. */
  s3Keys: Map<string, S3Key>
}

/** One S3 access key of the --credentials file, with the identity and role it speaks for. */
export interface S3Key { accessKey: string, secret: string, identity: string, role: Role }

export function tokenSha256 (token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest()
}

/**
 * Parses the JSON credentials file:
 *   { "tokens": [ { "identity": "B", "role": "peer", "sha256": "<64 hex>", "expires": "2027-01-01T00:00:00Z" } ],
 *     "certificates": { "defaultRole": "peer", "identities": { "ops-ann": "admin", "old-site": "none" } } }
 * Several tokens may share an identity (rotation). Any error is a clear
 * INVALID_ARGUMENT naming the entry, never its digest.
 */
export function parseCredentials (text: string, what = '--credentials'): CredentialsFile {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw ShardsyncError.invalidArgument(`${what}: not valid JSON`)
  }
  const bad = (m: string): ShardsyncError => ShardsyncError.invalidArgument(`${what}: ${m}`)
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('expected an object with "tokens" and/or "certificates"')
  const o = raw as Record<string, unknown>
  for (const k of Object.keys(o)) if (k !== 'tokens' && k !== 'certificates' && k !== 's3') throw bad(`unknown field ${JSON.stringify(k)}`)
  const tokens: CredentialsFile['tokens'] = []
  const rawTokens = o.tokens ?? []
  if (!Array.isArray(rawTokens)) throw bad('"tokens" must be a list')
  const seen = new Set<string>()
  rawTokens.forEach((e: unknown, i) => {
    const at = `tokens[${i}]`
    if (typeof e !== 'object' || e === null) throw bad(`${at} must be an object`)
    const { identity, role, sha256, expires, ...rest } = e as Record<string, unknown>
    if (Object.keys(rest).length > 0) throw bad(`${at}: unknown field ${JSON.stringify(Object.keys(rest)[0])} (tokens are listed by "sha256" only)`)
    if (!isValidSiteId(identity)) throw bad(`${at}: "identity" must be 1-63 characters of A-Z, a-z, 0-9, '_', '.' and '-'`)
    if (!isRole(role)) throw bad(`${at}: "role" must be client, peer or admin`)
    if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) throw bad(`${at}: "sha256" must be 64 hex digits (printf %s "$TOKEN" | sha256sum)`)
    const key = sha256.toLowerCase()
    if (seen.has(key)) throw bad(`${at}: the same token is listed twice`)
    seen.add(key)
    let expiresAt: number | undefined
    if (expires !== undefined) {
      expiresAt = typeof expires === 'string' ? Date.parse(expires) : NaN
      if (!Number.isFinite(expiresAt)) throw bad(`${at}: "expires" must be an ISO 8601 date`)
    }
    tokens.push({ identity, role, sha256: Buffer.from(key, 'hex'), expiresAt })
  })
  const certificates: CredentialsFile['certificates'] = { defaultRole: 'peer', identities: new Map() }
  if (o.certificates !== undefined) {
    if (typeof o.certificates !== 'object' || o.certificates === null) throw bad('"certificates" must be an object')
    const { defaultRole, identities, ...rest } = o.certificates as Record<string, unknown>
    if (Object.keys(rest).length > 0) throw bad(`certificates: unknown field ${JSON.stringify(Object.keys(rest)[0])}`)
    if (defaultRole !== undefined) {
      if (defaultRole !== 'none' && !isRole(defaultRole)) throw bad('certificates.defaultRole must be client, peer, admin or none')
      certificates.defaultRole = defaultRole
    }
    if (identities !== undefined) {
      if (typeof identities !== 'object' || identities === null || Array.isArray(identities)) throw bad('certificates.identities must map identity to role')
      for (const [id, r] of Object.entries(identities)) {
        if (!isValidSiteId(id)) throw bad(`certificates.identities: invalid identity ${JSON.stringify(String(id).slice(0, 80))}`)
        if (r !== 'none' && !isRole(r)) throw bad(`certificates.identities.${id} must be client, peer, admin or none`)
        certificates.identities.set(id, r)
      }
    }
  }
  return { tokens, certificates, s3Keys: parseS3Keys(o.s3, bad) }
}

/**
 * "s3": [ { "accessKey": "AK...", "secretKey": "...", "identity": "app1", "role": "client" } ]:
 * S3 access keys (SigV4), each speaking for an identity with a role, as tokens do.
 */
function parseS3Keys (raw: unknown, bad: (m: string) => ShardsyncError): Map<string, S3Key> {
  const out = new Map<string, S3Key>()
  if (raw === undefined) return out
  if (!Array.isArray(raw)) throw bad('"s3" must be a list')
  raw.forEach((e: unknown, i) => {
    const at = `s3[${i}]`
    if (typeof e !== 'object' || e === null) throw bad(`${at} must be an object`)
    const { accessKey, secretKey, identity, role, ...rest } = e as Record<string, unknown>
    if (Object.keys(rest).length > 0) throw bad(`${at}: unknown field ${JSON.stringify(Object.keys(rest)[0])}`)
    if (typeof accessKey !== 'string' || !/^[A-Za-z0-9._-]{3,128}$/.test(accessKey)) throw bad(`${at}: "accessKey" must be 3-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'`)
    if (typeof secretKey !== 'string' || secretKey.length < 8 || secretKey.length > 128 || /\s/.test(secretKey)) throw bad(`${at}: "secretKey" must be 8-128 characters without white space`)
    if (!isValidSiteId(identity)) throw bad(`${at}: "identity" must be 1-63 characters of A-Z, a-z, 0-9, '_', '.' and '-'`)
    if (!isRole(role)) throw bad(`${at}: "role" must be client, peer or admin`)
    if (out.has(accessKey)) throw bad(`${at}: access key ${accessKey} is listed twice`)
    out.set(accessKey, { accessKey, secret: secretKey, identity, role })
  })
  return out
}

export function readCredentialsFile (file: string): CredentialsFile {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw ShardsyncError.invalidArgument(`--credentials: cannot read ${file}`)
  }
  return parseCredentials(text)
}

/** The shardsync://ID URI SANs of a certificate. */
function certificateUris (cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '').split(/,\s*/).filter(s => s.startsWith(`URI:${CERT_URI_PREFIX}`)).map(s => s.slice(4 + CERT_URI_PREFIX.length))
}

/** The identity a verified client certificate names: URI SAN shardsync://ID, else the subject CN. */
export function certificateIdentity (cert: PeerCertificate | undefined): string | undefined {
  if (cert === undefined || cert === null) return undefined
  const uris = certificateUris(cert)
  if (uris.length > 1) return undefined // ambiguous: refuse
  const cn = cert.subject?.CN as string | string[] | undefined
  const id = uris.length === 1 ? uris[0] : Array.isArray(cn) ? (cn.length === 1 ? cn[0] : undefined) : cn
  return isValidSiteId(id) ? id : undefined
}

export type AuthMode = 'open' | 'shared' | 'credentials'

/** The development S3 key of a node without credentials (printed at start; README, S3). */
export const DEV_S3_KEY: Readonly<S3Key> = Object.freeze({ accessKey: 'shardsync-dev', secret: 'shardsync-dev-secret', identity: 'dev', role: 'admin' })

export interface AuthConfig {
  /** Deprecated single shared token (no --credentials). */
  sharedToken?: string
  credentials?: CredentialsFile
  /** Client certificates are verified (mutual TLS). */
  mutualTls: boolean
}

export class Authenticator {
  readonly mode: AuthMode
  private shared?: Buffer
  private creds: CredentialsFile

  constructor (c: AuthConfig) {
    // The shared token keeps its old meaning with mutual TLS too (the
    // certificate then only admits the connection); --credentials replaces it.
    this.mode = c.credentials !== undefined ? 'credentials' : c.sharedToken !== undefined ? 'shared' : c.mutualTls ? 'credentials' : 'open'
    if (this.mode === 'shared') this.shared = tokenSha256(c.sharedToken as string)
    this.creds = c.credentials ?? { tokens: [], certificates: { defaultRole: 'peer', identities: new Map() }, s3Keys: new Map() }
  }

  /** Swaps in a re-read credentials file (SIGHUP); calls in flight keep the identity they had. */
  replace (creds: CredentialsFile): void {
    this.creds = creds
  }

  /** How many tokens and certificate rules are configured (for the start-up log; no secrets). */
  summary (): { mode: AuthMode, tokens: number, certificateRules: number, s3Keys: number } {
    return { mode: this.mode, tokens: this.creds.tokens.length, certificateRules: this.creds.certificates.identities.size, s3Keys: this.creds.s3Keys.size }
  }

  /**
   * The S3 access key of this id (node/s3/auth.ts), or undefined. A node
   * without credentials (open mode, loopback only) knows one key, the
   * documented development key, with every role as every caller has there.
   */
  s3Key (accessKey: string): S3Key | undefined {
    if (this.mode === 'open') return accessKey === DEV_S3_KEY.accessKey ? DEV_S3_KEY : undefined
    return this.creds.s3Keys.get(accessKey)
  }

  /**
   * The caller's identity, or undefined (UNAUTHENTICATED). `authorization`
   * is the header as sent; `cert` the verified client certificate, if any.
   */
  authenticate (authorization: unknown, cert: PeerCertificate | undefined, now = Date.now()): CallIdentity | undefined {
    if (this.mode === 'open') return { kind: 'open' }
    const token = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined
    if (authorization !== undefined && token === undefined) return undefined
    if (this.mode === 'shared') {
      return token !== undefined && crypto.timingSafeEqual(tokenSha256(token), this.shared as Buffer) ? { kind: 'shared' } : undefined
    }
    if (token !== undefined) {
      const digest = tokenSha256(token)
      let found: CredentialsFile['tokens'][number] | undefined
      // Every entry is compared, whatever matched, so the time taken says nothing.
      for (const e of this.creds.tokens) if (crypto.timingSafeEqual(digest, e.sha256) && found === undefined) found = e
      if (found === undefined || (found.expiresAt !== undefined && now >= found.expiresAt)) return undefined
      // A certificate that names an identity explicitly (URI SAN) must name
      // the token's: a token of site A is not usable over site C's certificate.
      const explicit = cert === undefined || cert === null ? [] : certificateUris(cert)
      if (explicit.length > 0 && (explicit.length > 1 || explicit[0] !== found.identity)) return undefined
      return { kind: 'authenticated', identity: found.identity, role: found.role, via: 'token' }
    }
    const id = certificateIdentity(cert)
    if (id === undefined) return undefined
    const role = this.creds.certificates.identities.get(id) ?? this.creds.certificates.defaultRole
    return role === 'none' ? undefined : { kind: 'authenticated', identity: id, role, via: 'certificate' }
  }
}
