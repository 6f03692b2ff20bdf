/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) for a shardsync
 * node. Called by whoever builds the node's grpc.Server (and by
 * test/reflection.test.ts). Owns the FileDescriptorProtos that reflection
 * serves: the shardsync.v1 files, grpc/health/v1/health.proto and the
 * reflection protos themselves.
 *
 * Why not just `new ReflectionService(loadShardsyncProto().definition)`:
 * @grpc/proto-loader merges every file of a package into one synthetic file
 * ("shardsync_v1.proto") with no `dependency` list and no comments, so the
 * served file names are not the real import paths and a client that follows
 * imports by name (grpcurl, see its issue #459) cannot resolve types. Here
 * the descriptors are built with protobufjs from the .proto sources, one
 * FileDescriptorProto per real file: named by its import path, with its
 * imports in `dependency`, fully-qualified type names, proto3 `optional`
 * marked as such, and the `//` comments in `source_code_info`. They are then
 * handed to @grpc/reflection, which only indexes and serves them.
 */
import fs from 'node:fs'
import path from 'node:path'
import type * as grpc from '@grpc/grpc-js'
import type { PackageDefinition } from '@grpc/proto-loader'
import { ReflectionService } from '@grpc/reflection'
import { protoPath as HEALTH_PROTO_PATH } from 'grpc-health-check'
import * as protobuf from 'protobufjs'
import * as descriptor from 'protobufjs/ext/descriptor'
import { PROTO_FILES, PROTO_ROOT } from './proto'

/** A .proto file to serve: its import path (the name reflection serves it by) and where it is on disk. */
export interface ProtoSource {
  name: string
  file: string
}

/** Descriptor shapes as protobufjs/ext/descriptor encodes them; its .d.ts leaves these fields out. */
type FieldDescriptor = descriptor.IFieldDescriptorProto & { proto3Optional?: boolean, jsonName?: string }
type MessageDescriptor = Omit<descriptor.IDescriptorProto, 'field' | 'nestedType'> & {
  field?: FieldDescriptor[]
  nestedType?: MessageDescriptor[]
}
interface SourceLocation {
  path: number[]
  span: number[]
  leadingComments?: string
  trailingComments?: string
}
type FileDescriptor = Omit<descriptor.IFileDescriptorProto, 'messageType'> & {
  name: string
  dependency: string[]
  messageType: MessageDescriptor[]
  sourceCodeInfo?: { location: SourceLocation[] }
}

/** toDescriptor() is added to the reflection classes by protobufjs/ext/descriptor but not declared. */
type Describable<T> = { toDescriptor: (syntax?: string) => T }

/** Every file reflection serves, by import path. */
export function reflectionSources (): ProtoSource[] {
  const reflectionProtoDir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto')
  return [
    ...PROTO_FILES.map((name) => ({ name, file: path.join(PROTO_ROOT, name) })),
    { name: 'grpc/health/v1/health.proto', file: HEALTH_PROTO_PATH },
    ...['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto']
      .map((name) => ({ name, file: path.join(reflectionProtoDir, name) }))
  ]
}

/**
 * One FileDescriptorProto per source, as protoc would describe it (minus
 * options protobufjs does not keep). Throws if a source imports a file that
 * is not among the sources, since reflection could not serve that import.
 */
export function buildFileDescriptors (sources: readonly ProtoSource[]): FileDescriptor[] {
  const fileByName = new Map(sources.map((s) => [s.name, path.resolve(s.file)]))
  const parsed = sources.map((source) => {
    const text = fs.readFileSync(source.file, 'utf8')
    const own = protobuf.parse(text, new protobuf.Root(), { keepCase: true })
    for (const name of [...(own.imports ?? []), ...(own.weakImports ?? [])]) {
      if (!fileByName.has(name)) throw new Error(`reflection: ${source.name} imports ${name}, which is not among the served files`)
    }
    const syntax = /^\s*syntax\s*=\s*["'](proto[23])["']/m.exec(text)?.[1] ?? 'proto2'
    if (/^\s*edition\s*=/m.test(text)) throw new Error(`reflection: ${source.name} uses editions, not supported here`)
    const pkgNs = own.package !== undefined ? own.root.lookup(own.package) : own.root
    return { source, text, pkg: own.package, imports: own.imports ?? [], weakImports: own.weakImports ?? [], syntax, fileOptions: pkgNs?.options }
  })

  // One shared root so that types resolve across files; every object
  // remembers the file it came from (.filename), which is an absolute path.
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => fileByName.get(target) ?? path.resolve(target)
  root.loadSync(sources.map((s) => path.resolve(s.file)), { keepCase: true })
  root.resolveAll()

  const topLevel = new Map<string, protobuf.ReflectionObject[]>()
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type || obj instanceof protobuf.Enum || obj instanceof protobuf.Service) {
        const list = topLevel.get(obj.filename ?? '') ?? []
        list.push(obj)
        topLevel.set(obj.filename ?? '', list)
      } else if (obj instanceof protobuf.Field) {
        throw new Error(`reflection: extension ${obj.fullName} is not supported here`)
      } else if (obj instanceof protobuf.Namespace) {
        collect(obj)
      }
    }
  }
  collect(root)

  return parsed.map(({ source, text, pkg, imports, weakImports, syntax, fileOptions }) => {
    const objects = topLevel.get(path.resolve(source.file)) ?? []
    const fd: FileDescriptor = {
      name: source.name,
      dependency: [...imports, ...weakImports],
      messageType: [],
      enumType: [],
      service: []
    }
    if (pkg !== undefined) fd.package = pkg
    if (weakImports.length > 0) fd.weakDependency = weakImports.map((_, i) => imports.length + i)
    if (syntax === 'proto3') fd.syntax = 'proto3'
    const options = fileOptionsDescriptor(fileOptions)
    if (options !== undefined) fd.options = options
    for (const obj of objects) {
      if (obj instanceof protobuf.Type) fd.messageType.push(messageDescriptor(obj, syntax))
      else if (obj instanceof protobuf.Enum) fd.enumType?.push((obj as unknown as Describable<descriptor.IEnumDescriptorProto>).toDescriptor())
      else if (obj instanceof protobuf.Service) fd.service?.push((obj as unknown as Describable<descriptor.IServiceDescriptorProto>).toDescriptor())
    }
    fd.sourceCodeInfo = { location: sourceLocations(fd, text) }
    return fd
  })
}

