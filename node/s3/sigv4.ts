/**
 * AWS Signature Version 4 for S3, server side: the canonical request, the
 * string to sign and the signing key, recomputed from what the client sent
 * and compared in constant time. Pure functions (no I/O, no clock): the
 * caller (node/s3/auth.ts) passes the time and looks the secret up.
 *
 * Covers the Authorization header form and the presigned query form
 * (X-Amz-Algorithm ... X-Amz-Signature), and the per-chunk signatures of
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies (node/s3/chunked.ts).
 * test/s3/sigv4.test.ts checks it against the examples of the S3 docs.
 */
import crypto from 'node:crypto'

export const ALGORITHM = 'AWS4-HMAC-SHA256'
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** What the client claims: from the Authorization header or the presigned query. */
export interface SignedClaim {
  accessKey: string
  /** yyyymmdd of the credential scope. */
  scopeDate: string
  region: string
  service: string
  /** Lower-case header names, as listed (sorted by the client). */
  signedHeaders: string[]
  signature: string
  /** yyyymmddThhmmssZ (x-amz-date / X-Amz-Date). */
  amzDate: string
  presigned: boolean
  /** Presigned only: seconds of validity. */
  expires?: number
}

/** Why a claim could not be read: the S3 code to answer with and a message. */
export class ClaimError extends Error {
  constructor (readonly s3Code: 'AccessDenied' | 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError' | 'InvalidRequest' | 'SignatureDoesNotMatch', message: string) {
    super(message)
  }
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, the rest %XX upper case; '/' kept when encodeSlash is false. */
export function uriEncode (s: string, encodeSlash = true): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || c === '-' || c === '.' || c === '_' || c === '~' || (c === '/' && !encodeSlash)) out += c
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** Decodes %XX escapes only ('+' stays '+'); undefined for a bad escape or bytes that are not UTF-8. */
export function percentDecode (s: string): string | undefined {
  if (!s.includes('%')) return s
  const bytes: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3)
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return undefined
      bytes.push(parseInt(h, 16))
      i += 2
    } else if (c < 0x80) {
      bytes.push(c)
    } else {
      for (const b of Buffer.from(s[i] + ((c & 0xfc00) === 0xd800 ? s[i + 1] ?? '' : ''), 'utf8')) bytes.push(b)
      if ((c & 0xfc00) === 0xd800) i++
    }
  }
  const buf = Buffer.from(bytes)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf)
  } catch {
    return undefined
  }
}

/** The raw query string as [name, value] pairs, decoded; undefined if an escape is bad. */
export function parseQuery (raw: string): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = []
  if (raw === '') return out
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const k = percentDecode(eq < 0 ? part : part.slice(0, eq))
    const v = percentDecode(eq < 0 ? '' : part.slice(eq + 1))
    if (k === undefined || v === undefined) return undefined
    out.push([k, v])
  }
  return out
}

export function canonicalQuery (pairs: ReadonlyArray<[string, string]>, skip?: string): string {
  const enc = pairs.filter(([k]) => k !== skip).map(([k, v]) => [uriEncode(k), uriEncode(v)])
  enc.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
  return enc.map(([k, v]) => `${k}=${v}`).join('&')
}

/** Header value as signed: trimmed, runs of spaces made one; several values joined by ','. */
function canonicalHeaderValue (v: string | string[] | undefined): string {
  const values = Array.isArray(v) ? v : [v ?? '']
  return values.map(x => x.trim().replace(/\s+/g, ' ')).join(',')
}

export interface RequestParts {
  method: string
  /** The decoded path, e.g. "/bucket/a key". */
  path: string
  query: ReadonlyArray<[string, string]>
  /** Lower-case names (node:http's req.headers). */
  headers: Readonly<Record<string, string | string[] | undefined>>
}

export function canonicalRequest (r: RequestParts, signedHeaders: readonly string[], payloadHash: string, skipQuery?: string): string {
  const headerLines = signedHeaders.map(h => `${h}:${canonicalHeaderValue(r.headers[h])}\n`).join('')
  return [r.method, uriEncode(r.path, false), canonicalQuery(r.query, skipQuery), headerLines, signedHeaders.join(';'), payloadHash].join('\n')
}

export function scopeOf (c: { scopeDate: string, region: string, service: string }): string {
  return `${c.scopeDate}/${c.region}/${c.service}/aws4_request`
}

export function sha256Hex (data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex')
}

function hmac (key: Buffer | string, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest()
}

export function signingKey (secret: string, scopeDate: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac('AWS4' + secret, scopeDate), region), service), 'aws4_request')
}

