/**
 * Response messages encoded by hand, for the one hot path where protobufjs
 * costs a copy per byte: the data messages of large objects.
 *
 * Called by the GetObject and FetchObjects handlers; server.ts makes every
 * service's response serializer pass an EncodedMessage through unchanged.
 *
 * A message whose only field is `bytes data = N` is encoded as the field's
 * tag, the length as a varint, then the bytes. protobufjs would copy each
 * chunk into a new buffer, which gRPC then copies once more into its frame;
 * on a large transfer that extra copy and allocation cost about a fifth of the
 * source's CPU (most of it in GC, since each copy is new external memory).
 * Here the tag and length are written into the headroom that storage leaves
 * in front of each chunk (ObjectStore.readChunks), so the chunk is not
 * copied at all. The bytes are exactly protobufjs's encoding of
 * { data: chunk } (test/encoded-message.test.ts decodes them to check).
 */

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

function varintSize (n: number): number {
  if (n < 0 || n > 0xffffffff) throw new Error(`length ${n} out of range`)
  let size = 1
  while (n >= 0x80) { n = Math.floor(n / 128); size++ }
  return size
}
