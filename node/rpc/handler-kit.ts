/**
 * Wrappers that turn plain async functions into grpc-js handlers: errors go
 * through the status map, server streams respect back-pressure, and a
 * cancelled call aborts its work. Used by every service file in node/rpc/.
 */
import type * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { once } from 'node:events'
import { toServiceError } from './status-map'

export function unary<Req, Res> (log: Logger, method: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve().then(async () => await fn(call.request, call)).then(
      (res) => callback(null, res),
      (err) => callback(toServiceError(err, log, method) as grpc.ServiceError)
    )
  }
}

export function clientStream<Req, Res> (log: Logger, method: string, fn: (call: grpc.ServerReadableStream<Req, Res>) => Promise<Res>): grpc.handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err) => callback(toServiceError(err, log, method) as grpc.ServiceError)
    )
  }
}

/** A writer that waits for 'drain' when the stream's buffer is full. */
export type StreamWriter<Res> = (msg: Res) => Promise<void>

export function serverStream<Req, Res> (log: Logger, method: string, fn: (req: Req, write: StreamWriter<Res>, signal: AbortSignal, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const abort = new AbortController()
    call.on('cancelled', () => abort.abort())
    const write: StreamWriter<Res> = async (msg) => {
      if (abort.signal.aborted) throw new Error('cancelled')
      if (!call.write(msg)) await once(call, 'drain', { signal: abort.signal })
    }
    fn(call.request, write, abort.signal, call).then(
      () => { if (!abort.signal.aborted) call.end() },
      (err) => { if (!abort.signal.aborted) call.destroy(toServiceError(err, log, method) as unknown as Error) }
    )
  }
}

/** Aborts when the client cancels a unary call (for long-polls). */
export function cancelSignal (call: { on: (ev: 'cancelled', fn: () => void) => unknown }): AbortSignal {
  const abort = new AbortController()
  call.on('cancelled', () => abort.abort())
  return abort.signal
}
