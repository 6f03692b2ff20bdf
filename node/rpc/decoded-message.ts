/**
 * Response messages decoded by hand, for those a target receives by the
 * thousand in full sync: ListIndex pages, FetchObjects and StreamShard
 * messages. The
 * counterpart of encoded-message.ts on the client side.
 *
 * Used by clients.ts, which builds the SyncService client with these as the
 * methods' response deserializers. protobufjs decodes into message objects
 * and then converts them (toObject) into the plain objects the generated
 * `__Output` types describe: two objects per ObjectInfo and a pass over
 * every field. Here the plain objects are built in one pass.
 *
 * The result is what protobufjs gives with PROTO_LOADER_OPTS (camelCase
 * fields, 64-bit integers as Number, defaults filled in, an unset message
 * field null, bytes as a view into the received buffer), for any valid
 * encoding: fields in any order, repeated scalars (the last wins), unknown
 * fields skipped. Malformed bytes throw, as protobufjs does (and so do
 * string fields that are not UTF-8, which protobufjs would replace); grpc-js then
 * fails the call. test/decoded-message.test.ts checks all of this against
 * protobufjs.
 */
import { isUtf8 } from 'node:buffer'
import type { FetchedObject__Output } from './generated/shardsync/v1/FetchedObject'
import type { FetchObjectsResponse__Output } from './generated/shardsync/v1/FetchObjectsResponse'
import type { ListIndexResponse__Output } from './generated/shardsync/v1/ListIndexResponse'
import type { ObjectInfo__Output } from './generated/shardsync/v1/ObjectInfo'
import { SplitState, type SplitState__Output } from './generated/shardsync/v1/SplitState'
import type { StreamShardResponse__Output } from './generated/shardsync/v1/StreamShardResponse'
import type { StreamShardStart__Output } from './generated/shardsync/v1/StreamShardStart'
import { DELIMITED, END_GROUP, FETCHED_OBJECT, FETCH_OBJECTS_RESPONSE, FIXED32, FIXED64, fieldTag, LIST_INDEX_RESPONSE, OBJECT_INFO, START_GROUP, STREAM_SHARD_RESPONSE, STREAM_SHARD_START, VARINT } from './wire-format'

const EMPTY = Buffer.alloc(0)

const TAG_ENTRY = fieldTag(LIST_INDEX_RESPONSE.entries, DELIMITED)
const TAG_NEXT_MARKER = fieldTag(LIST_INDEX_RESPONSE.nextMarker, DELIMITED)
const TAG_TOMBSTONE = fieldTag(LIST_INDEX_RESPONSE.tombstones, DELIMITED)
const TAG_OBJECTS = fieldTag(FETCH_OBJECTS_RESPONSE.objects, DELIMITED)
// FetchObjectsResponse shares fields 1-3 with FetchedObject (fetchedField).
const TAG_INFO = fieldTag(FETCHED_OBJECT.info, DELIMITED)
const TAG_MISSING = fieldTag(FETCHED_OBJECT.missing, VARINT)
const TAG_DATA = fieldTag(FETCHED_OBJECT.data, DELIMITED)
const TAG_REFERENCE = fieldTag(STREAM_SHARD_RESPONSE.references, DELIMITED)
const TAG_RESUME_MARKER = fieldTag(STREAM_SHARD_RESPONSE.resumeMarker, DELIMITED)
const TAG_STREAM_TOMBSTONE = fieldTag(STREAM_SHARD_RESPONSE.tombstones, DELIMITED)
const TAG_STREAM_OBJECTS = fieldTag(STREAM_SHARD_RESPONSE.objects, DELIMITED)
const TAG_END_OF_BATCH = fieldTag(STREAM_SHARD_RESPONSE.endOfBatch, VARINT)
const TAG_DONE = fieldTag(STREAM_SHARD_RESPONSE.done, VARINT)
const TAG_START = fieldTag(STREAM_SHARD_RESPONSE.start, DELIMITED)
const TAG_START_STATE = fieldTag(STREAM_SHARD_START.state, VARINT)
const TAG_START_NEW_SHARDS_PACKED = fieldTag(STREAM_SHARD_START.newShards, DELIMITED)
const TAG_START_NEW_SHARD = fieldTag(STREAM_SHARD_START.newShards, VARINT)
const TAG_START_LOG_SEQ = fieldTag(STREAM_SHARD_START.logSeq, VARINT)
const TAG_START_BUCKET_ID = fieldTag(STREAM_SHARD_START.bucketId, DELIMITED)
const TAG_START_SHARD_COUNT = fieldTag(STREAM_SHARD_START.shardCount, VARINT)
const TAG_START_FILLING = fieldTag(STREAM_SHARD_START.filling, VARINT)
const SPLIT_STATES = Object.values(SplitState) as SplitState__Output[]
const TAG_KEY = fieldTag(OBJECT_INFO.key, DELIMITED)
const TAG_SIZE = fieldTag(OBJECT_INFO.size, VARINT)
const TAG_ETAG = fieldTag(OBJECT_INFO.etag, DELIMITED)
const TAG_MTIME = fieldTag(OBJECT_INFO.mtime, VARINT)
const TAG_ORIGIN_SITE = fieldTag(OBJECT_INFO.originSite, DELIMITED)
const TAG_CRC32 = fieldTag(OBJECT_INFO.crc32, VARINT)
const TAG_METADATA = fieldTag(OBJECT_INFO.metadata, DELIMITED)

