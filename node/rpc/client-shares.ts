/**
 * Per-client shares of what a node gives all its callers together: calls
 * in flight (--max-inflight-per-client of --max-inflight) and bytes held in
 * memory for unfinished uploads (--max-buffered-bytes-per-client of
 * --max-buffered-bytes), so one client cannot starve the others or the
 * peers' sync. Called by the load-shed interceptor (calls) and by the
 * PutObject handler (bytes); owns the counters, nothing else.
 *
 * "Who is calling" is callerIdentity(): today the caller's claimed site
 * (`shardsync-site`), else its IP address. Both are unauthenticated claims
 * (a client can vary them); once calls carry an authenticated identity
 * (issue 27, finding 1) callerIdentity() should return it instead, and
 * nothing else here changes.
 */
import type * as grpc from '@grpc/grpc-js'
import { callIdentity, identityLabel } from './call-identity'
import { ShardsyncError } from '../../storage/errors'

export const SITE_HEADER = 'shardsync-site'

/** The key a caller's shares are counted under. */
export function callerIdentity (metadata: grpc.Metadata, peer: string): string {
  // The authenticated identity when the auth interceptor (which runs first) set one.
  const id = callIdentity({ metadata })
  if (id.kind === 'authenticated') return `id:${identityLabel(id)}`
  const site = metadata.get(SITE_HEADER)[0]
  if (typeof site === 'string' && site !== '') return `site:${site.slice(0, 64)}`
  return `addr:${hostOf(peer)}`
}

/** "ipv4:127.0.0.1:5555" / "127.0.0.1:5555" / "[::1]:5555" -> the host part. */
function hostOf (peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '')
  const i = p.lastIndexOf(':')
  return i > 0 && /^\d+$/.test(p.slice(i + 1)) ? p.slice(0, i) : p
}

export interface ShareLimits {
  maxInflightPerClient: number
  maxBufferedBytes: number
  maxBufferedBytesPerClient: number
}

export class ClientShares {
  private readonly inflight = new Map<string, number>()
  private readonly buffered = new Map<string, number>()
  private totalBuffered = 0
  /** Refusals since start, by kind (metrics). */
  readonly refused = { inflight: 0, buffered: 0 }

  constructor (readonly limits: ShareLimits) {}

  /** Counts a call in; false (and nothing counted) if the caller's share is used up. */
  enter (id: string): boolean {
    const n = this.inflight.get(id) ?? 0
    if (n >= this.limits.maxInflightPerClient) { this.refused.inflight++; return false }
    this.inflight.set(id, n + 1)
    return true
  }

  leave (id: string): void {
    const n = (this.inflight.get(id) ?? 0) - 1
    if (n <= 0) this.inflight.delete(id)
    else this.inflight.set(id, n)
  }

  /**
   * Adds `bytes` (may be negative) to what the caller holds in memory.
   * Growing past the caller's share or the node's total throws
   * CLIENT_SHARE_EXHAUSTED / OVERLOADED, with nothing added.
   */
  charge (id: string, bytes: number): void {
    const n = this.buffered.get(id) ?? 0
    if (bytes > 0) {
      if (n + bytes > this.limits.maxBufferedBytesPerClient) { this.refused.buffered++; throw ShardsyncError.clientShareExhausted('buffered upload bytes (--max-buffered-bytes-per-client)') }
      if (this.totalBuffered + bytes > this.limits.maxBufferedBytes) { this.refused.buffered++; throw ShardsyncError.overloaded('buffered upload bytes (--max-buffered-bytes)') }
    }
    const next = n + bytes
    this.totalBuffered += bytes
    if (next <= 0) this.buffered.delete(id)
    else this.buffered.set(id, next)
  }

  get bufferedBytes (): number { return this.totalBuffered }
  get inflightClients (): number { return this.inflight.size }
}
