/**
 * Gives a stable "shardsync-code" to the statuses grpc-js sends by itself,
 * without any handler or interceptor seeing them: a message over
 * --max-message-bytes, in (while receiving) or out, ends the call with
 * RESOURCE_EXHAUSTED and no metadata. Installed by server.ts as the first
 * server interceptor, the one grpc-js hands its own call object: the
 * call's sendStatus is wrapped so that any RESOURCE_EXHAUSTED status
 * without a code gets MESSAGE_TOO_LARGE (grpc-js sends that status for
 * message sizes only; shardsync's own ones always carry a code) and any
 * codeless INTERNAL or UNKNOWN gets INTERNAL.
 */
import * as grpc from '@grpc/grpc-js'
import type { ErrorCode } from '../../storage/errors'
import { CODE_METADATA_KEY } from './status-map'

export function statusCodeInterceptor (): grpc.ServerInterceptor {
  return (_method, call) => {
    const send = call.sendStatus.bind(call)
    call.sendStatus = (status: Parameters<typeof send>[0]) => {
      const code = codeFor(status.code)
      if (code !== undefined && (status.metadata == null || status.metadata.get(CODE_METADATA_KEY).length === 0)) {
        const metadata = status.metadata?.clone() ?? new grpc.Metadata()
        metadata.set(CODE_METADATA_KEY, code)
        send({ ...status, metadata })
        return
      }
      send(status)
    }
    return new grpc.ServerInterceptingCall(call)
  }
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
