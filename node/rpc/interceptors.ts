/**
 * Server interceptors: what every call passes before any handler runs,
 * reflection included. Health is exempt, so probes work without secrets and
 * under overload.
 *
 * - authInterceptor: with a token configured, a call must carry
 *   "authorization: Bearer <token>"; compared in constant time; otherwise
 *   UNAUTHENTICATED (code UNAUTHENTICATED). The token is never logged.
 * - loadShedInterceptor: at most maxInflight calls at once; beyond that a
 *   call is refused at once with RESOURCE_EXHAUSTED (code OVERLOADED), so a
 *   storm is shed instead of queued into memory; and at most a share of
 *   them per caller (CLIENT_SHARE_EXHAUSTED).
 */
import crypto from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import { callerIdentity, type ClientShares } from './client-shares'
import { CODE_METADATA_KEY } from './status-map'

const HEALTH_PREFIX = '/grpc.health.v1.Health/'

function refuse (call: grpc.ServerInterceptingCallInterface, code: grpc.status, shardsyncCode: string, details: string): void {
  const metadata = new grpc.Metadata()
  metadata.set(CODE_METADATA_KEY, shardsyncCode)
  call.sendStatus({ code, details, metadata })
}

export function tokenDigest (token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest()
}

export function authInterceptor (token: string): grpc.ServerInterceptor {
  const expected = tokenDigest(`Bearer ${token}`)
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: (next) => {
      next({
        onReceiveMetadata: (metadata, mdNext) => {
          if (method.path.startsWith(HEALTH_PREFIX)) { mdNext(metadata); return }
          const given = metadata.get('authorization')[0]
          const ok = typeof given === 'string' && crypto.timingSafeEqual(tokenDigest(given), expected)
          if (ok) mdNext(metadata)
          else refuse(call, grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED', 'missing or wrong credentials')
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