export function stringToSign (amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n')
}

export function signatureOf (key: Buffer, toSign: string): string {
  return hmac(key, toSign).toString('hex')
}

/** Constant-time comparison of two hex signatures. */
export function sameSignature (a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}

/** The signature of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkSignature (key: Buffer, amzDate: string, scope: string, previous: string, chunkSha256: string): string {
  return signatureOf(key, ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, EMPTY_SHA256, chunkSha256].join('\n'))
}

/** The signature of an aws-chunked body's trailing headers (…-PAYLOAD-TRAILER). */
export function trailerSignature (key: Buffer, amzDate: string, scope: string, previous: string, trailerText: string): string {
  return signatureOf(key, ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previous, sha256Hex(trailerText)].join('\n'))
}

const AMZ_DATE = /^(\d{8})T\d{6}Z$/

/** Reads the claim of an Authorization header. */
export function parseAuthorizationHeader (value: string, amzDate: string | undefined): SignedClaim {
  if (!value.startsWith(ALGORITHM + ' ')) {
    if (value.startsWith('AWS ')) throw new ClaimError('InvalidRequest', 'signature version 2 is not supported: use AWS4-HMAC-SHA256')
    throw new ClaimError('AuthorizationHeaderMalformed', 'unsupported authorization type')
  }
  const fields = new Map<string, string>()
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const p = part.trim()
    const eq = p.indexOf('=')
    if (eq > 0) fields.set(p.slice(0, eq), p.slice(eq + 1))
  }
  const cred = fields.get('Credential')
  const signed = fields.get('SignedHeaders')
  const signature = fields.get('Signature')
  if (cred === undefined || signed === undefined || signature === undefined) throw new ClaimError('AuthorizationHeaderMalformed', 'the authorization header lacks Credential, SignedHeaders or Signature')
  if (amzDate === undefined || !AMZ_DATE.test(amzDate)) throw new ClaimError('AccessDenied', 'AWS authentication requires a valid x-amz-date header')
  return { ...credentialParts(cred, 'AuthorizationHeaderMalformed'), signedHeaders: signed.split(';'), signature, amzDate, presigned: false }
}

/** Reads the claim of a presigned URL's query, or undefined when it has no X-Amz-Algorithm. */
export function parsePresignedQuery (query: ReadonlyArray<[string, string]>): SignedClaim | undefined {
  const q = new Map(query)
  const alg = q.get('X-Amz-Algorithm')
  if (alg === undefined) return undefined
  const bad = (m: string): ClaimError => new ClaimError('AuthorizationQueryParametersError', m)
  if (alg !== ALGORITHM) throw bad('X-Amz-Algorithm must be AWS4-HMAC-SHA256')
  const cred = q.get('X-Amz-Credential')
  const amzDate = q.get('X-Amz-Date')
  const signed = q.get('X-Amz-SignedHeaders')
  const signature = q.get('X-Amz-Signature')
  const expires = Number(q.get('X-Amz-Expires'))
  if (cred === undefined || amzDate === undefined || signed === undefined || signature === undefined) throw bad('a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature')
  if (!AMZ_DATE.test(amzDate)) throw bad('X-Amz-Date must be yyyymmddThhmmssZ')
  if (!Number.isInteger(expires) || expires < 1 || expires > 604800) throw bad('X-Amz-Expires must be from 1 to 604800 seconds')
  return { ...credentialParts(cred, 'AuthorizationQueryParametersError'), signedHeaders: signed.split(';'), signature, amzDate, presigned: true, expires }
}

function credentialParts (cred: string, code: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError'): { accessKey: string, scopeDate: string, region: string, service: string } {
  const parts = cred.split('/')
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]) || parts[0] === '') throw new ClaimError(code, 'the credential must be ACCESS_KEY/yyyymmdd/region/s3/aws4_request')
  return { accessKey: parts[0], scopeDate: parts[1], region: parts[2], service: parts[3] }
}

/** x-amz-date as milliseconds since the epoch. */
export function amzDateMs (amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)
  if (m === null) return NaN
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
}

/** The request signature the claim should carry, recomputed with the secret. */
export function expectedSignature (r: RequestParts, c: SignedClaim, secret: string, payloadHash: string): { signature: string, key: Buffer, scope: string } {
  const key = signingKey(secret, c.scopeDate, c.region, c.service)
  const scope = scopeOf(c)
  const canonical = canonicalRequest(r, c.signedHeaders, payloadHash, c.presigned ? 'X-Amz-Signature' : undefined)
  return { signature: signatureOf(key, stringToSign(c.amzDate, scope, canonical)), key, scope }
}