/** Encoded descriptors of every served file, built once per process. */
let encoded: Uint8Array[] | undefined
function encodedDescriptors (): Uint8Array[] {
  if (encoded === undefined) {
    encoded = buildFileDescriptors(reflectionSources())
      .map((fd) => descriptor.FileDescriptorProto.encode(descriptor.FileDescriptorProto.fromObject(fd)).finish())
  }
  return encoded
}

/**
 * Adds grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection
 * to the server. They list and describe the shardsync.v1 services, grpc.health.v1.Health
 * and reflection itself, whether or not the server has registered them yet.
 */
export function addReflectionService (server: grpc.Server): void {
  // @grpc/reflection reads nothing of a package definition but each entry's
  // fileDescriptorProtos (and dedupes files by name), so one entry holds them all.
  const definition = { files: { fileDescriptorProtos: encodedDescriptors().map((b) => Buffer.from(b)) } }
  new ReflectionService(definition as unknown as PackageDefinition).addToServer(server)
}

// --- messages ---------------------------------------------------------------

/** protoc's json_name: lowerCamelCase of the field name. */
function jsonName (name: string): string {
  return name.replace(/_+([a-zA-Z0-9])?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())
}

/** protoc's map entry name: field name in UpperCamelCase, plus "Entry". */
function mapEntryName (fieldName: string): string {
  const camel = jsonName(fieldName)
  return camel.charAt(0).toUpperCase() + camel.slice(1) + 'Entry'
}

/** Type#toDescriptor with what it gets wrong for reflection put right. */
function messageDescriptor (type: protobuf.Type, syntax: string): MessageDescriptor {
  const d = (type as unknown as Describable<MessageDescriptor>).toDescriptor(syntax)
  fixMessage(d, type)
  return d
}

