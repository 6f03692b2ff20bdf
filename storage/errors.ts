/**
 * The one error class of shardsync, with a factory per stable code.
 *
 * Codes never change once released (clients match on them); messages may.
 * The rpc layer maps every code to a gRPC status in node/rpc/status-map.ts,
 * exhaustively, and sends the code in the trailing metadata key
 * "shardsync-code". Anything thrown that is not a ShardsyncError is an
 * internal error: logged, and answered with INTERNAL and no message.
 */

export const ERROR_CODES = [
  'INVALID_BUCKET_NAME',
  'INVALID_KEY',
  'INVALID_ARGUMENT',
  'INVALID_NOTICE',
  'BUCKET_NOT_FOUND',
  'BUCKET_EXISTS',
  'BUCKET_NOT_EMPTY',
  'SHARD_NOT_FOUND',
  'OBJECT_NOT_FOUND',
  'OBJECT_TOO_LARGE',
  'SHARD_SPLITTING',
  'SPLIT_DEPTH_EXHAUSTED',
  'UNKNOWN_PEER',
  'PEER_NOT_FOUND',
  'UNAUTHENTICATED',
  'ROLE_DENIED',
  'SITE_MISMATCH',
  'OVERLOADED',
  'DATABASE_LOCKED',
  'DATABASE_CORRUPT',
  'NODE_CLOSING',
  'UPSTREAM_UNAVAILABLE',
  'INTERNAL'
] as const

export type ErrorCode = typeof ERROR_CODES[number]

export class ShardsyncError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ShardsyncError'
    this.code = code
  }

  static invalidBucketName (name: string): ShardsyncError {
    return new ShardsyncError('INVALID_BUCKET_NAME', `invalid bucket name ${JSON.stringify(truncate(name))}: use 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit`)
  }

  static invalidKey (reason: string): ShardsyncError {
    return new ShardsyncError('INVALID_KEY', `invalid object key: ${reason}`)
  }

  static invalidArgument (message: string): ShardsyncError {
    return new ShardsyncError('INVALID_ARGUMENT', message)
  }

  static invalidNotice (reason: string): ShardsyncError {
    return new ShardsyncError('INVALID_NOTICE', `malformed source_reshard_sync_info: ${reason}`)
  }

  static bucketNotFound (name: string): ShardsyncError {
    return new ShardsyncError('BUCKET_NOT_FOUND', `bucket ${JSON.stringify(truncate(name))} does not exist`)
  }

  static bucketExists (name: string): ShardsyncError {
    return new ShardsyncError('BUCKET_EXISTS', `bucket ${JSON.stringify(name)} already exists`)
  }

  static bucketNotEmpty (name: string): ShardsyncError {
    return new ShardsyncError('BUCKET_NOT_EMPTY', `bucket ${JSON.stringify(name)} is not empty`)
  }

  static shardNotFound (bucket: string, shard: number): ShardsyncError {
    return new ShardsyncError('SHARD_NOT_FOUND', `bucket ${JSON.stringify(bucket)} has no shard ${shard}`)
  }

  static objectNotFound (bucket: string, key: string): ShardsyncError {
    return new ShardsyncError('OBJECT_NOT_FOUND', `no object ${JSON.stringify(truncate(key))} in bucket ${JSON.stringify(bucket)}`)
  }

  static objectTooLarge (limit: number): ShardsyncError {
    return new ShardsyncError('OBJECT_TOO_LARGE', `object exceeds this node's limit of ${limit} bytes`)
  }

  static shardSplitting (bucket: string, shard: number): ShardsyncError {
    return new ShardsyncError('SHARD_SPLITTING', `shard ${shard} of bucket ${JSON.stringify(bucket)} is already splitting`)
  }

  static splitDepthExhausted (bucket: string, shard: number): ShardsyncError {
    return new ShardsyncError('SPLIT_DEPTH_EXHAUSTED', `shard ${shard} of bucket ${JSON.stringify(bucket)} cannot split further`)
  }

  static unknownPeer (site: string): ShardsyncError {
    return new ShardsyncError('UNKNOWN_PEER', `site ${JSON.stringify(truncate(site))} is not a peer of this node`)
  }

  static peerNotFound (id: string): ShardsyncError {
    return new ShardsyncError('PEER_NOT_FOUND', `no peer ${JSON.stringify(truncate(id))}`)
  }

  static unauthenticated (): ShardsyncError {
    return new ShardsyncError('UNAUTHENTICATED', 'missing or wrong credentials')
  }

  /** An authenticated caller whose role may not call this method. */
  static roleDenied (method: string): ShardsyncError {
    return new ShardsyncError('ROLE_DENIED', `this credential's role may not call ${method}`)
  }

  /** A caller that names a site (header, notice, exclude_origin) other than the one it authenticated as. */
  static siteMismatch (what: string): ShardsyncError {
    return new ShardsyncError('SITE_MISMATCH', `${what} names a site other than the caller's authenticated identity`)
  }

  static overloaded (what: string): ShardsyncError {
    return new ShardsyncError('OVERLOADED', `node is overloaded: ${what}; retry later`)
  }

  static databaseLocked (dir: string, cause?: unknown): ShardsyncError {
    return new ShardsyncError('DATABASE_LOCKED', `database in ${dir} is locked: is another shardsync node running on it?`, { cause })
  }

  static databaseCorrupt (dir: string, cause?: unknown): ShardsyncError {
    return new ShardsyncError('DATABASE_CORRUPT', `database in ${dir} cannot be opened: it is corrupt or not a shardsync database`, { cause })
  }

  static nodeClosing (): ShardsyncError {
    return new ShardsyncError('NODE_CLOSING', 'node is shutting down')
  }

  static upstreamUnavailable (what: string, cause?: unknown): ShardsyncError {
    return new ShardsyncError('UPSTREAM_UNAVAILABLE', `peer unavailable: ${what}`, { cause })
  }
}

export function isShardsyncError (err: unknown, code?: ErrorCode): err is ShardsyncError {
  return err instanceof ShardsyncError && (code === undefined || err.code === code)
}

function truncate (s: string): string {
  return s.length > 80 ? s.slice(0, 80) + '…' : s
}
