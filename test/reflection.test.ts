/**
 * Server reflection and health of a shardsync gRPC server, as grpcurl-like
 * clients see them. Run by tap (compiled to dist/test/reflection.test.js).
 * Owns nothing but its own in-process server: the shardsync services are
 * registered with UNIMPLEMENTED handlers, so this does not depend on the node
 * core. Covers node/rpc/reflection.ts and node/rpc/health.ts.
 */
import path from 'node:path'
import t from 'tap'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { GrpcReflection } from 'grpc-js-reflection-client'
import { service as healthServiceDefinition } from 'grpc-health-check'
import * as descriptor from 'protobufjs/ext/descriptor'
import type { ServerReflectionRequest } from '@grpc/reflection/build/src/generated/grpc/reflection/v1/ServerReflectionRequest'
import type { ServerReflectionResponse__Output } from '@grpc/reflection/build/src/generated/grpc/reflection/v1/ServerReflectionResponse'
import type { HealthCheckRequest } from 'grpc-health-check/build/src/generated/grpc/health/v1/HealthCheckRequest'
import type { HealthCheckResponse__Output } from 'grpc-health-check/build/src/generated/grpc/health/v1/HealthCheckResponse'
import { loadShardsyncProto } from '../node/rpc/proto'
import { addReflectionService } from '../node/rpc/reflection'
import { createHealth, SHARDSYNC_SERVICE_NAMES } from '../node/rpc/health'

const REFLECTION_VERSIONS = ['v1', 'v1alpha'] as const
type ReflectionVersion = typeof REFLECTION_VERSIONS[number]

/** The file each service must be served in: its real import path. */
const SERVICE_FILES: Record<string, string> = {
  'shardsync.v1.ObjectService': 'shardsync/v1/object.proto',
  'shardsync.v1.SyncService': 'shardsync/v1/sync.proto',
  'shardsync.v1.AdminService': 'shardsync/v1/admin.proto'
}

type ReflectionCall = grpc.ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse__Output>
type ReflectionClient = grpc.Client & { ServerReflectionInfo: () => ReflectionCall }
type HealthClient = grpc.Client & {
  Check: (req: HealthCheckRequest, cb: (err: grpc.ServiceError | null, res?: HealthCheckResponse__Output) => void) => void
}

/** Raw reflection client for one version, from the reflection.proto @grpc/reflection ships. */
function rawReflectionClient (version: ReflectionVersion, address: string): ReflectionClient {
  const protoDir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto')
  const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
    includeDirs: [protoDir], longs: String, enums: String, defaults: true, oneofs: true
  })
  const Ctor = definition[`grpc.reflection.${version}.ServerReflection`] as unknown as grpc.ServiceDefinition
  const Client = grpc.makeClientConstructor(Ctor, `grpc.reflection.${version}.ServerReflection`)
  return new Client(address, grpc.credentials.createInsecure()) as unknown as ReflectionClient
}

/** One request on its own ServerReflectionInfo stream; rejects on an error response. */
async function reflect (client: ReflectionClient, request: ServerReflectionRequest): Promise<ServerReflectionResponse__Output> {
  return await new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo()
    let response: ServerReflectionResponse__Output | undefined
    call.on('data', (r: ServerReflectionResponse__Output) => { response = r })
    call.on('error', reject)
    call.on('end', () => {
      if (response === undefined) reject(new Error(`no reflection response to ${JSON.stringify(request)}`))
      else if (response.errorResponse != null) reject(new Error(`reflection error for ${JSON.stringify(request)}: ${response.errorResponse.errorMessage}`))
      else resolve(response)
    })
    call.write(request)
    call.end()
  })
}

function decodeFiles (response: ServerReflectionResponse__Output): descriptor.IFileDescriptorProto[] {
  return (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map((bytes) =>
    descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(bytes)) as descriptor.IFileDescriptorProto)
}

/** Fully-qualified name (".pkg.Msg") -> kind and defining file, for every message and enum in the files. */
function indexTypes (files: Iterable<descriptor.IFileDescriptorProto>): Map<string, { kind: 'message' | 'enum', file: string }> {
  const index = new Map<string, { kind: 'message' | 'enum', file: string }>()
  for (const file of files) {
    const fileName = file.name ?? ''
    const addMessages = (prefix: string, messages: descriptor.IDescriptorProto[]): void => {
      for (const m of messages) {
        const name = `${prefix}.${m.name ?? ''}`
        index.set(name, { kind: 'message', file: fileName })
        addMessages(name, m.nestedType ?? [])
        for (const e of m.enumType ?? []) index.set(`${name}.${e.name ?? ''}`, { kind: 'enum', file: fileName })
      }
    }
    const prefix = file.package !== undefined && file.package !== '' ? `.${file.package}` : ''
    addMessages(prefix, file.messageType ?? [])
    for (const e of file.enumType ?? []) index.set(`${prefix}.${e.name ?? ''}`, { kind: 'enum', file: fileName })
  }
  return index
}