function fixMessage (d: MessageDescriptor, type: protobuf.Type): void {
  const nested = d.nestedType ?? []
  for (const fd of d.field ?? []) {
    const field = type.fields[fd.name ?? '']
    if (field === undefined) throw new Error(`reflection: ${type.fullName} has a field ${fd.name} protobufjs does not know`)
    if (field instanceof protobuf.MapField) {
      // toDescriptor names the synthetic entry type relatively (and not as protoc does).
      const entry = nested.find((n) => n.name === fd.typeName && n.options?.mapEntry === true)
      if (entry === undefined) throw new Error(`reflection: no map entry for ${field.fullName}`)
      entry.name = mapEntryName(field.name)
      fd.typeName = `${type.fullName}.${entry.name}`
      const value = entry.field?.find((f) => f.name === 'value')
      if (value !== undefined && field.resolvedType !== null) value.typeName = field.resolvedType.fullName
      for (const f of entry.field ?? []) f.jsonName = jsonName(f.name ?? '')
    } else if (field.resolvedType !== null) {
      // toDescriptor writes names relative to the parent; protoc writes them fully qualified.
      fd.typeName = field.resolvedType.fullName
    }
    if (field.options?.proto3_optional === true) fd.proto3Optional = true
    // proto3_optional is not a FieldOption: toDescriptor leaves an empty options message behind.
    const options = fd.options ?? null // unset message fields read as null
    if (options !== null && descriptor.FieldOptions.encode(options).finish().length === 0) delete fd.options
    fd.jsonName = jsonName(fd.name ?? '')
  }
  orderSyntheticOneofsLast(d)
  for (const n of nested) {
    const child = type.nested?.[n.name ?? '']
    if (child instanceof protobuf.Type) fixMessage(n, child)
  }
}

/**
 * protoc puts the synthetic oneofs of proto3 `optional` fields after every
 * real oneof. (Descriptors here are protobufjs messages: unset fields are
 * defaults on the prototype, so only own properties count as set.)
 */
function orderSyntheticOneofsLast (d: MessageDescriptor): void {
  const oneofs = d.oneofDecl ?? []
  const fields = (d.field ?? []).filter((f) => Object.hasOwn(f, 'oneofIndex'))
  const synthetic = new Set(fields.filter((f) => f.proto3Optional === true).map((f) => f.oneofIndex))
  const order = [...oneofs.keys()].sort((a, b) => Number(synthetic.has(a)) - Number(synthetic.has(b)))
  const newIndex = new Map(order.map((old, i) => [old, i]))
  d.oneofDecl = order.map((old) => oneofs[old] as descriptor.IOneofDescriptorProto)
  for (const f of fields) f.oneofIndex = newIndex.get(f.oneofIndex ?? -1)
}

function fileOptionsDescriptor (options: Record<string, unknown> | undefined): descriptor.IFileOptions | undefined {
  if (options === undefined) return undefined
  const known = (descriptor.FileOptions as protobuf.Type).fields
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    const camel = protobuf.util.camelCase(key)
    if (Object.hasOwn(known, camel)) out[camel] = value
  }
  return Object.keys(out).length > 0 ? out as descriptor.IFileOptions : undefined
}

// --- source_code_info -------------------------------------------------------

/** One line of a .proto file: code with comments and string contents blanked, brace depth at its start. */
interface ScannedLine {
  text: string
  code: string
  depth: number
  /** Column just past the last character of code (comments excluded). */
  codeEnd: number
  /** Text after `//` on a line that also has code. */
  trailing?: string
}

function scan (text: string): ScannedLine[] {
  let depth = 0
  let inBlockComment = false
  return text.split('\n').map((raw) => {
    const line: ScannedLine = { text: raw, code: '', depth, codeEnd: 0 }
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]
      if (inBlockComment) {
        if (c === '*' && raw[i + 1] === '/') { inBlockComment = false; i++ }
        continue
      }
      if (c === '/' && raw[i + 1] === '/') {
        if (line.code.trim() !== '') line.trailing = raw.slice(i + 2) + '\n'
        break
      }
      if (c === '/' && raw[i + 1] === '*') { inBlockComment = true; i++; continue }
      if (c === '"' || c === "'") {
        let j = i + 1
        while (j < raw.length && raw[j] !== c) j += raw[j] === '\\' ? 2 : 1
        line.code += '""'
        i = j
        line.codeEnd = i + 1
        continue
      }
      if (c === '{') depth++
      else if (c === '}') depth--
      line.code += c
      if (c !== ' ' && c !== '\t' && c !== '\r') line.codeEnd = i + 1
    }
    return line
  })
}

