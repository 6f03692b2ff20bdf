/**
 * Object metadata kept beside the content: the Content-Type and the user
 * metadata (x-amz-meta-*) an S3 client sent, and the client-visible ETag
 * where it is not the content's MD5 (a multipart upload's "md5-of-md5s-N").
 *
 * Stored in the head (records.ts ObjectHead.meta), carried in sync as
 * ObjectInfo.metadata (JSON text, proto/README.md) and applied with the
 * replicated version, so every site answers the same headers. Written by
 * the S3 front door (node/s3/); gRPC writes leave it unset.
 */
import { ShardsyncError } from './errors'

export interface ObjectMeta {
  /** Content-Type as the client sent it. */
  type?: string
  /** User metadata: lower-case names without the x-amz-meta- prefix. */
  user?: Record<string, string>
  /** The ETag S3 reports, when it differs from the MD5 of the content. */
  etag?: string
}

/** S3's limit on user metadata (names and values, UTF-8), which also bounds the rest here. */
export const MAX_META_BYTES = 2048
const MAX_TYPE_BYTES = 256

/** Throws INVALID_ARGUMENT unless m is a well-formed ObjectMeta within the limits; returns it. */
export function validateObjectMeta (m: unknown): ObjectMeta {
  const bad = (why: string): ShardsyncError => ShardsyncError.invalidArgument(`object metadata: ${why}`)
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad('not an object')
  const o = m as Record<string, unknown>
  for (const k of Object.keys(o)) if (k !== 'type' && k !== 'user' && k !== 'etag') throw bad(`unknown field ${JSON.stringify(k.slice(0, 40))}`)
  if (o.type !== undefined && (typeof o.type !== 'string' || Buffer.byteLength(o.type) > MAX_TYPE_BYTES || /[\r\n]/.test(o.type))) throw bad('bad content type')
  if (o.etag !== undefined && (typeof o.etag !== 'string' || !/^[0-9a-f]{32}(-\d{1,5})?$/.test(o.etag))) throw bad('bad etag')
  if (o.user !== undefined) {
    if (typeof o.user !== 'object' || o.user === null || Array.isArray(o.user)) throw bad('user metadata is not an object')
    let bytes = 0
    for (const [k, v] of Object.entries(o.user as Record<string, unknown>)) {
      if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(k)) throw bad(`bad user metadata name ${JSON.stringify(k.slice(0, 40))}`)
      if (typeof v !== 'string' || /[\r\n\0]/.test(v)) throw bad(`bad value of user metadata ${k}`)
      bytes += Buffer.byteLength(k) + Buffer.byteLength(v)
    }
    if (bytes > MAX_META_BYTES) throw new ShardsyncError('INVALID_ARGUMENT', `user metadata over ${MAX_META_BYTES} bytes`)
  }
  return o as ObjectMeta
}

/** The wire form (ObjectInfo.metadata): JSON text. */
export function encodeObjectMeta (m: ObjectMeta): string {
  return JSON.stringify(m)
}

/** From the wire form; INVALID_ARGUMENT if it is not a valid ObjectMeta. */
export function decodeObjectMeta (text: string): ObjectMeta {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw ShardsyncError.invalidArgument('object metadata: not JSON')
  }
  return validateObjectMeta(raw)
}

/** True if there is nothing to keep. */
export function isEmptyMeta (m: ObjectMeta | undefined): boolean {
  return m === undefined || (m.type === undefined && m.etag === undefined && (m.user === undefined || Object.keys(m.user).length === 0))
}
