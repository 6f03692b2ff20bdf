/**
 * Loads the shardsync.v1 proto files once, with the one set of loader options
 * that the generated types (node/rpc/generated, made by `npm run gen-types`)
 * were generated for. Every server and client in this repo goes through here.
 */
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { ProtoGrpcType as ObjectProto } from './generated/object'
import type { ProtoGrpcType as SyncProto } from './generated/sync'
import type { ProtoGrpcType as AdminProto } from './generated/admin'

/** Must match the flags of the gen-types script in package.json. */
export const PROTO_LOADER_OPTS: protoLoader.Options = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [path.join(__dirname, '..', '..', '..', 'proto')]
}) as protoLoader.Options

export const PROTO_ROOT = path.join(__dirname, '..', '..', '..', 'proto')

export const PROTO_FILES = [
  'shardsync/v1/common.proto',
  'shardsync/v1/object.proto',
  'shardsync/v1/sync.proto',
  'shardsync/v1/admin.proto'
] as const

let cached: { definition: protoLoader.PackageDefinition, grpcObject: ObjectProto & SyncProto & AdminProto } | undefined

/** The package definition and the grpc object, loaded once per process. */
export function loadShardsyncProto (): { definition: protoLoader.PackageDefinition, grpcObject: ObjectProto & SyncProto & AdminProto } {
  if (cached === undefined) {
    const definition = protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTS)
    const grpcObject = grpc.loadPackageDefinition(definition) as unknown as ObjectProto & SyncProto & AdminProto
    cached = { definition, grpcObject }
  }
  return cached
}
