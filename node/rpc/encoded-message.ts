/**
 * Response messages encoded by hand, for the hot paths where protobufjs
 * costs the most: the data messages of large objects, the packed messages
 * of small objects (FetchObjects) and index pages (ListIndex).
 *
 * Called by the GetObject, FetchObjects and ListIndex handlers; server.ts
 * makes every service's response serializer pass an EncodedMessage through
 * unchanged. The wire is the same, so clients (grpcurl too) see no change.
 *
 * Data messages. A message whose only field is `bytes data = N` is encoded
 * as the field's tag, the length as a varint, then the bytes. protobufjs
 * would copy each chunk into a new buffer, which gRPC then copies once more
 * into its frame; on a large transfer that extra copy and allocation cost
 * about a fifth of the source's CPU (most of it in GC, since each copy is
 * new external memory). Here the tag and length are written into the
 * headroom that storage leaves in front of each chunk
 * (ObjectStore.readChunks), so the chunk is not copied at all. The
 * headroom also has room for gRPC's 5-byte message prefix, which
 * grpc-frame.ts writes there instead of letting grpc-js copy the message
 * into a new buffer behind it (every encoder here leaves that room).
 *
 * Packed objects and index pages. protobufjs turns every plain object into
 * a message object (fromObject) and then writes it through a chain of
 * queued operations; for a page of 1,000 entries or a message of 256 small
 * objects, that was the largest part of the source's serializing time.
 * Here sizes are computed first and the message is written into one buffer.
 *
 * Every message here is byte for byte what protobufjs encodes for the same
 * value (test/encoded-message.test.ts checks it against protobufjs).
 */
import { encodeObjectMeta, type ObjectMeta } from '../../storage/object-meta'
import type { ObjectVersion } from '../../storage/records'
import { DELIMITED, FETCHED_OBJECT, FETCH_OBJECTS_RESPONSE, fieldTag, LIST_INDEX_RESPONSE, OBJECT_INFO, STREAM_SHARD_RESPONSE, VARINT } from './wire-format'

/** gRPC's length prefix of a message: a compressed flag and a 32-bit length (see grpc-frame.ts). */
export const GRPC_PREFIX_BYTES = 5
/** Room a chunk needs in front of it: gRPC's prefix, a one-byte tag (fields 1-15) and a varint of up to 32 bits. */
export const DATA_HEADROOM = GRPC_PREFIX_BYTES + 6

/** What an ObjectInfo is written from: a version, and the content's checksum where known. */
export type InfoFields = ObjectVersion & { crc32?: number, meta?: ObjectMeta }

/** Already-encoded message bytes; the response serializer passes them through. */
export class EncodedMessage {
  /**
   * prefixRoom: the GRPC_PREFIX_BYTES bytes in front of `bytes` (same
   * ArrayBuffer) belong to this message and may be overwritten.
   */
  constructor (readonly bytes: Buffer, readonly prefixRoom = false) {}

  /**
   * The message as gRPC frames it (uncompressed flag, 32-bit big-endian
   * length, the bytes), written in place in the room in front: no copy. Or
   * undefined when the message has no such room (the caller copies).
   */
  framed (): Buffer | undefined {
    const b = this.bytes
    if (!this.prefixRoom || b.byteOffset < GRPC_PREFIX_BYTES || b.length > 0xffffffff) return undefined
    const out = Buffer.from(b.buffer, b.byteOffset - GRPC_PREFIX_BYTES, GRPC_PREFIX_BYTES + b.length)
    out[0] = 0
    out.writeUInt32BE(b.length, 1)
    return out
  }
}

/**
 * The message `{ <field>: chunk }` for a bytes field numbered 1-15, built in
 * the chunk's headroom. The chunk must come from readChunks with a headroom
 * of DATA_HEADROOM: the bytes in front of it are overwritten.
 */
export function dataMessage (field: number, chunk: Buffer): EncodedMessage {
  if (!Number.isInteger(field) || field < 1 || field > 15) throw new Error(`field ${field} needs a multi-byte tag`)
  let len = chunk.length
  const lenBytes = varintSize(len)
  const start = chunk.byteOffset - 1 - lenBytes
  if (start < 0) throw new Error('chunk has no headroom for its header')
  const out = Buffer.from(chunk.buffer, start, 1 + lenBytes + chunk.length)
  out[0] = fieldTag(field, DELIMITED)
  for (let i = 1; i <= lenBytes; i++) {
    out[i] = (len & 0x7f) | (i < lenBytes ? 0x80 : 0)
    len >>>= 7
  }
  return new EncodedMessage(out, start >= GRPC_PREFIX_BYTES)
}

