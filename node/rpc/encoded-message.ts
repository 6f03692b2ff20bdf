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
 * (ObjectStore.readChunks), so the chunk is not copied at all.
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
import type { ObjectVersion } from '../../storage/records'

/** Room a chunk needs in front of it: a one-byte tag (fields 1-15) and a varint of up to 32 bits. */
export const DATA_HEADROOM = 6

/** Already-encoded message bytes; the response serializer passes them through. */
export class EncodedMessage {
  constructor (readonly bytes: Buffer) {}
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
  out[0] = (field << 3) | 2
  for (let i = 1; i <= lenBytes; i++) {
    out[i] = (len & 0x7f) | (i < lenBytes ? 0x80 : 0)
    len >>>= 7
  }
  return new EncodedMessage(out)
}

/** The message as the handler's declared response type, for a typed write(). */
export function asResponse<T> (message: EncodedMessage): T {
  return message as unknown as T
}

/** ListIndexResponse.entries, FetchedObject.info */
const ENTRIES_FIELD = 1
/** ListIndexResponse.next_marker */
const NEXT_MARKER_FIELD = 2
/** FetchObjectsResponse.objects */
const OBJECTS_FIELD = 4
/** FetchedObject fields. */
const FETCHED_INFO_FIELD = 1
const FETCHED_MISSING_FIELD = 2
const FETCHED_DATA_FIELD = 3

/** One object of a packed FetchObjects message: info and content, or a miss (no info). */
export interface PackedObject {
  key: string
  info?: ObjectVersion
  /** The content in one or more pieces (info.size bytes in all). */
  parts?: readonly Buffer[]
}

/** ListIndexResponse { entries, next_marker }. */
export function indexPageMessage (entries: ReadonlyArray<{ key: string } & ObjectVersion>, nextMarker: string): EncodedMessage {
  const infoSizes = new Array<number>(entries.length)
  const markerBytes = Buffer.byteLength(nextMarker)
  let total = delimitedSize(markerBytes)
  for (let i = 0; i < entries.length; i++) {
    infoSizes[i] = objectInfoSize(entries[i].key, entries[i])
    total += delimitedSize(infoSizes[i])
  }
  const w = new Writer(total)
  for (let i = 0; i < entries.length; i++) {
    w.header(ENTRIES_FIELD, infoSizes[i])
    w.objectInfo(entries[i].key, entries[i])
  }
  w.string(NEXT_MARKER_FIELD, nextMarker, markerBytes)
  return w.done()
}

/** FetchObjectsResponse { objects }: whole small objects and misses, in order. */
export function packedObjectsMessage (objects: readonly PackedObject[]): EncodedMessage {
  const infoSizes = new Array<number>(objects.length)
  const objectSizes = new Array<number>(objects.length)
  let total = 0
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]
    if (o.info === undefined) {
      infoSizes[i] = delimitedSize(Buffer.byteLength(o.key))
      objectSizes[i] = delimitedSize(infoSizes[i]) + 2
    } else {
      infoSizes[i] = objectInfoSize(o.key, o.info)
      objectSizes[i] = delimitedSize(infoSizes[i]) + delimitedSize(partsLength(o.parts))
    }
    total += delimitedSize(objectSizes[i])
  }
  const w = new Writer(total)
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]
    w.header(OBJECTS_FIELD, objectSizes[i])
    w.header(FETCHED_INFO_FIELD, infoSizes[i])
    if (o.info === undefined) {
      w.string(ENTRIES_FIELD, o.key, Buffer.byteLength(o.key))
      w.varintField(FETCHED_MISSING_FIELD, 1)
    } else {
      w.objectInfo(o.key, o.info)
      w.header(FETCHED_DATA_FIELD, partsLength(o.parts))
      for (const part of o.parts ?? []) w.bytes(part)
    }
  }
  return w.done()
}

/** ObjectInfo { key = 1, size = 2, etag = 3, mtime = 4, origin_site = 5 }, without its own header. */
function objectInfoSize (key: string, v: ObjectVersion): number {
  return delimitedSize(Buffer.byteLength(key)) + 1 + varintSize(v.size) + delimitedSize(Buffer.byteLength(v.etag)) +
    1 + varintSize(v.mtime) + delimitedSize(Buffer.byteLength(v.site))
}

function partsLength (parts: readonly Buffer[] | undefined): number {
  let n = 0
  for (const p of parts ?? []) n += p.length
  return n
}

/** Size of a length-delimited field (fields 1-15) with `length` bytes of payload. */
function delimitedSize (length: number): number {
  return 1 + varintSize(length) + length
}

/** Writes into a buffer of the exact size computed beforehand. */
class Writer {
  private readonly buf: Buffer
  private pos = 0

  constructor (size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }

  /** Tag (fields 1-15) and length of a length-delimited field; its payload follows. */
  header (field: number, length: number): void {
    this.buf[this.pos++] = (field << 3) | 2
    this.varint(length)
  }

  string (field: number, value: string, byteLength: number): void {
    this.header(field, byteLength)
    this.pos += this.buf.write(value, this.pos, byteLength, 'utf8')
  }

  bytes (value: Buffer): void {
    value.copy(this.buf, this.pos)
    this.pos += value.length
  }

  varintField (field: number, value: number): void {
    this.buf[this.pos++] = field << 3
    this.varint(value)
  }

  objectInfo (key: string, v: ObjectVersion): void {
    this.string(1, key, Buffer.byteLength(key))
    this.varintField(2, v.size)
    this.string(3, v.etag, Buffer.byteLength(v.etag))
    this.varintField(4, v.mtime)
    this.string(5, v.site, Buffer.byteLength(v.site))
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
    return new EncodedMessage(this.buf)
  }
}

/** Bytes of n as a varint: a non-negative integer up to 2^53 (sizes, lengths, mtimes). */
function varintSize (n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`varint ${n} out of range`)
  let size = 1
  while (n >= 0x80) { n = Math.floor(n / 0x80); size++ }
  return size
}
