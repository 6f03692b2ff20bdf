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
  'NOTICE_UNCONFIRMED',
  'INVALID_ENCODING',
  'TOO_MANY_ITEMS',
  'DUPLICATE_CURSOR',
  'BUCKET_NOT_FOUND',
  'BUCKET_EXISTS',
  'BUCKET_NOT_EMPTY',
  'SHARD_NOT_FOUND',
  'OBJECT_NOT_FOUND',
  'OBJECT_TOO_LARGE',
  'SHARD_SPLITTING',
  'SPLIT_DEPTH_EXHAUSTED',
  'SHARD_LIMIT',
  'SPLIT_RATE_LIMITED',
  'UNKNOWN_PEER',
  'PEER_NOT_FOUND',
  'UNAUTHENTICATED',
  'ROLE_DENIED',
  'SITE_MISMATCH',
  'OVERLOADED',
  'CLIENT_SHARE_EXHAUSTED',
  'MESSAGE_TOO_LARGE',
  'STREAM_IDLE',
  'STREAM_TOO_SLOW',
  'NO_SPACE',
  'DATABASE_LOCKED',
  'DATABASE_CORRUPT',
  'NODE_CLOSING',
  'UPSTREAM_UNAVAILABLE',
  'LOG_TRIMMED',
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

  static noticeUnconfirmed (reason: string): ShardsyncError {
    return new ShardsyncError('NOTICE_UNCONFIRMED', `split notice not confirmed by its source: ${reason}`)
  }

  /** A string field's bytes are not valid UTF-8 (never replaced: two keys would become one). */
  static invalidEncoding (field: string): ShardsyncError {
    return new ShardsyncError('INVALID_ENCODING', `${field} is not valid UTF-8`)
  }

  static tooManyItems (field: string, limit: number): ShardsyncError {
    return new ShardsyncError('TOO_MANY_ITEMS', `${field}: at most ${limit} items`)
  }

  static duplicateCursor (shard: number): ShardsyncError {
    return new ShardsyncError('DUPLICATE_CURSOR', `more than one cursor for shard ${shard}`)
  }

  static bucketNotFound (name: string): ShardsyncError {
    return new ShardsyncError('BUCKET_NOT_FOUND', `bucket ${JSON.stringify(truncate(name))} does not exist`)
  }

  static bucketExists (name: string): ShardsyncError {
    return new ShardsyncError('BUCKET_EXISTS', `bucket ${JSON.stringify(truncate(name))} already exists`)
  }

  static bucketNotEmpty (name: string): ShardsyncError {
    return new ShardsyncError('BUCKET_NOT_EMPTY', `bucket ${JSON.stringify(truncate(name))} is not empty`)
  }

  static shardNotFound (bucket: string, shard: number): ShardsyncError {
    return new ShardsyncError('SHARD_NOT_FOUND', `bucket ${JSON.stringify(truncate(bucket))} has no shard ${shard}`)
  }

  static objectNotFound (bucket: string, key: string): ShardsyncError {
    return new ShardsyncError('OBJECT_NOT_FOUND', `no object ${JSON.stringify(truncate(key))} in bucket ${JSON.stringify(bucket)}`)
  }

  static objectTooLarge (limit: number): ShardsyncError {
    return new ShardsyncError('OBJECT_TOO_LARGE', `object exceeds this node's limit of ${limit} bytes`)
  }

  static shardSplitting (bucket: string, shard: number): ShardsyncError {
    return new ShardsyncError('SHARD_SPLITTING', `shard ${shard} of bucket ${JSON.stringify(truncate(bucket))} is already splitting`)
  }

  static splitDepthExhausted (bucket: string, shard: number): ShardsyncError {
    return new ShardsyncError('SPLIT_DEPTH_EXHAUSTED', `shard ${shard} of bucket ${JSON.stringify(truncate(bucket))} cannot split further`)
  }

  /** The bucket already has the most shards this node allows (--max-shards). */
  static shardLimit (bucket: string, limit: number): ShardsyncError {
    return new ShardsyncError('SHARD_LIMIT', `bucket ${JSON.stringify(truncate(bucket))} may have at most ${limit} shards`)
  }

  static splitRateLimited (bucket: string, limit: number, intervalMs: number): ShardsyncError {
    return new ShardsyncError('SPLIT_RATE_LIMITED', `bucket ${JSON.stringify(truncate(bucket))} may split at most ${limit} times per ${intervalMs} ms; retry later`)
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

  /** This caller's share of the node's in-flight calls or buffered bytes is used up. */
  static clientShareExhausted (what: string): ShardsyncError {
    return new ShardsyncError('CLIENT_SHARE_EXHAUSTED', `this client's share of ${what} is used up; retry later`)
  }

  static messageTooLarge (): ShardsyncError {
    return new ShardsyncError('MESSAGE_TOO_LARGE', 'message larger than this node accepts (--max-message-bytes)')
  }

  static streamIdle (ms: number): ShardsyncError {
    return new ShardsyncError('STREAM_IDLE', `stream made no progress for ${ms} ms`)
  }

  static streamTooSlow (bytesPerSecond: number): ShardsyncError {
    return new ShardsyncError('STREAM_TOO_SLOW', `stream moved less than ${bytesPerSecond} bytes/s`)
  }

  /** The disk is full: writes are refused until space is freed; reads go on. */
  static noSpace (cause?: unknown): ShardsyncError {
    return new ShardsyncError('NO_SPACE', 'no space left on the node\'s disk; writes resume when space is freed', { cause })
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

  /** PullChanges from below a shard's trimmed point: the target must resync that shard (full sync). */
  static logTrimmed (bucket: string, shard: number, floor: number): ShardsyncError {
    return new ShardsyncError('LOG_TRIMMED', `sync log of shard ${shard} of bucket ${JSON.stringify(truncate(bucket))} is trimmed through ${floor}: resync the shard`)
  }

  static upstreamUnavailable (what: string, cause?: unknown): ShardsyncError {
    return new ShardsyncError('UPSTREAM_UNAVAILABLE', `peer unavailable: ${what}`, { cause })
  }
}

export function isShardsyncError (err: unknown, code?: ErrorCode): err is ShardsyncError {
  return err instanceof ShardsyncError && (code === undefined || err.code === code)
}

function truncate (s: string): string {
  return excerpt(s, 80)
}

/**
 * The first `max` UTF-16 units of a client-given string, for a message:
 * never cut inside a surrogate pair, '…' when shortened. Messages travel in
 * the grpc-message trailer, so they must stay small whatever the input.
 */
export function excerpt (s: string, max: number): string {
  if (s.length <= max) return s
  const code = s.charCodeAt(max - 1)
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max
  return s.slice(0, end) + '…'
}
