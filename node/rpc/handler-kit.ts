/**
 * Wrappers that turn plain async functions into grpc-js handlers: errors go
 * through the status map, server streams respect back-pressure, and a
 * cancelled call aborts its work. Used by every service file in node/rpc/.
 */
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { once } from 'node:events'
import { ShardsyncError } from '../../storage/errors'
import { EncodedMessage } from './encoded-message'
import { resetCall } from './base-call'
import type { ClientShares } from './client-shares'
import { toServiceError } from './status-map'
import { StreamWatch, type StreamLimits } from './stream-watch'

/** What every handler gets: the rpc logger, and an observer for metrics. */
export interface RpcContext {
  log: Logger
  observe?: (method: string, code: string, seconds: number) => void
  /** Idle deadline and minimum progress of every stream (stream-watch.ts); undefined = none. */
  streams?: StreamLimits
  /** Per-client shares of buffered upload bytes (client-shares.ts); undefined = none. */
  shares?: ClientShares
}

/**
 * A request message that failed to decode. server.ts makes every method's
 * deserializer return it instead of throwing (grpc-js would answer INTERNAL),
 * and the wrappers below answer INVALID_ARGUMENT.
 */
export const MALFORMED_REQUEST: object = Object.freeze({ malformedRequest: true })

/**
 * A request refused before decoding (request-check.ts: a string field that
 * is not UTF-8, a list over its bound); the wrappers answer with its error.
 */
export class RefusedRequest {
  constructor (readonly error: ShardsyncError) { Object.freeze(this) }
}

export function assertWellFormed (message: unknown): void {
  if (message === MALFORMED_REQUEST) throw ShardsyncError.invalidArgument('request message cannot be decoded')
  if (message instanceof RefusedRequest) throw message.error
}

function finish (ctx: RpcContext, method: string, started: bigint, err: unknown, cancelled = false): Partial<grpc.StatusObject> | undefined {
  if (cancelled) {
    ctx.observe?.(method, 'CANCELLED', Number(process.hrtime.bigint() - started) / 1e9)
    return undefined
  }
  const status = err === undefined ? undefined : toServiceError(err, ctx.log, method)
  if (ctx.observe !== undefined) {
    const code = status === undefined ? 'OK' : grpc.status[status.code ?? grpc.status.UNKNOWN]
    ctx.observe(method, code, Number(process.hrtime.bigint() - started) / 1e9)
  }
  return status
}

export function unary<Req, Res> (ctx: RpcContext, method: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint()
    Promise.resolve().then(async () => { assertWellFormed(call.request); return await fn(call.request, call) }).then(
      (res) => { finish(ctx, method, started, undefined); callback(null, res) },
      (err) => callback(finish(ctx, method, started, err ?? new Error('rejected')) as grpc.ServiceError)
    )
  }
}

export function clientStream<Req, Res> (ctx: RpcContext, method: string, fn: (call: grpc.ServerReadableStream<Req, Res>) => Promise<Res>): grpc.handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint()
    fn(call).then(
      (res) => { finish(ctx, method, started, undefined); callback(null, res) },
      (err) => callback(finish(ctx, method, started, err ?? new Error('rejected')) as grpc.ServiceError)
    )
  }
}

/** A writer that waits for 'drain' when the stream's buffer is full. */
export type StreamWriter<Res> = (msg: Res) => Promise<void>

export function serverStream<Req, Res> (ctx: RpcContext, method: string, fn: (req: Req, write: StreamWriter<Res>, signal: AbortSignal, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const started = process.hrtime.bigint()
    const abort = new AbortController()
    call.on('cancelled', () => abort.abort())
    // A client that stops reading holds the call (and what it has buffered) open: the watch ends it.
    const watch = ctx.streams !== undefined ? new StreamWatch(ctx.streams, () => abort.abort()) : undefined
    const write: StreamWriter<Res> = async (msg) => {
      if (abort.signal.aborted) throw new Error('cancelled')
      if (!call.write(msg)) {
        watch?.waiting()
        await once(call, 'drain', { signal: abort.signal })
      }
      watch?.progressed(messageBytes(msg))
    }
    Promise.resolve().then(async () => { assertWellFormed(call.request); await fn(call.request, write, abort.signal, call) }).then(
      () => {
        if (abort.signal.aborted) { watch?.close(); finish(ctx, method, started, undefined); return }
        call.end()
        // The last messages may still wait for the client to read them
        // (they fit the stream's buffer, so no write waited): watch that too.
        if (watch === undefined || call.writableFinished) { watch?.close(); finish(ctx, method, started, undefined); return }
        watch.waiting()
        const onFinish = (): void => { abort.signal.removeEventListener('abort', onAbort); watch.close(); finish(ctx, method, started, undefined) }
        const onAbort = (): void => {
          call.off('finish', onFinish)
          watch.close()
          if (watch.error === undefined) { finish(ctx, method, started, undefined, true); return }
          finish(ctx, method, started, watch.error)
          resetCall(call.metadata)
        }
        call.once('finish', onFinish)
        abort.signal.addEventListener('abort', onAbort, { once: true })
      },
      (err) => {
        watch?.close()
        const stopped = watch?.error
        if (stopped !== undefined) {
          // Its status is queued behind the messages the client does not
          // read; the reset frees the stream now (the client sees CANCELLED).
          call.emit('error', finish(ctx, method, started, stopped))
          resetCall(call.metadata)
          return
        }
        // A cancelled call is the client's choice, not an internal error.
        const status = finish(ctx, method, started, err, abort.signal.aborted)
        // emit, not destroy: a destroyed stream never sends its status.
        if (!abort.signal.aborted) call.emit('error', status)
      }
    )
  }
}

/** Bytes of a response message, for the progress rule (data and pre-encoded messages; 0 for small ones). */
function messageBytes (msg: unknown): number {
  if (msg instanceof EncodedMessage) return msg.bytes.length
  const data = (msg as { data?: unknown } | null)?.data
  return Buffer.isBuffer(data) ? data.length : 0
}

/** Aborts when the client cancels a unary call (for long-polls). */
export function cancelSignal (call: { on: (ev: 'cancelled', fn: () => void) => unknown }): AbortSignal {
  const abort = new AbortController()
  call.on('cancelled', () => abort.abort())
  return abort.signal
}
