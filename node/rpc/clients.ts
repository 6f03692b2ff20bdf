/**
 * gRPC clients of the three services for one address, with promise helpers
 * that turn failures into ShardsyncErrors. Used by the CLI, the gRPC source
 * client and tests.
 */
import * as grpc from '@grpc/grpc-js'
import type { AdminServiceClient } from './generated/shardsync/v1/AdminService'
import type { ObjectServiceClient } from './generated/shardsync/v1/ObjectService'
import type { SyncServiceClient } from './generated/shardsync/v1/SyncService'
import { decodeFetchObjectsResponse, decodeListIndexResponse, decodeStreamShardResponse } from './decoded-message'
import { loadShardsyncProto } from './proto'
import { MAX_MESSAGE_BYTES } from './server'
import { fromServiceError } from './status-map'

export interface Clients {
  object: ObjectServiceClient
  sync: SyncServiceClient
  admin: AdminServiceClient
  close: () => void
}

export interface ClientOptions {
  credentials?: grpc.ChannelCredentials
  /** Metadata sent with every call (site id, later auth). */
  metadata?: Record<string, string>
  /** Metadata for one call, from its request message (a unary or server-streaming call's). */
  perCall?: (request: unknown) => Record<string, string> | undefined
}

/** Receive window of client connections (see createClients). */
export const FLOW_CONTROL_WINDOW_BYTES = 8 * 1024 * 1024

export function createClients (address: string, opts: ClientOptions = {}): Clients {
  const v1 = loadShardsyncProto().grpcObject.shardsync.v1
  const creds = opts.credentials ?? grpc.credentials.createInsecure()
  const options: grpc.ClientOptions = {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    // HTTP/2 receive window (per stream and per connection). The default of
    // 64 KiB lets a peer send only that much before the reader's next
    // WINDOW_UPDATE, so any pause of the reader's event loop stalls object
    // transfers; data flows at window / round trip.
    'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW_BYTES
  }
  const extra = opts.metadata
  const perCall = opts.perCall
  if ((extra !== undefined && Object.keys(extra).length > 0) || perCall !== undefined) {
    options.callInvocationTransformer = (props) => {
      for (const [k, v] of Object.entries(extra ?? {})) props.metadata.set(k, v)
      for (const [k, v] of Object.entries(perCall?.(props.argument) ?? {})) props.metadata.set(k, v)
      return props
    }
  }
  const object = new v1.ObjectService(address, creds, options)
  const sync = new (syncServiceClient())(address, creds, options)
  const admin = new v1.AdminService(address, creds, options)
  return {
    object,
    sync,
    admin,
    close: () => { object.close(); sync.close(); admin.close() }
  }
}

type SyncServiceConstructor = new (address: string, creds: grpc.ChannelCredentials, options: grpc.ClientOptions) => SyncServiceClient
let syncServiceConstructor: SyncServiceConstructor | undefined

/**
 * The SyncService client class, with the responses a target receives by
 * the thousand (ListIndex pages, FetchObjects and StreamShard messages) decoded by
 * decoded-message.ts instead of protobufjs. Built once per process.
 */
function syncServiceClient (): SyncServiceConstructor {
  if (syncServiceConstructor === undefined) {
    const def = loadShardsyncProto().definition['shardsync.v1.SyncService'] as unknown as grpc.ServiceDefinition
    const methods: grpc.ServiceDefinition = {
      ...def,
      ListIndex: { ...def.ListIndex, responseDeserialize: decodeListIndexResponse },
      FetchObjects: { ...def.FetchObjects, responseDeserialize: decodeFetchObjectsResponse },
      StreamShard: { ...def.StreamShard, responseDeserialize: decodeStreamShardResponse }
    }
    syncServiceConstructor = grpc.makeClientConstructor(methods, 'shardsync.v1.SyncService') as unknown as SyncServiceConstructor
  }
  return syncServiceConstructor
}

type UnaryFn<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown

/** Calls a unary method with a deadline; failures become ShardsyncErrors. */
export async function callUnary<Req, Res> (client: grpc.Client, method: string, req: Req, deadlineMs = 30_000): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryFn<Req, Res>>)[method].bind(client)
  return await new Promise<Res>((resolve, reject) => {
    fn(req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err !== null) reject(fromServiceError(err, method))
      else resolve(res as Res)
    })
  })
}
