/**
 * Checks a request's raw bytes before protobufjs decodes them: every string
 * field (at any depth) must be valid UTF-8, and a few repeated fields have a
 * most-items bound. Called by server.ts, from each method's request
 * deserializer; owns nothing but the per-type plans it builds once.
 *
 * Why on the raw bytes: protobufjs (like TextDecoder without `fatal`)
 * replaces each invalid sequence by U+FFFD, so after decoding `bin\xff` and
 * `bin\xfe` are the same string and a real U+FFFD (EF BF BD) cannot be told
 * from a replaced byte. Here each string field's bytes are checked with
 * buffer.isUtf8 (native, no allocation) before anything is decoded.
 *
 * Why the item bounds are here too: a message of up to --max-message-bytes
 * can hold about 10^6 cursors; protobufjs would build an object for each
 * before the handler could refuse. The walk counts them and stops at the
 * bound, so a huge list costs a few microseconds per item up to the bound
 * and nothing after it.
 *
 * The walk handles every wire type (unknown fields are skipped, as
 * protobufjs does). Bytes that are not a message give MALFORMED; protobufjs
 * would have refused them too.
 */
import { isUtf8 } from 'node:buffer'
import * as protobuf from 'protobufjs'
import { ShardsyncError } from '../../storage/errors'
import { MAX_CURSORS } from '../source-api'
import { PROTO_FILES, PROTO_ROOT } from './proto'
import { DELIMITED, END_GROUP, FIXED32, FIXED64, START_GROUP, VARINT } from './wire-format'

/** Most items of repeated fields, by full message name and field name (as in the .proto). */
export type ItemLimits = Readonly<Record<string, Readonly<Record<string, number>>>>

/**
 * The bounds a node applies: a PullChanges names each shard at most once,
 * so it has at most the node's --max-shards cursors (the handler then holds
 * it to the bucket's own shard count). FetchObjects keys are not bounded
 * here: the handler's MAX_FETCH_KEYS refusal (INVALID_ARGUMENT) is older
 * than this file and its code stays; a message holds few enough keys.
 */
export function itemLimits (maxShards = MAX_CURSORS): ItemLimits {
  return {
    'shardsync.v1.PullChangesRequest': { cursors: Math.min(maxShards, MAX_CURSORS) },
    'shardsync.v1.ReportPositionsRequest': { positions: Math.min(maxShards, MAX_CURSORS), heads: Math.min(maxShards, MAX_CURSORS) }
  }
}

interface Plan {
  /** Message type name, for refusals. */
  name: string
  /** Field number -> field name, for string fields. */
  strings: Map<number, string>
  /** Field number -> plan of a message field that (transitively) holds strings. */
  messages: Map<number, Plan>
  /** Field number -> [field name, most items]. */
  limits: Map<number, [string, number]>
}

/** Result of a check: undefined when fine, else the error to answer with. */
export type CheckResult = ShardsyncError | 'MALFORMED' | undefined

export type RequestChecker = (bytes: Buffer) => CheckResult

let root: protobuf.Root | undefined

function loadRoot (): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root()
    r.resolvePath = (_origin, target) => target.startsWith('/') ? target : `${PROTO_ROOT}/${target}`
    r.loadSync([...PROTO_FILES], { keepCase: true })
    r.resolveAll()
    root = r
  }
  return root
}

/** The plan of a type, or null if nothing in it needs checking. */
function planOf (type: protobuf.Type, maxItems: ItemLimits, plans: Map<string, Plan | null>, building = new Set<string>()): Plan | null {
  const name = type.fullName.replace(/^\./, '')
  if (plans.has(name)) return plans.get(name) as Plan | null
  if (building.has(name)) return null // recursive types: none in shardsync's protos
  building.add(name)
  const plan: Plan = { name, strings: new Map(), messages: new Map(), limits: new Map() }
  const limits = maxItems[name] ?? {}
  for (const field of type.fieldsArray) {
    if (field.map) continue // no map fields in shardsync's request types
    if (field.type === 'string') plan.strings.set(field.id, field.name)
    else if (field.resolvedType instanceof protobuf.Type) {
      const inner = planOf(field.resolvedType, maxItems, plans, building)
      if (inner !== null) plan.messages.set(field.id, inner)
    }
    if (limits[field.name] !== undefined) plan.limits.set(field.id, [field.name, limits[field.name]])
  }
  building.delete(name)
  const useful = plan.strings.size > 0 || plan.messages.size > 0 || plan.limits.size > 0
  plans.set(name, useful ? plan : null)
  return useful ? plan : null
}