/** Every type name a file refers to: field types and method input/output types. */
function referencedTypes (file: descriptor.IFileDescriptorProto): string[] {
  const refs: string[] = []
  const fromMessages = (messages: descriptor.IDescriptorProto[]): void => {
    for (const m of messages) {
      for (const f of m.field ?? []) if (f.typeName !== undefined && f.typeName !== '') refs.push(f.typeName)
      fromMessages(m.nestedType ?? [])
    }
  }
  fromMessages(file.messageType ?? [])
  for (const s of file.service ?? []) {
    for (const m of s.method ?? []) refs.push(m.inputType ?? '', m.outputType ?? '')
  }
  return refs
}

/** UNIMPLEMENTED handlers for every method of a service definition. */
function unimplemented (definition: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
  const error = { code: grpc.status.UNIMPLEMENTED, details: 'not in this test' }
  return Object.fromEntries(Object.entries(definition).map(([name, method]) => [
    name,
    method.responseStream
      ? (call: grpc.ServerWritableStream<unknown, unknown>) => { call.emit('error', error) }
      : (_call: unknown, callback: grpc.sendUnaryData<unknown>) => { callback(error) }
  ]))
}

t.test('reflection and health of a shardsync server', async (t) => {
  const { grpcObject } = loadShardsyncProto()
  const serviceDefinitions: Record<string, grpc.ServiceDefinition> = {
    'shardsync.v1.ObjectService': grpcObject.shardsync.v1.ObjectService.service,
    'shardsync.v1.SyncService': grpcObject.shardsync.v1.SyncService.service,
    'shardsync.v1.AdminService': grpcObject.shardsync.v1.AdminService.service
  }
  t.same(Object.keys(serviceDefinitions).sort(), [...SHARDSYNC_SERVICE_NAMES].sort(), 'health names every shardsync service')

  const server = new grpc.Server()
  for (const definition of Object.values(serviceDefinitions)) server.addService(definition, unimplemented(definition))
  const health = createHealth()
  health.addToServer(server)
  addReflectionService(server)
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => { err !== null ? reject(err) : resolve(p) })
  })
  const address = `127.0.0.1:${port}`
  const clients: grpc.Client[] = []
  t.teardown(() => {
    for (const c of clients) c.close()
    server.forceShutdown()
  })

  for (const version of REFLECTION_VERSIONS) {
    t.test(`${version}: listing services (grpc-js-reflection-client)`, async (t) => {
      const reflection = new GrpcReflection(address, grpc.credentials.createInsecure(), {}, version)
      // The library keeps its grpc client private and has no close(); close it here so the test exits.
      clients.push((reflection as unknown as { client: grpc.Client }).client)
      const services = await reflection.listServices()
      for (const name of [...SHARDSYNC_SERVICE_NAMES, 'grpc.health.v1.Health']) {
        t.ok(services.includes(name), `lists ${name}`)
      }
      // listMethods fetches the service's file and follows its imports by file name.
      for (const name of SHARDSYNC_SERVICE_NAMES) {
        const methods = await reflection.listMethods(name)
        t.same(methods.map((m) => m.name).sort(), Object.keys(serviceDefinitions[name] ?? {}).sort(), `${name}: methods via the library`)
      }
    })

    t.test(`${version}: every service resolves through files fetched by name`, async (t) => {
      const client = rawReflectionClient(version, address)
      clients.push(client)
      for (const serviceName of SHARDSYNC_SERVICE_NAMES) {
        // The file containing the symbol: keep that one file, drop whatever else came with it.
        const bySymbol = decodeFiles(await reflect(client, { fileContainingSymbol: serviceName }))
        const shortName = serviceName.split('.').pop()
        const rootFile = bySymbol.find((f) => (f.service ?? []).some((s) => s.name === shortName))
        if (rootFile === undefined) { t.fail(`${serviceName}: no served file declares it`); continue }
        t.equal(rootFile.name, SERVICE_FILES[serviceName], `${serviceName} is served in its real file`)
        t.equal(bySymbol[0]?.name, rootFile.name, `${serviceName}: the declaring file comes first`)

        // Its imports, and theirs, fetched by file name only.
        const fetched = new Map<string, descriptor.IFileDescriptorProto>([[rootFile.name ?? '', rootFile]])
        const queue: string[] = [...(rootFile.dependency ?? [])]
        while (queue.length > 0) {
          const name = queue.shift() as string
          if (fetched.has(name)) continue
          const byName = decodeFiles(await reflect(client, { fileByFilename: name }))
          const file = byName.find((f) => f.name === name)
          if (file === undefined) { t.fail(`${serviceName}: import ${name} is not fetchable by its name`); continue }
          fetched.set(name, file)
          queue.push(...(file.dependency ?? []))
        }
        t.ok(fetched.has('shardsync/v1/common.proto'), `${serviceName}: common.proto is reached through imports`)
        if (serviceName === 'shardsync.v1.SyncService') {
          t.same([...(rootFile.dependency ?? [])].sort(), ['shardsync/v1/common.proto', 'shardsync/v1/object.proto'], 'sync.proto lists both its imports')
        }

        // Every type a file uses is defined in the file itself or in one of the imports it lists.
        // Names must be fully qualified (".shardsync.v1.Bucket"), as protoc writes them.
        const types = indexTypes(fetched.values())
        const unlisted: string[] = []
        for (const file of fetched.values()) {
          for (const ref of referencedTypes(file)) {
            const def = types.get(ref)
            if (def === undefined) unlisted.push(`${file.name ?? ''}: ${ref} unresolvable (or not fully qualified)`)
            else if (def.file !== file.name && !(file.dependency ?? []).includes(def.file)) unlisted.push(`${file.name ?? ''}: ${ref} from unlisted import ${def.file}`)
          }
        }
        t.same(unlisted, [], `${serviceName}: every referenced type resolves through listed imports`)

        // Every method's input and output type is a message in the fetched files.
        const service = (rootFile.service ?? []).find((s) => s.name === shortName)
        const methods = service?.method ?? []
        t.same(methods.map((m) => m.name).sort(), Object.keys(serviceDefinitions[serviceName] ?? {}).sort(), `${serviceName}: all methods described`)
        const unresolved = methods.flatMap((m) => [m.inputType ?? '', m.outputType ?? ''])
          .filter((type) => types.get(type)?.kind !== 'message')
        t.same(unresolved, [], `${serviceName}: every method's input and output type is a message descriptor`)

        // Comments come along (source_code_info), e.g. the service's own.
        const serviceIndex = (rootFile.service ?? []).indexOf(service as descriptor.IServiceDescriptorProto)
        const locations: Array<{ path?: number[], leadingComments?: string }> = rootFile.sourceCodeInfo?.location ?? []
        const serviceLocation = locations.find((l) => l.path?.join('.') === `6.${serviceIndex}`)
        t.match(serviceLocation?.leadingComments, /\S/, `${serviceName}: its comment is served`)
      }

      const healthFiles = decodeFiles(await reflect(client, { fileContainingSymbol: 'grpc.health.v1.Health' }))
      t.equal(healthFiles[0]?.name, 'grpc/health/v1/health.proto', 'grpc.health.v1.Health is served in grpc/health/v1/health.proto')
      await t.rejects(reflect(client, { fileByFilename: 'shardsync_v1.proto' }), 'no merged per-package file is served')
    })
  }

  t.test('health', async (t) => {
    const Client = grpc.makeClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health')
    const client = new Client(address, grpc.credentials.createInsecure()) as unknown as HealthClient
    clients.push(client)
    const check = async (service: string): Promise<string> => await new Promise((resolve, reject) => {
      client.Check({ service }, (err, res) => { err !== null ? reject(err) : resolve(String(res?.status)) })
    })
    for (const name of ['', ...SHARDSYNC_SERVICE_NAMES]) t.equal(await check(name), 'NOT_SERVING', `"${name}" starts NOT_SERVING`)
    health.setServing()
    for (const name of ['', ...SHARDSYNC_SERVICE_NAMES]) t.equal(await check(name), 'SERVING', `"${name}" SERVING`)
    health.setNotServing()
    t.equal(await check(''), 'NOT_SERVING', 'setNotServing takes the server down')
    health.setServing()
  })
})