/** The message as the handler's declared response type, for a typed write(). */
export function asResponse<T> (message: EncodedMessage): T {
  return message as unknown as T
}

/** One object of a packed FetchObjects message: info and content, or a miss (no info). */
export interface PackedObject {
  key: string
  info?: InfoFields
  /** The content in one or more pieces (info.size bytes in all). */
  parts?: readonly Buffer[]
}

/** ListIndexResponse { entries, next_marker, tombstones }. */
export function indexPageMessage (entries: ReadonlyArray<{ key: string } & ObjectVersion>, nextMarker: string, tombstones: ReadonlyArray<{ key: string } & ObjectVersion> = []): EncodedMessage {
  const all = tombstones.length === 0 ? entries : [...entries, ...tombstones]
  const lens = new Array<number>(INFO_LENS * all.length)
  const markerBytes = utf8Length(nextMarker)
  let total = delimitedSize(markerBytes)
  for (let i = 0; i < all.length; i++) total += delimitedSize(measureInfo(all[i].key, all[i], lens, INFO_LENS * i))
  const w = new Writer(total)
  for (let i = 0; i < all.length; i++) {
    w.header(i < entries.length ? LIST_INDEX_RESPONSE.entries : LIST_INDEX_RESPONSE.tombstones, lens[INFO_LENS * i + INFO_SIZE])
    w.objectInfo(all[i].key, all[i], lens, INFO_LENS * i)
  }
  w.string(LIST_INDEX_RESPONSE.nextMarker, nextMarker, markerBytes)
  return w.done()
}

/** FetchObjectsResponse { objects }: whole small objects and misses, in order. */
export function packedObjectsMessage (objects: readonly PackedObject[]): EncodedMessage {
  const lens = new Array<number>(INFO_LENS * objects.length)
  const objectSizes = new Array<number>(objects.length)
  let total = 0
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]
    const at = INFO_LENS * i
    if (o.info === undefined) {
      lens[at] = utf8Length(o.key)
      lens[at + INFO_SIZE] = delimitedSize(lens[at])
      objectSizes[i] = delimitedSize(lens[at + INFO_SIZE]) + 2
    } else {
      objectSizes[i] = delimitedSize(measureInfo(o.key, o.info, lens, at)) + delimitedSize(partsLength(o.parts))
    }
    total += delimitedSize(objectSizes[i])
  }
  const w = new Writer(total)
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]
    const at = INFO_LENS * i
    w.header(FETCH_OBJECTS_RESPONSE.objects, objectSizes[i])
    w.header(FETCHED_OBJECT.info, lens[at + INFO_SIZE])
    if (o.info === undefined) {
      w.string(OBJECT_INFO.key, o.key, lens[at])
      w.varintField(FETCHED_OBJECT.missing, 1)
    } else {
      w.objectInfo(o.key, o.info, lens, at)
      w.header(FETCHED_OBJECT.data, partsLength(o.parts))
      for (const part of o.parts ?? []) w.bytes(part)
    }
  }
  return w.done()
}

/**
 * StreamShardResponse { references, resume_marker, tombstones, end_of_batch: true, done }:
 * the message that closes a batch. Fields 1-3 coincide with ListIndexResponse's
 * (wire-format.ts), so it is an index page followed by the two flags.
 * (A batch's objects go before it in packedObjectsMessage messages: field 4
 * is FetchObjectsResponse.objects in both.)
 */
export function streamBatchEndMessage (references: ReadonlyArray<{ key: string } & InfoFields>, resumeMarker: string, tombstones: ReadonlyArray<{ key: string } & ObjectVersion>, done: boolean): EncodedMessage {
  const page = indexPageMessage(references, resumeMarker, tombstones).bytes
  const flags = done
    ? [fieldTag(STREAM_SHARD_RESPONSE.endOfBatch, VARINT), 1, fieldTag(STREAM_SHARD_RESPONSE.done, VARINT), 1]
    : [fieldTag(STREAM_SHARD_RESPONSE.endOfBatch, VARINT), 1]
  const out = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + page.length + flags.length).subarray(GRPC_PREFIX_BYTES)
  page.copy(out)
  out.set(flags, page.length)
  return new EncodedMessage(out, true)
}

/**
 * Per ObjectInfo, measured once and used again when writing: the UTF-8
 * lengths of key, etag and origin site, then the encoded size.
 */
