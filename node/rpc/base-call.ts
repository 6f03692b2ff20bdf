/**
 * The first server interceptor, the one grpc-js hands its own call object
 * (installed first by server.ts). Two jobs that need that object:
 *
 * 1. resetCall(): ends a call at once with an HTTP/2 RST_STREAM (CANCEL).
 *    A server stream whose client stopped reading cannot end otherwise:
 *    its status waits behind the unread messages, which HTTP/2 flow control
 *    holds (and so do those messages, in memory). The stream watch
 *    (stream-watch.ts) uses it after it has queued its status, and every
 *    call is reset that way when its status, once sent, is still not
 *    delivered statusGraceMs later (--stream-idle-ms). It reaches grpc-js's http2 stream, a private field; if a
 *    grpc-js version lacks it, resetCall() returns false and the call ends
 *    when the client reads or goes.
 *
 * 2. Gives a stable "shardsync-code" to the statuses grpc-js sends by
 *    itself, past every interceptor: a message over --max-message-bytes, in
 *    or out, ends the call with RESOURCE_EXHAUSTED and no metadata. The
 *    call's sendStatus is wrapped so that any RESOURCE_EXHAUSTED status
 *    without a code gets MESSAGE_TOO_LARGE (grpc-js sends that status for
 *    message sizes only; shardsync's own ones always carry a code) and any
 *    codeless INTERNAL or UNKNOWN gets INTERNAL.
 *
 * 3. Bounds every status's details to MAX_STATUS_DETAILS characters. They
 *    travel percent-encoded in the grpc-message trailer, and a trailer
 *    block over the client's HTTP/2 header-list limit (64 KiB in Node)
 *    stalls that client's whole connection: every call on it waits for its
 *    deadline, new ones are refused (UNAVAILABLE "Stream refused by
 *    server"). Messages quote client input (storage/errors.ts excerpt());
 *    this is the one place that holds for every status, whatever its source.
 *
 * 4. Frames EncodedMessages in place. grpc-js's serializeMessage copies
 *    every response into a new buffer behind its 5-byte prefix; for a large
 *    object that is a copy of every byte sent, and the allocation and GC
 *    that go with it (0.75 of the 1.2 CPU seconds a bare grpc-js server
 *    spent streaming 1,600 MiB in 1 MiB messages, docs/performance.md). The
 *    encoders leave room for the prefix in front of the message
 *    (encoded-message.ts), and the call's serializeMessage, a method of
 *    grpc-js's own call object, is wrapped to write it there. A message
 *    without room, or any other value, takes grpc-js's own path; so does
 *    every call if a grpc-js version has no such method.
 */
import http2 from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import { excerpt, type ErrorCode } from '../../storage/errors'
import { EncodedMessage } from './encoded-message'
import { CODE_METADATA_KEY } from './status-map'

/** Most characters of a status's details; percent-encoded, at most 9 bytes each (under 5 KiB). */
export const MAX_STATUS_DETAILS = 512

const resetters = new WeakMap<grpc.Metadata, () => boolean>()

/** Resets the call whose request metadata this is; false if it cannot. */
export function resetCall (metadata: grpc.Metadata): boolean {
  return resetters.get(metadata)?.() ?? false
}

interface Http2StreamLike { close?: (code: number) => void, destroyed?: boolean, closed?: boolean, once?: (ev: 'close', fn: () => void) => unknown }

export interface BaseCallOptions {
  /**
   * A call whose status is sent but not delivered this long after (its
   * client does not read what is queued before it) is reset. Undefined: never.
   */
  statusGraceMs?: number
  /** Called with the method path of each call reset so. */
  onReset?: (path: string) => void
}

export function baseCallInterceptor (opts: BaseCallOptions = {}): grpc.ServerInterceptor {
  return (method, call) => {
    const streamOf = (): Http2StreamLike | undefined => (call as unknown as { stream?: Http2StreamLike }).stream
    const reset = (): boolean => {
      const stream = streamOf()
      if (typeof stream?.close !== 'function') return false
      if (stream.destroyed !== true && stream.closed !== true) stream.close(http2.constants.NGHTTP2_CANCEL)
      return true
    }
    frameInPlace(call)
    const send0 = call.sendStatus.bind(call)
    const send = (status: Parameters<typeof send0>[0]): void => {
      send0(status)
      const grace = opts.statusGraceMs
      const stream = streamOf()
      if (grace === undefined || stream === undefined || stream.closed === true || stream.destroyed === true) return
      const timer = setTimeout(() => {
        if (stream.closed === true || stream.destroyed === true) return
        if (reset()) opts.onReset?.(method.path)
      }, grace)
      timer.unref()
      stream.once?.('close', () => clearTimeout(timer))
    }
    call.sendStatus = (full: Parameters<typeof send0>[0]) => {
      const status = typeof full.details === 'string' && full.details.length > MAX_STATUS_DETAILS ? { ...full, details: excerpt(full.details, MAX_STATUS_DETAILS) } : full
      const code = codeFor(status.code)
      if (code !== undefined && (status.metadata == null || status.metadata.get(CODE_METADATA_KEY).length === 0)) {
        const metadata = status.metadata?.clone() ?? new grpc.Metadata()
        metadata.set(CODE_METADATA_KEY, code)
        send({ ...status, metadata })
        return
      }
      send(status)
    }
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, mdNext) => { resetters.set(metadata, reset); mdNext(metadata) }
        })
      }
    })
  }
}

interface SerializingCall { serializeMessage?: (value: unknown) => Buffer }

/**
 * Wraps the call's serializeMessage (job 4 above): an EncodedMessage with
 * room in front is framed there, the rest as grpc-js does. False if the call
 * has no such method (nothing changed).
 */
export function frameInPlace (call: object): boolean {
  const c = call as SerializingCall
  const serialize0 = c.serializeMessage
  if (typeof serialize0 !== 'function') return false
  c.serializeMessage = (value: unknown): Buffer => (value instanceof EncodedMessage ? value.framed() : undefined) ?? serialize0.call(call, value)
  return true
}

/** The code of a codeless status; undefined: leave it (OK, and what grpc-js's peer computes itself: cancel, deadline). */
function codeFor (status: grpc.status): ErrorCode | undefined {
  switch (status) {
    case grpc.status.RESOURCE_EXHAUSTED: return 'MESSAGE_TOO_LARGE'
    case grpc.status.INTERNAL:
    case grpc.status.UNKNOWN: return 'INTERNAL'
    default: return undefined
  }
}