function escapeRegExp (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Locations for every message, field, enum, enum value, service and method
 * that can be found in the source, with the `//` comments right above a
 * declaration (no blank line between) as leading and the one after it on the
 * same line as trailing, as protoc attaches them. Spans are the declaration's
 * lines; a declaration not found (e.g. a map entry type) gets no location.
 */
function sourceLocations (fd: FileDescriptor, text: string): SourceLocation[] {
  const lines = scan(text)
  const locations: SourceLocation[] = []

  const find = (re: RegExp, from: number, to: number, depths: number[]): number => {
    for (const depth of depths) {
      for (let i = from; i < to; i++) if (lines[i]?.depth === depth && re.test(lines[i]?.code ?? '')) return i
    }
    return -1
  }
  /** The line after the block that opens on line `start` ends. */
  const blockEnd = (start: number): number => {
    const depth = lines[start]?.depth ?? 0
    if (!(lines[start]?.code.includes('{') ?? false)) return start + 1
    let i = start + 1
    while (i < lines.length && (lines[i]?.depth ?? 0) > depth) i++
    return i
  }
  const add = (locPath: number[], start: number, end: number): void => {
    const first = lines[start] as ScannedLine
    const last = lines[end - 1] as ScannedLine
    const col = first.text.length - first.text.trimStart().length
    const loc: SourceLocation = {
      path: locPath,
      span: end - 1 === start ? [start, col, first.codeEnd] : [start, col, end - 1, last.codeEnd]
    }
    const leading: string[] = []
    for (let i = start - 1; i >= 0 && /^\s*\/\//.test(lines[i]?.text ?? ''); i--) {
      leading.unshift((lines[i]?.text ?? '').replace(/^\s*\/\//, '') + '\n')
    }
    if (leading.length > 0) loc.leadingComments = leading.join('')
    if (first.trailing !== undefined) loc.trailingComments = first.trailing
    locations.push(loc)
  }

  const enums = (list: descriptor.IEnumDescriptorProto[], prefix: number[], from: number, to: number, depth: number): void => {
    list.forEach((e, i) => {
      const start = find(new RegExp(`^\\s*enum\\s+${escapeRegExp(e.name ?? '')}\\b`), from, to, [depth])
      if (start < 0) return
      const end = blockEnd(start)
      add([...prefix, i], start, end)
      ;(e.value ?? []).forEach((v, k) => {
        const line = find(new RegExp(`^\\s*${escapeRegExp(v.name ?? '')}\\s*=`), start + 1, end, [depth + 1])
        if (line >= 0) add([...prefix, i, 2, k], line, line + 1)
      })
    })
  }
  const messages = (list: MessageDescriptor[], prefix: number[], from: number, to: number, depth: number): void => {
    list.forEach((m, i) => {
      const start = find(new RegExp(`^\\s*message\\s+${escapeRegExp(m.name ?? '')}\\b`), from, to, [depth])
      if (start < 0) return
      const end = blockEnd(start)
      add([...prefix, i], start, end)
      ;(m.field ?? []).forEach((f, k) => {
        // Fields sit one level in, or two inside a oneof block.
        const re = new RegExp(`(^|[\\s>])${escapeRegExp(f.name ?? '')}\\s*=\\s*${f.number ?? -1}\\b`)
        const line = find(re, start + 1, end, [depth + 1, depth + 2])
        if (line >= 0) add([...prefix, i, 2, k], line, line + 1)
      })
      messages(m.nestedType ?? [], [...prefix, i, 3], start + 1, end, depth + 1)
      enums(m.enumType ?? [], [...prefix, i, 4], start + 1, end, depth + 1)
    })
  }

  messages(fd.messageType, [4], 0, lines.length, 0)
  enums(fd.enumType ?? [], [5], 0, lines.length, 0)
  ;(fd.service ?? []).forEach((s, i) => {
    const start = find(new RegExp(`^\\s*service\\s+${escapeRegExp(s.name ?? '')}\\b`), 0, lines.length, [0])
    if (start < 0) return
    const end = blockEnd(start)
    add([6, i], start, end)
    ;(s.method ?? []).forEach((method, k) => {
      const line = find(new RegExp(`^\\s*rpc\\s+${escapeRegExp(method.name ?? '')}\\s*\\(`), start + 1, end, [1])
      if (line >= 0) add([6, i, 2, k], line, blockEnd(line))
    })
  })
  return locations.sort((a, b) => (a.span[0] ?? 0) - (b.span[0] ?? 0))
}
