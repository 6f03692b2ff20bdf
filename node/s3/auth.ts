/**
 * Who sent an S3 request: the SigV4 claim (header or presigned query)
 * checked against the access key's secret (node/rpc/credentials.ts, the
 * "s3" entries of --credentials; the development key on a node without
 * credentials), the clock and the node's region. Gives the caller's
 * identity and role (node/rpc/method-roles.ts) and how the body is signed.
 * Called by node/s3/server.ts before any handler reads the body.
 */
import type { Role } from '../rpc/method-roles'
import type { S3Key } from '../rpc/credentials'
import type { ChunkSigning } from './chunked'
import { S3Error } from './errors'
import {
  amzDateMs, ClaimError, expectedSignature, parseAuthorizationHeader, parsePresignedQuery, sameSignature,
  STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER, UNSIGNED_PAYLOAD, type RequestParts, type SignedClaim
} from './sigv4'

/** Most difference between the request's time and the node's clock (as S3). */
export const MAX_SKEW_MS = 15 * 60 * 1000

export interface S3Caller { identity: string, role: Role, accessKey: string }

/** How the body is to be read and checked. */
export type Payload =
  | { kind: 'unsigned' }
  | { kind: 'sha256', hex: string }
  | { kind: 'chunked', signing?: ChunkSigning, trailer: boolean }

export interface Authenticated { caller: S3Caller, payload: Payload }

export interface AuthOptions {
  region: string
  lookup: (accessKey: string) => S3Key | undefined
  now?: number
}

function fromClaimError (err: unknown): never {
  if (err instanceof ClaimError) throw new S3Error(err.s3Code, err.message)
  throw err
}

export function authenticate (r: RequestParts, opts: AuthOptions): Authenticated {
  const now = opts.now ?? Date.now()
  let claim: SignedClaim | undefined
  try {
    claim = parsePresignedQuery(r.query)
    const header = r.headers.authorization
    if (claim === undefined && typeof header === 'string') claim = parseAuthorizationHeader(header, firstHeader(r.headers['x-amz-date']))
  } catch (err) {
    fromClaimError(err)
  }
  if (claim === undefined && r.query.some(([k]) => k === 'AWSAccessKeyId')) throw new S3Error('InvalidRequest', 'the authorization mechanism you have provided is not supported: please use AWS4-HMAC-SHA256 (boto3: signature_version="s3v4")')
  if (claim === undefined) throw new S3Error('AccessDenied', 'anonymous requests are not allowed: sign with AWS Signature Version 4')
  const key = opts.lookup(claim.accessKey)
  if (key === undefined) throw new S3Error('InvalidAccessKeyId', 'the access key id you provided does not exist in our records')
  const malformed = claim.presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed'
  if (claim.service !== 's3') throw new S3Error(malformed, `the credential names service ${JSON.stringify(claim.service)}; expecting "s3"`)
  if (claim.region !== opts.region) throw new S3Error(malformed, `the authorization header is malformed; the region ${JSON.stringify(claim.region)} is wrong; expecting ${JSON.stringify(opts.region)}`, { Region: opts.region })
  if (claim.scopeDate !== claim.amzDate.slice(0, 8)) throw new S3Error(malformed, 'the credential date does not match x-amz-date')
  if (!claim.signedHeaders.includes('host')) throw new S3Error(malformed, 'SignedHeaders must include host')
  const at = amzDateMs(claim.amzDate)
  if (!Number.isFinite(at)) throw new S3Error('AccessDenied', 'bad x-amz-date')
  if (claim.presigned) {
    if (at - now > MAX_SKEW_MS) throw new S3Error('RequestTimeTooSkewed', 'the difference between the request time and the server\'s time is too large')
    if (now > at + (claim.expires as number) * 1000) throw new S3Error('AccessDenied', 'Request has expired')
  } else if (Math.abs(now - at) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', 'the difference between the request time and the server\'s time is too large', { RequestTime: claim.amzDate, ServerTime: new Date(now).toISOString() })
  }
  const declared = claim.presigned ? (new Map(r.query).get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD) : firstHeader(r.headers['x-amz-content-sha256'])
  if (declared === undefined) throw new S3Error('InvalidRequest', 'missing required header for this request: x-amz-content-sha256')
  const streaming = declared === STREAMING_SIGNED || declared === STREAMING_SIGNED_TRAILER || declared === STREAMING_UNSIGNED_TRAILER
  if (!streaming && declared !== UNSIGNED_PAYLOAD && !/^[0-9a-f]{64}$/.test(declared)) throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-*, or a lower-case SHA-256 in hex')
  const { signature, key: signKey, scope } = expectedSignature(r, claim, key.secret, declared)
  if (!sameSignature(signature, claim.signature)) throw new S3Error('SignatureDoesNotMatch', 'the request signature we calculated does not match the signature you provided; check your key and signing method')
  const caller: S3Caller = { identity: key.identity, role: key.role, accessKey: key.accessKey }
  if (streaming) {
    const signing = declared === STREAMING_UNSIGNED_TRAILER ? undefined : { key: signKey, amzDate: claim.amzDate, scope, seed: signature }
    return { caller, payload: { kind: 'chunked', signing, trailer: declared !== STREAMING_SIGNED } }
  }
  return { caller, payload: declared === UNSIGNED_PAYLOAD ? { kind: 'unsigned' } : { kind: 'sha256', hex: declared } }
}

export function firstHeader (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
