/**
 * Builds and runs the gRPC server of a node: the three shardsync.v1
 * services, health and reflection, on one port. Called by the CLI and by
 * tests. Owns the grpc.Server; the node it serves is the caller's.
 */
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { ShardsyncNode } from '../shardsync-node'
import { adminServiceHandlers } from './admin-service'
import { MALFORMED_REQUEST, type RpcContext } from './handler-kit'
import { EncodedMessage } from './encoded-message'
import type { Authenticator } from './credentials'
import { createHealth, type Health } from './health'
import { authInterceptor, loadShedInterceptor, type InflightGauge } from './interceptors'
import { objectServiceHandlers } from './object-service'
import { loadShardsyncProto } from './proto'
import { addReflectionService } from './reflection'
import { syncServiceHandlers } from './sync-service'

export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024

export interface RunningServer {
  server: grpc.Server
  health: Health
  /** Calls in flight now, and calls shed since start. */
  inflight: InflightGauge
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
}

export async function startServer (node: ShardsyncNode, opts: ServerOptions): Promise<RunningServer> {
  const { grpcObject } = loadShardsyncProto()
  const v1 = grpcObject.shardsync.v1
  const inflight: InflightGauge = { current: 0, shed: 0 }
  const interceptors: grpc.ServerInterceptor[] = [loadShedInterceptor(opts.maxInflight ?? 512, inflight)]
  if (opts.auth !== undefined && opts.auth.mode !== 'open') interceptors.unshift(authInterceptor(opts.auth))
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    'grpc.max_concurrent_streams': opts.maxConcurrentStreams ?? 128,
    interceptors
  })
  const ctx: RpcContext = { log: opts.log.child({ component: 'rpc' }), observe: opts.observe }
  server.addService(tolerant(v1.ObjectService.service), objectServiceHandlers(node, ctx))
  server.addService(tolerant(v1.SyncService.service), syncServiceHandlers(node, ctx))
  server.addService(tolerant(v1.AdminService.service), adminServiceHandlers(node, ctx))
  const health = createHealth()
  health.addToServer(server)
  addReflectionService(server)

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.listen, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) => err !== null ? reject(err) : resolve(p))
  })
  health.setServing()
  const host = opts.listen.slice(0, opts.listen.lastIndexOf(':'))
  return {
    server,
    health,
    inflight,
    address: `${host}:${port}`,
    port,
    shutdown: async (graceMs) => {
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
 * MALFORMED_REQUEST) and whose response encoding passes an EncodedMessage
 * (bytes already encoded by the handler) through as is.
 */
function tolerant (service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {}
  for (const [name, method] of Object.entries(service)) {
    out[name] = {
      ...method,
      responseSerialize: (value: unknown) => value instanceof EncodedMessage ? value.bytes : method.responseSerialize(value),
      requestDeserialize: (bytes: Buffer) => {
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
