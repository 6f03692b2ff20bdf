/**
 * Builds and runs the gRPC server of a node: the three shardsync.v1
 * services, health and reflection, on one port. Called by the CLI and by
 * tests. Owns the grpc.Server; the node it serves is the caller's.
 */
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { ShardsyncNode } from '../shardsync-node'
import { adminServiceHandlers } from './admin-service'
import { MALFORMED_REQUEST, RefusedRequest, type RpcContext } from './handler-kit'
import { EncodedMessage } from './encoded-message'
import type { Authenticator } from './credentials'
import { createHealth, type Health } from './health'
import { baseCallInterceptor } from './base-call'
import { ClientShares, type ShareLimits } from './client-shares'
import type { StreamLimits } from './stream-watch'
import { authInterceptor, loadShedInterceptor, type InflightGauge } from './interceptors'
import { objectServiceHandlers } from './object-service'
import { loadShardsyncProto } from './proto'
import { addReflectionService } from './reflection'
import { itemLimits, requestCheckers, type RequestChecker } from './request-check'
import { syncServiceHandlers } from './sync-service'

export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024

export interface RunningServer {
  server: grpc.Server
  health: Health
  /** Calls in flight now, and calls shed since start. */
  inflight: InflightGauge
  /** Per-client shares, when configured. */
  shares?: ClientShares
  /** host:port actually bound (port 0 resolved). */
  address: string
  port: number
  /** Stops taking calls, drains in-flight ones for at most graceMs, then cuts the rest. */
  shutdown: (graceMs: number) => Promise<void>
}

export interface ServerOptions {
  listen: string
  log: Logger
  credentials?: grpc.ServerCredentials
  observe?: RpcContext['observe']
  /** Who callers are; undefined or open mode: every call allowed (loopback default). */
  auth?: Authenticator
  maxMessageBytes?: number
  maxConcurrentStreams?: number
  maxInflight?: number
  /** The node's --max-shards: bounds PullChanges cursors before decoding. */
  maxShards?: number
  /** Idle deadline and minimum progress of every stream; undefined = none. */
  streams?: StreamLimits
  /** Per-client shares of calls in flight and buffered bytes; undefined = none. */
  shares?: ShareLimits
  /** A call was reset: its client did not read its last messages and status within --stream-idle-ms. */
  onStreamReset?: (path: string) => void
}

export async function startServer (node: ShardsyncNode, opts: ServerOptions): Promise<RunningServer> {
  const { grpcObject } = loadShardsyncProto()
  const v1 = grpcObject.shardsync.v1
  const inflight: InflightGauge = { current: 0, shed: 0 }
  const shares = opts.shares !== undefined ? new ClientShares(opts.shares) : undefined
  const interceptors: grpc.ServerInterceptor[] = [loadShedInterceptor(opts.maxInflight ?? 512, inflight, shares)]
  if (opts.auth !== undefined && opts.auth.mode !== 'open') interceptors.unshift(authInterceptor(opts.auth))
  // First: it is the one grpc-js hands its own call (see base-call.ts).
  interceptors.unshift(baseCallInterceptor({ statusGraceMs: opts.streams?.idleMs, onReset: opts.onStreamReset }))
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    'grpc.max_concurrent_streams': opts.maxConcurrentStreams ?? 128,
    interceptors
  })
  const ctx: RpcContext = { log: opts.log.child({ component: 'rpc' }), observe: opts.observe, streams: opts.streams, shares }
  const checkers = requestCheckers(itemLimits(opts.maxShards))
  server.addService(tolerant(v1.ObjectService.service, checkers), objectServiceHandlers(node, ctx))
  server.addService(tolerant(v1.SyncService.service, checkers), syncServiceHandlers(node, ctx))
  server.addService(tolerant(v1.AdminService.service, checkers), adminServiceHandlers(node, ctx))
  const health = createHealth()
  health.addToServer(server)
  addReflectionService(server)

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.listen, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) => err !== null ? reject(err) : resolve(p))
  })
  health.setServing()
  health.setWritable(node.space.writable)
  const onSpace = (writable: boolean): void => { health.setWritable(writable) }
  node.space.on('change', onSpace)
  const host = opts.listen.slice(0, opts.listen.lastIndexOf(':'))
  return {
    server,
    health,
    inflight,
    shares,
    address: `${host}:${port}`,
    port,
    shutdown: async (graceMs) => {
      node.space.off('change', onSpace)
      health.setNotServing()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { server.forceShutdown(); resolve() }, graceMs)
        server.tryShutdown(() => { clearTimeout(timer); resolve() })
      })
    }
  }
}

/**
 * The same service whose request decoding never throws (see
 * MALFORMED_REQUEST), whose requests are checked on their raw bytes first
 * (request-check.ts: UTF-8 strings, bounded lists; a refusal becomes a
 * RefusedRequest the handler answers with), and whose response encoding
 * passes an EncodedMessage (bytes already encoded by the handler) through
 * as is.
 */
function tolerant (service: grpc.ServiceDefinition, checkers: (path: string) => RequestChecker): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {}
  for (const [name, method] of Object.entries(service)) {
    const check = checkers(method.path)
    out[name] = {
      ...method,
      responseSerialize: (value: unknown) => value instanceof EncodedMessage ? value.bytes : method.responseSerialize(value),
      requestDeserialize: (bytes: Buffer) => {
        const refused = check(bytes)
        if (refused === 'MALFORMED') return MALFORMED_REQUEST
        if (refused !== undefined) return new RefusedRequest(refused)
        try {
          return method.requestDeserialize(bytes)
        } catch {
          return MALFORMED_REQUEST
        }
      }
    }
  }
  return out as grpc.ServiceDefinition
}