/** ListIndexResponse { repeated ObjectInfo entries = 1; string next_marker = 2; repeated ObjectInfo tombstones = 3 } */
export function decodeListIndexResponse (buf: Buffer): ListIndexResponse__Output {
  const r = new Reader(buf, 0, buf.length)
  const out: ListIndexResponse__Output = { entries: [], nextMarker: '', tombstones: [] }
  while (r.more()) {
    const tag = r.uint32()
    switch (tag) {
      case TAG_ENTRY: out.entries.push(objectInfo(r.sub())); break
      case TAG_NEXT_MARKER: out.nextMarker = r.string(); break
      case TAG_TOMBSTONE: out.tombstones.push(objectInfo(r.sub())); break
      default: r.skip(tag)
    }
  }
  return out
}

/** FetchObjectsResponse { ObjectInfo info = 1; bool missing = 2; bytes data = 3; repeated FetchedObject objects = 4 } */
export function decodeFetchObjectsResponse (buf: Buffer): FetchObjectsResponse__Output {
  const r = new Reader(buf, 0, buf.length)
  const out: FetchObjectsResponse__Output = { info: null, missing: false, data: EMPTY, objects: [] }
  while (r.more()) {
    const tag = r.uint32()
    if (tag === TAG_OBJECTS) out.objects.push(fetchedObject(r.sub()))
    else if (!fetchedField(r, tag, out)) r.skip(tag)
  }
  return out
}

/** StreamShardResponse { references = 1; resume_marker = 2; tombstones = 3; objects = 4; end_of_batch = 5; done = 6; start = 7 } */
export function decodeStreamShardResponse (buf: Buffer): StreamShardResponse__Output {
  const r = new Reader(buf, 0, buf.length)
  const out: StreamShardResponse__Output = { references: [], resumeMarker: '', tombstones: [], objects: [], endOfBatch: false, done: false, start: null }
  while (r.more()) {
    const tag = r.uint32()
    switch (tag) {
      case TAG_STREAM_OBJECTS: out.objects.push(fetchedObject(r.sub())); break
      case TAG_REFERENCE: out.references.push(objectInfo(r.sub())); break
      case TAG_RESUME_MARKER: out.resumeMarker = r.string(); break
      case TAG_STREAM_TOMBSTONE: out.tombstones.push(objectInfo(r.sub())); break
      case TAG_END_OF_BATCH: out.endOfBatch = r.uint32() !== 0; break
      case TAG_DONE: out.done = r.uint32() !== 0; break
      case TAG_START: out.start = streamShardStart(r.sub(), out.start); break
      default: r.skip(tag)
    }
  }
  return out
}

