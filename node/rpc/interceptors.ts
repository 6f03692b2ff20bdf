/**
 * Server interceptors: what every call passes before any handler runs,
 * reflection included. Health is exempt, so probes work without secrets and
 * under overload.
 *
 * - authInterceptor: who the caller is (credentials.ts: bearer token or
 *   client certificate) and whether its role may call the method
 *   (method-roles.ts). No or a wrong credential: UNAUTHENTICATED (code
 *   UNAUTHENTICATED); a "shardsync-site" header naming another site than
 *   the authenticated one: PERMISSION_DENIED (SITE_MISMATCH); a role without
 *   the method: PERMISSION_DENIED (ROLE_DENIED). The identity is then kept
 *   for the handler (call-identity.ts) and the authorization header dropped
 *   from the metadata it sees. Tokens are never logged.
 * - loadShedInterceptor: at most maxInflight calls at once; beyond that a
 *   call is refused at once with RESOURCE_EXHAUSTED (code OVERLOADED), so a
 *   storm is shed instead of queued into memory; and at most a share of
 *   them per caller (CLIENT_SHARE_EXHAUSTED).
 */
import * as grpc from '@grpc/grpc-js'
import { callerIdentity, type ClientShares } from './client-shares'
import { setCallIdentity, SITE_METADATA_KEY } from './call-identity'
import type { Authenticator } from './credentials'
import { rolesFor } from './method-roles'
import { CODE_METADATA_KEY } from './status-map'

const HEALTH_PREFIX = '/grpc.health.v1.Health/'

function refuse (call: grpc.ServerInterceptingCallInterface, code: grpc.status, shardsyncCode: string, details: string): void {
  const metadata = new grpc.Metadata()
  metadata.set(CODE_METADATA_KEY, shardsyncCode)
  call.sendStatus({ code, details, metadata })
}

export function authInterceptor (auth: Authenticator): grpc.ServerInterceptor {
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: (next) => {
      next({
        onReceiveMetadata: (metadata, mdNext) => {
          if (method.path.startsWith(HEALTH_PREFIX)) { mdNext(metadata); return }
          const id = auth.authenticate(metadata.get('authorization')[0], call.getAuthContext()?.sslPeerCertificate)
          metadata.remove('authorization')
          if (id === undefined) { refuse(call, grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED', 'missing or wrong credentials'); return }
          if (id.kind === 'authenticated') {
            const claimed = metadata.get(SITE_METADATA_KEY)
            if (claimed.length > 1 || (claimed.length === 1 && claimed[0] !== id.identity)) {
              refuse(call, grpc.status.PERMISSION_DENIED, 'SITE_MISMATCH', 'the shardsync-site header names a site other than the caller\'s authenticated identity')
              return
            }
            if (!rolesFor(method.path).includes(id.role)) {
              refuse(call, grpc.status.PERMISSION_DENIED, 'ROLE_DENIED', `this credential's role may not call ${method.path}`)
              return
            }
          }
          setCallIdentity(metadata, id)
          mdNext(metadata)
        }
      })
    }
  })
}

export interface InflightGauge { current: number, shed: number }

/**
 * With `shares`, each caller (client-shares.ts, callerIdentity) also has at
 * most its share of the calls in flight: beyond it RESOURCE_EXHAUSTED
 * (code CLIENT_SHARE_EXHAUSTED), so one client cannot take every slot.
 */
export function loadShedInterceptor (maxInflight: number, gauge: InflightGauge, shares?: ClientShares): grpc.ServerInterceptor {
  return (method, call) => {
    if (method.path.startsWith(HEALTH_PREFIX)) return new grpc.ServerInterceptingCall(call)
    let counted = false
    let who: string | undefined
    const release = (): void => {
      if (!counted) return
      counted = false
      gauge.current--
      if (who !== undefined) shares?.leave(who)
    }
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            if (gauge.current >= maxInflight) {
              gauge.shed++
              refuse(call, grpc.status.RESOURCE_EXHAUSTED, 'OVERLOADED', 'node is overloaded; retry later')
              return
            }
            if (shares !== undefined) {
              const id = callerIdentity(metadata, call.getPeer())
              if (!shares.enter(id)) {
                gauge.shed++
                refuse(call, grpc.status.RESOURCE_EXHAUSTED, 'CLIENT_SHARE_EXHAUSTED', 'this client\'s share of the calls in flight is used up; retry later')
                return
              }
              who = id
            }
            gauge.current++
            counted = true
            mdNext(metadata)
          },
          onCancel: release
        })
      },
      sendStatus: (status, next) => {
        release()
        next(status)
      }
    })
  }
}
