/**
 * S3 error answers: the codes real clients match on, their HTTP status, and
 * the one exhaustive map from shardsync's stable codes (storage/errors.ts)
 * to them, as node/rpc/status-map.ts is for gRPC. Used by every S3 handler
 * through the server's catch (node/s3/server.ts).
 */
import type { ErrorCode } from '../../storage/errors'
import { ShardsyncError } from '../../storage/errors'

export const S3_STATUS = Object.freeze({
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  KeyTooLongError: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  SlowDown: 503,
  XAmzContentSHA256Mismatch: 400
} as const)

export type S3Code = keyof typeof S3_STATUS

export class S3Error extends Error {
  constructor (readonly code: S3Code, message: string, readonly extra: Record<string, string> = {}) {
    super(message)
  }

  get status (): number { return S3_STATUS[this.code] }
}

/** Every shardsync code as S3 answers it (exhaustive: a new code fails to compile until mapped). */
const BY_CODE: Readonly<Record<ErrorCode, S3Code>> = Object.freeze({
  INVALID_BUCKET_NAME: 'InvalidBucketName',
  INVALID_KEY: 'InvalidArgument',
  INVALID_ARGUMENT: 'InvalidArgument',
  INVALID_NOTICE: 'InvalidArgument',
  NOTICE_UNCONFIRMED: 'InvalidRequest',
  INVALID_ENCODING: 'InvalidArgument',
  TOO_MANY_ITEMS: 'InvalidArgument',
  DUPLICATE_CURSOR: 'InvalidArgument',
  BUCKET_NOT_FOUND: 'NoSuchBucket',
  BUCKET_EXISTS: 'BucketAlreadyOwnedByYou',
  BUCKET_NOT_EMPTY: 'BucketNotEmpty',
  SHARD_NOT_FOUND: 'InvalidArgument',
  OBJECT_NOT_FOUND: 'NoSuchKey',
  OBJECT_TOO_LARGE: 'EntityTooLarge',
  SHARD_SPLITTING: 'SlowDown',
  SPLIT_DEPTH_EXHAUSTED: 'InternalError',
  SHARD_LIMIT: 'InternalError',
  SPLIT_RATE_LIMITED: 'SlowDown',
  UNKNOWN_PEER: 'AccessDenied',
  PEER_NOT_FOUND: 'InvalidArgument',
  UNAUTHENTICATED: 'AccessDenied',
  ROLE_DENIED: 'AccessDenied',
  SITE_MISMATCH: 'AccessDenied',
  OVERLOADED: 'SlowDown',
  CLIENT_SHARE_EXHAUSTED: 'SlowDown',
  MESSAGE_TOO_LARGE: 'EntityTooLarge',
  STREAM_IDLE: 'IncompleteBody',
  STREAM_TOO_SLOW: 'IncompleteBody',
  NO_SPACE: 'ServiceUnavailable',
  DATABASE_LOCKED: 'ServiceUnavailable',
  DATABASE_CORRUPT: 'InternalError',
  NODE_CLOSING: 'ServiceUnavailable',
  UPSTREAM_UNAVAILABLE: 'ServiceUnavailable',
  LOG_TRIMMED: 'InternalError',
  INTERNAL: 'InternalError'
})

/** Any thrown value as an S3 error; undefined for one that is not ours (an internal error: the caller logs it). */
export function toS3Error (err: unknown): S3Error | undefined {
  if (err instanceof S3Error) return err
  if (err instanceof ShardsyncError && err.code !== 'INTERNAL') {
    const code = BY_CODE[err.code]
    return new S3Error(code, code === 'InternalError' ? 'internal error' : err.message)
  }
  return undefined
}