/** Checkers of methods' requests, by path (/package.Service/Method), under one set of item limits. */
export function requestCheckers (maxItems: ItemLimits = itemLimits()): (methodPath: string) => RequestChecker {
  const plans = new Map<string, Plan | null>()
  return (methodPath) => requestChecker(methodPath, maxItems, plans)
}

function requestChecker (methodPath: string, maxItems: ItemLimits, plans: Map<string, Plan | null>): RequestChecker {
  const [, serviceName, methodName] = methodPath.split('/')
  const method = loadRoot().lookupService(serviceName).methods[methodName]
  if (method === undefined) throw new Error(`no method ${methodPath} in the proto files`)
  method.resolve()
  const type = method.resolvedRequestType
  if (type === null) throw new Error(`no request type for ${methodPath}`)
  const plan = planOf(type, maxItems, plans)
  if (plan === null) return () => undefined
  return (bytes) => {
    try {
      return walk(bytes, 0, bytes.length, plan)
    } catch {
      return 'MALFORMED'
    }
  }
}

function walk (buf: Buffer, start: number, end: number, plan: Plan): ShardsyncError | undefined {
  const r = new Cursor(buf, start, end)
  let counts: Map<number, number> | undefined
  while (r.pos < end) {
    const tag = r.varint()
    const field = Math.floor(tag / 8)
    const wireType = tag & 7
    if (field === 0) throw new RangeError('field 0')
    const limit = plan.limits.get(field)
    if (limit !== undefined) {
      counts ??= new Map()
      const n = (counts.get(field) ?? 0) + 1
      if (n > limit[1]) return ShardsyncError.tooManyItems(`${plan.name}.${limit[0]}`, limit[1])
      counts.set(field, n)
    }
    if (wireType !== DELIMITED) { r.skip(wireType); continue }
    const len = r.varint()
    if (len > end - r.pos) throw new RangeError('truncated')
    const from = r.pos
    r.pos += len
    const stringName = plan.strings.get(field)
    if (stringName !== undefined) {
      if (!isUtf8(buf.subarray(from, r.pos))) return ShardsyncError.invalidEncoding(`${plan.name}.${stringName}`)
      continue
    }
    const inner = plan.messages.get(field)
    if (inner !== undefined) {
      const err = walk(buf, from, r.pos, inner)
      if (err !== undefined) return err
    }
  }
  if (r.pos !== end) throw new RangeError('truncated')
  return undefined
}

class Cursor {
  constructor (private readonly buf: Buffer, public pos: number, private readonly end: number) {}

  /** An unsigned varint of up to 10 bytes (exact up to 2^53; enough for tags and lengths). */
  varint (): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint')
      const b = this.buf[this.pos++]
      value += (b & 0x7f) * scale
      if (b < 0x80) return value
      scale *= 128
    }
    throw new RangeError('varint longer than 10 bytes')
  }

  skip (wireType: number): void {
    switch (wireType) {
      case VARINT: this.varint(); return
      case FIXED64: this.advance(8); return
      case FIXED32: this.advance(4); return
      case START_GROUP:
        for (;;) {
          const tag = this.varint()
          if ((tag & 7) === END_GROUP) return
          if ((tag & 7) === DELIMITED) this.advance(this.varint())
          else this.skip(tag & 7)
        }
      default: throw new RangeError(`wire type ${wireType}`)
    }
  }

  private advance (n: number): void {
    if (n > this.end - this.pos) throw new RangeError('truncated')
    this.pos += n
  }
}
