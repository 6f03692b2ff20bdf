/**
 * The one exhaustive map from shardsync error codes to gRPC status codes,
 * and the conversions both ways. Servers send the stable code in the
 * trailing metadata key "shardsync-code"; clients turn it back into a
 * ShardsyncError. Internal errors are logged here and reach the client as
 * INTERNAL with a fixed message: no text, no stack.
 */
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { isNoSpace } from '../../storage/database'
import { ERROR_CODES, ShardsyncError, type ErrorCode } from '../../storage/errors'

export const CODE_METADATA_KEY = 'shardsync-code'

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, grpc.status>> = Object.freeze({
  INVALID_BUCKET_NAME: grpc.status.INVALID_ARGUMENT,
  INVALID_KEY: grpc.status.INVALID_ARGUMENT,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  INVALID_NOTICE: grpc.status.INVALID_ARGUMENT,
  INVALID_ENCODING: grpc.status.INVALID_ARGUMENT,
  TOO_MANY_ITEMS: grpc.status.INVALID_ARGUMENT,
  DUPLICATE_CURSOR: grpc.status.INVALID_ARGUMENT,
  OBJECT_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  BUCKET_NOT_FOUND: grpc.status.NOT_FOUND,
  SHARD_NOT_FOUND: grpc.status.NOT_FOUND,
  OBJECT_NOT_FOUND: grpc.status.NOT_FOUND,
  PEER_NOT_FOUND: grpc.status.NOT_FOUND,
  BUCKET_EXISTS: grpc.status.ALREADY_EXISTS,
  BUCKET_NOT_EMPTY: grpc.status.FAILED_PRECONDITION,
  SHARD_SPLITTING: grpc.status.FAILED_PRECONDITION,
  NOTICE_UNCONFIRMED: grpc.status.FAILED_PRECONDITION,
  SPLIT_DEPTH_EXHAUSTED: grpc.status.FAILED_PRECONDITION,
  SHARD_LIMIT: grpc.status.FAILED_PRECONDITION,
  SPLIT_RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  UNKNOWN_PEER: grpc.status.PERMISSION_DENIED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  ROLE_DENIED: grpc.status.PERMISSION_DENIED,
  SITE_MISMATCH: grpc.status.PERMISSION_DENIED,
  OVERLOADED: grpc.status.RESOURCE_EXHAUSTED,
  CLIENT_SHARE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  MESSAGE_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  STREAM_IDLE: grpc.status.DEADLINE_EXCEEDED,
  STREAM_TOO_SLOW: grpc.status.DEADLINE_EXCEEDED,
  NO_SPACE: grpc.status.RESOURCE_EXHAUSTED,
  DATABASE_LOCKED: grpc.status.UNAVAILABLE,
  DATABASE_CORRUPT: grpc.status.INTERNAL,
  NODE_CLOSING: grpc.status.UNAVAILABLE,
  UPSTREAM_UNAVAILABLE: grpc.status.UNAVAILABLE,
  LOG_TRIMMED: grpc.status.FAILED_PRECONDITION,
  INTERNAL: grpc.status.INTERNAL
})

const KNOWN_CODES = new Set<string>(ERROR_CODES)

/** Any thrown value -> a status for the client. Logs what is not ours. */
export function toServiceError (err: unknown, log: Logger, method: string): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata()
  if (err instanceof ShardsyncError && err.code !== 'INTERNAL') {
    metadata.set(CODE_METADATA_KEY, err.code)
    return { code: STATUS_BY_CODE[err.code], details: err.message, metadata }
  }
  // A full disk reached through a write that is not a batch (a blob file, a single put).
  if (isNoSpace(err)) {
    metadata.set(CODE_METADATA_KEY, 'NO_SPACE')
    return { code: STATUS_BY_CODE.NO_SPACE, details: ShardsyncError.noSpace().message, metadata }
  }
  log.error({ err, method }, 'internal error')
  metadata.set(CODE_METADATA_KEY, 'INTERNAL')
  return { code: grpc.status.INTERNAL, details: 'internal error', metadata }
}

/** A failed client call -> ShardsyncError with the server's stable code. */
export function fromServiceError (err: unknown, what: string): ShardsyncError {
  if (err instanceof ShardsyncError) return err
  const e = err as Partial<grpc.ServiceError>
  const code = e.metadata?.get(CODE_METADATA_KEY)[0]
  if (typeof code === 'string' && KNOWN_CODES.has(code)) {
    return new ShardsyncError(code as ErrorCode, String(e.details ?? what), { cause: err })
  }
  switch (e.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.CANCELLED:
    case grpc.status.RESOURCE_EXHAUSTED:
      return ShardsyncError.upstreamUnavailable(`${what}: ${grpc.status[e.code]}`, err)
    case grpc.status.UNAUTHENTICATED:
      return new ShardsyncError('UNAUTHENTICATED', String(e.details ?? what), { cause: err })
    case grpc.status.PERMISSION_DENIED:
      return new ShardsyncError('UNKNOWN_PEER', String(e.details ?? what), { cause: err })
    default:
      return new ShardsyncError('INTERNAL', `${what} failed: ${e.code !== undefined ? grpc.status[e.code] : String(err)}`, { cause: err })
  }
}