/** StreamShardStart { SplitState state = 1; repeated uint32 new_shards = 2; uint64 log_seq = 3; string bucket_id = 4; uint32 shard_count = 5; bool filling = 6 }; a repeated message field merges. */
function streamShardStart (r: Reader, into: StreamShardStart__Output | null): StreamShardStart__Output {
  const out: StreamShardStart__Output = into ?? { state: 'SPLIT_STATE_UNSPECIFIED', newShards: [], logSeq: 0, bucketId: '', shardCount: 0, filling: false }
  while (r.more()) {
    const tag = r.uint32()
    switch (tag) {
      case TAG_START_STATE: { const v = r.uint32(); out.state = SPLIT_STATES[v] ?? (v as unknown as SplitState__Output); break }
      case TAG_START_NEW_SHARDS_PACKED: { const p = r.sub(); while (p.more()) out.newShards.push(p.uint32()); break }
      case TAG_START_NEW_SHARD: out.newShards.push(r.uint32()); break
      case TAG_START_LOG_SEQ: out.logSeq = r.varint(); break
      case TAG_START_BUCKET_ID: out.bucketId = r.string(); break
      case TAG_START_SHARD_COUNT: out.shardCount = r.uint32(); break
      case TAG_START_FILLING: out.filling = r.uint32() !== 0; break
      default: r.skip(tag)
    }
  }
  return out
}

/** FetchedObject { ObjectInfo info = 1; bool missing = 2; bytes data = 3 } */
function fetchedObject (r: Reader): FetchedObject__Output {
  const out: FetchedObject__Output = { info: null, missing: false, data: EMPTY }
  while (r.more()) {
    const tag = r.uint32()
    if (!fetchedField(r, tag, out)) r.skip(tag)
  }
  return out
}

/** Fields 1-3, which FetchObjectsResponse shares with FetchedObject; false if tag is another. */
function fetchedField (r: Reader, tag: number, out: FetchedObject__Output): boolean {
  switch (tag) {
    case TAG_INFO: out.info = objectInfo(r.sub()); return true
    case TAG_MISSING: out.missing = r.uint32() !== 0; return true
    case TAG_DATA: out.data = r.bytes(); return true
    default: return false
  }
}

/**
 * ObjectInfo { string key = 1; uint64 size = 2; string etag = 3; uint64 mtime = 4; string origin_site = 5; optional uint32 crc32 = 6 }.
 * A proto3 optional field is a one-field oneof: when present, protobufjs
 * (oneofs: true) also sets `_crc32` to its name; when absent, neither is set.
 */
function objectInfo (r: Reader): ObjectInfo__Output {
  const out: ObjectInfo__Output = { key: '', size: 0, etag: '', mtime: 0, originSite: '' }
  while (r.more()) {
    const tag = r.uint32()
    switch (tag) {
      case TAG_KEY: out.key = r.string(); break
      case TAG_SIZE: out.size = r.varint(); break
      case TAG_ETAG: out.etag = r.string(); break
      case TAG_MTIME: out.mtime = r.varint(); break
      case TAG_ORIGIN_SITE: out.originSite = r.string(); break
      case TAG_CRC32: out.crc32 = r.uint32(); out._crc32 = 'crc32'; break
      case TAG_METADATA: out.metadata = r.string(); out._metadata = 'metadata'; break
      default: r.skip(tag)
    }
  }
  return out
}

/** Why bytes are not a message; `code` is stable (tests assert on it). */
export type MalformedCode = 'TRUNCATED' | 'TRUNCATED_FIELD' | 'BAD_VARINT' | 'BAD_TAG' | 'BAD_WIRE_TYPE' | 'BAD_UTF8'