const INFO_LENS = 4
const INFO_SIZE = 3

/** ObjectInfo { key = 1, size = 2, etag = 3, mtime = 4, origin_site = 5, optional crc32 = 6 }: its size without its own header. */
function measureInfo (key: string, v: InfoFields, lens: number[], at: number): number {
  const keyLen = lens[at] = utf8Length(key)
  const etagLen = lens[at + 1] = utf8Length(v.etag)
  const siteLen = lens[at + 2] = utf8Length(v.site)
  const crcSize = v.crc32 !== undefined ? 1 + varintSize(v.crc32) : 0
  const metaSize = v.meta !== undefined ? delimitedSize(Buffer.byteLength(encodeObjectMeta(v.meta))) : 0
  return (lens[at + INFO_SIZE] = delimitedSize(keyLen) + 1 + varintSize(v.size) + delimitedSize(etagLen) + 1 + varintSize(v.mtime) + delimitedSize(siteLen) + crcSize + metaSize)
}

function partsLength (parts: readonly Buffer[] | undefined): number {
  let n = 0
  for (const p of parts ?? []) n += p.length
  return n
}

/** UTF-8 length of a string, in JS: for the short strings here a native call costs more. */
function utf8Length (s: string): number {
  let len = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) len += 1
    else if (c < 0x800) len += 2
    else if ((c & 0xfc00) === 0xd800 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { len += 4; i++ }
    else len += 3
  }
  return len
}

/** Size of a length-delimited field (fields 1-15) with `length` bytes of payload. */
function delimitedSize (length: number): number {
  return 1 + varintSize(length) + length
}

/** Strings up to this length are copied in a JS loop when ASCII (a native call costs more). */
const SHORT_STRING = 128

/** Writes into a buffer of the exact size computed beforehand, with room for gRPC's prefix in front. */
class Writer {
  private readonly buf: Buffer
  private pos = 0

  constructor (size: number) {
    // The room is part of this allocation (a small one may share a pooled slab).
    this.buf = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + size).subarray(GRPC_PREFIX_BYTES)
  }

  /** Tag (fields 1-15) and length of a length-delimited field; its payload follows. */
  header (field: number, length: number): void {
    this.buf[this.pos++] = fieldTag(field, DELIMITED)
    this.varint(length)
  }

  /** A string field; byteLength from utf8Length. ASCII is copied in JS, the rest by Buffer. */
  string (field: number, value: string, byteLength: number): void {
    this.header(field, byteLength)
    if (byteLength === value.length && byteLength <= SHORT_STRING) {
      const buf = this.buf
      let pos = this.pos
      for (let i = 0; i < byteLength; i++) buf[pos++] = value.charCodeAt(i)
      this.pos = pos
    } else {
      this.pos += this.buf.write(value, this.pos, byteLength, 'utf8')
    }
  }

  bytes (value: Buffer): void {
    value.copy(this.buf, this.pos)
    this.pos += value.length
  }

  varintField (field: number, value: number): void {
    this.buf[this.pos++] = fieldTag(field, VARINT)
    this.varint(value)
  }

  /** An ObjectInfo's fields, with the lengths measureInfo left at lens[at]. */
  objectInfo (key: string, v: InfoFields, lens: number[], at: number): void {
    this.string(OBJECT_INFO.key, key, lens[at])
    this.varintField(OBJECT_INFO.size, v.size)
    this.string(OBJECT_INFO.etag, v.etag, lens[at + 1])
    this.varintField(OBJECT_INFO.mtime, v.mtime)
    this.string(OBJECT_INFO.originSite, v.site, lens[at + 2])
    if (v.crc32 !== undefined) this.varintField(OBJECT_INFO.crc32, v.crc32)
    if (v.meta !== undefined) {
      const text = encodeObjectMeta(v.meta)
      this.string(OBJECT_INFO.metadata, text, Buffer.byteLength(text))
    }
  }

  varint (n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.buf[this.pos++] = n
  }

  done (): EncodedMessage {
    if (this.pos !== this.buf.length) throw new Error(`encoded ${this.pos} of ${this.buf.length} bytes`)
    return new EncodedMessage(this.buf, true)
  }
}

/** Bytes of n as a varint: a non-negative integer up to 2^53 (sizes, lengths, mtimes). */
function varintSize (n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`varint ${n} out of range`)
  let size = 1
  while (n >= 0x80) { n = Math.floor(n / 0x80); size++ }
  return size
}
