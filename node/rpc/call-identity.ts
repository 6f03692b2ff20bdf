/**
 * The identity of a call, as the auth interceptor (interceptors.ts)
 * established it, for handlers and other interceptors (per-identity limits).
 * Kept in a WeakMap keyed by the call's request Metadata object, which
 * grpc-js hands from the interceptors to the handler unchanged, so a client
 * cannot forge it with a header.
 *
 * - authenticated: identity (site id of a peer, user name of a client or an
 *   admin), role, and how it was proven (bearer token or TLS certificate).
 * - open: no credentials are configured on this node (loopback default);
 *   every call is allowed and there is no identity.
 * - shared: the deprecated single shared token; every role, no identity.
 */
import type * as grpc from '@grpc/grpc-js'
import type { Role } from './method-roles'

export type CallIdentity =
  | { kind: 'authenticated', identity: string, role: Role, via: 'token' | 'certificate' }
  | { kind: 'open' }
  | { kind: 'shared' }

/** Metadata key in which a peer's calls name the calling site. */
export const SITE_METADATA_KEY = 'shardsync-site'

const identities = new WeakMap<grpc.Metadata, CallIdentity>()

export function setCallIdentity (metadata: grpc.Metadata, id: CallIdentity): void {
  identities.set(metadata, id)
}

/** The identity of a call; 'open' when no auth interceptor ran. */
export function callIdentity (call: { metadata: grpc.Metadata }): CallIdentity {
  return identities.get(call.metadata) ?? { kind: 'open' }
}

/** The site an authenticated peer proved it is, or undefined. */
export function authenticatedSite (call: { metadata: grpc.Metadata }): string | undefined {
  const id = callIdentity(call)
  return id.kind === 'authenticated' && id.role === 'peer' ? id.identity : undefined
}

/** A stable label for logs and per-identity accounting ("peer:B", "client:alice", "open"). */
export function identityLabel (id: CallIdentity): string {
  return id.kind === 'authenticated' ? `${id.role}:${id.identity}` : id.kind
}
