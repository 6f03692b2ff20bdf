/**
 * Input rules shared by every layer: bucket names (S3), object keys, site
 * and peer ids. Each check throws a ShardsyncError with a stable code.
 */
import { ShardsyncError } from './errors'

export const MAX_KEY_BYTES = 1024

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const IPV4_LIKE = /^\d+\.\d+\.\d+\.\d+$/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

export function validateBucketName (name: unknown): string {
  if (typeof name !== 'string' || !BUCKET_NAME.test(name) || name.includes('..') ||
      name.includes('.-') || name.includes('-.') || IPV4_LIKE.test(name)) {
    throw ShardsyncError.invalidBucketName(String(name))
  }
  return name
}

export function validateObjectKey (key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw ShardsyncError.invalidKey('empty')
  if (key.length > MAX_KEY_BYTES * 3 || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw ShardsyncError.invalidKey(`longer than ${MAX_KEY_BYTES} UTF-8 bytes`)
  }
  if (key.includes('\u0000')) throw ShardsyncError.invalidKey('contains NUL')
  if (LONE_SURROGATE.test(key)) throw ShardsyncError.invalidKey('not valid UTF-8')
  return key
}

/** Bucket ids (storage ids, 12 hex digits when made here; a peer's may differ): 1-64 of A-Z a-z 0-9 _ -. */
export function isValidBucketId (id: unknown): id is string {
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id)
}

/** Site and peer ids: 1-63 of A-Z a-z 0-9 _ . -, never ':' or '!'. */
export function isValidSiteId (id: unknown): id is string {
  return typeof id === 'string' && SITE_ID.test(id)
}

export function validateSiteId (id: unknown, what = 'site id'): string {
  if (!isValidSiteId(id)) throw ShardsyncError.invalidArgument(`invalid ${what}: use 1-63 characters of A-Z, a-z, 0-9, '_', '.' and '-'`)
  return id
}