function malformed (code: MalformedCode, message: string): RangeError & { code: MalformedCode } {
  return Object.assign(new RangeError(`malformed message: ${message}`), { code })
}

/** Reads the bytes buf[pos, end) of one message. */
class Reader {
  constructor (private readonly buf: Buffer, private pos: number, private readonly end: number) {}

  more (): boolean {
    return this.pos < this.end
  }

  /**
   * An unsigned varint of up to 10 bytes as a Number: exact up to 2^53,
   * and beyond that the same Number as protobufjs (its 64 bits, as two
   * 32-bit halves; bits past 64 are dropped, as there).
   */
  varint (): number {
    const lo = this.varint64()
    return this.hi === 0 ? lo : this.hi * 0x100000000 + lo
  }

  /** The low 32 bits of a varint (a tag, a bool), as protobufjs's uint32. */
  uint32 (): number {
    return this.varint64()
  }

  /** High 32 bits of the last varint64 read. */
  private hi = 0

  /** Reads a varint; returns its low 32 bits (unsigned) and leaves the high ones in `hi`. */
  private varint64 (): number {
    let lo = 0
    let hi = 0
    let b: number
    // Bytes 1-4: bits 0-27.
    for (let i = 0; i < 28; i += 7) {
      b = this.byte()
      lo |= (b & 0x7f) << i
      if (b < 0x80) { this.hi = 0; return lo >>> 0 }
    }
    // Byte 5: bits 28-31 and 32-34.
    b = this.byte()
    lo |= (b & 0x0f) << 28
    hi = (b & 0x7f) >> 4
    if (b >= 0x80) {
      // Bytes 6-10: bits 35-63 (and beyond, dropped).
      for (let i = 3; ; i += 7) {
        if (i > 31) throw malformed('BAD_VARINT', 'varint longer than 10 bytes')
        b = this.byte()
        hi |= (b & 0x7f) << i
        if (b < 0x80) break
      }
    }
    this.hi = hi >>> 0
    return lo >>> 0
  }

  private byte (): number {
    if (this.pos >= this.end) throw malformed('TRUNCATED', 'message truncated in a varint')
    return this.buf[this.pos++]
  }

  /** The payload of a length-delimited field, as [start, end). */
  private span (): number {
    const len = this.varint()
    const start = this.pos
    if (len > this.end - start) throw malformed('TRUNCATED_FIELD', 'message truncated in a length-delimited field')
    this.pos = start + len
    return start
  }

  sub (): Reader {
    const start = this.span()
    return new Reader(this.buf, start, this.pos)
  }

  /**
   * A string field; bytes that are not UTF-8 throw (protobufjs would put
   * U+FFFD in, and two keys would become one on the target).
   */
  string (): string {
    const start = this.span()
    if (!isUtf8(this.buf.subarray(start, this.pos))) throw malformed('BAD_UTF8', 'string field is not valid UTF-8')
    return this.buf.toString('utf8', start, this.pos)
  }

  /** A view into the received buffer, as protobufjs gives (no copy). */
  bytes (): Buffer {
    const start = this.span()
    return this.buf.subarray(start, this.pos)
  }

  /** Skips an unknown field of the given tag. */
  skip (tag: number): void {
    const wireType = tag & 7
    if (tag >>> 3 === 0) throw malformed('BAD_TAG', 'field number 0')
    switch (wireType) {
      case VARINT: this.varint(); break
      case FIXED64: this.advance(8); break
      case DELIMITED: this.span(); break
      case FIXED32: this.advance(4); break
      case START_GROUP:
        for (;;) {
          const inner = this.uint32()
          if ((inner & 7) === END_GROUP) break
          this.skip(inner)
        }
        break
      default: throw malformed('BAD_WIRE_TYPE', `wire type ${wireType}`)
    }
  }

  private advance (n: number): void {
    if (n > this.end - this.pos) throw malformed('TRUNCATED', 'message truncated')
    this.pos += n
  }
}
