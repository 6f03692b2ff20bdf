/**
 * The hand decoders of node/rpc/decoded-message.ts against protobufjs (as
 * loaded with PROTO_LOADER_OPTS): the same plain objects for every message
 * a source sends, for other valid encodings of them (fields out of order,
 * repeated, unknown fields of every wire type), and for every truncation of
 * them (both refuse it, or both give the same, except that a string cut
 * short is refused here where protobufjs silently shortens it). Pure; no
 * server.
 */
import crypto from 'node:crypto'
import t, { type Test } from 'tap'
import type * as grpc from '@grpc/grpc-js'
import { decodeFetchObjectsResponse, decodeListIndexResponse, decodeStreamShardResponse } from '../node/rpc/decoded-message'
import { loadShardsyncProto } from '../node/rpc/proto'

function method (name: string): grpc.MethodDefinition<unknown, unknown> {
  const def = loadShardsyncProto().definition['shardsync.v1.SyncService'] as unknown as grpc.ServiceDefinition
  return def[name]
}
const listIndex = method('ListIndex')
const fetchObjects = method('FetchObjects')
const streamShard = method('StreamShard')

// The checksum absent, zero (still present: proto3 optional), and 2^32 - 1.
const INFOS = [
  { key: 'a', size: 0, etag: '', mtime: 0, originSite: '' },
  { key: 'photos/ä-€-😀.jpg', size: 127, etag: 'd41d8cd98f00b204e9800998ecf8427e', mtime: 1_795_000_000_000, originSite: 'site-b', crc32: 0 },
  { key: 'k'.repeat(1024), size: 2 ** 32 + 5, etag: '0'.repeat(32), mtime: 2 ** 53 - 1, originSite: 'A', crc32: 2 ** 32 - 1 }
]

const LIST_PAGES = [
  {},
  { entries: INFOS, nextMarker: 'photos/ä' },
  { entries: Array.from({ length: 1000 }, (_, i) => ({ ...INFOS[i % 3], key: `k/${i}` })), nextMarker: '' }
]

const FETCH_MESSAGES = [
  {},
  { info: INFOS[1] },
  { info: INFOS[2], data: crypto.randomBytes(70_000) },
  { data: crypto.randomBytes(300) },
  { objects: [{ info: { key: 'gone' }, missing: true }, { info: INFOS[1], data: crypto.randomBytes(127) }, { info: INFOS[0], data: Buffer.alloc(0) }] },
  { objects: Array.from({ length: 256 }, (_, i) => ({ info: { ...INFOS[i % 3], key: `o/${i}` }, data: crypto.randomBytes(1024) })) }
]

const STREAM_MESSAGES = [
  {},
  { start: { state: 'SPLIT_STATE_SPLIT_DONE', newShards: [3, 300, 2 ** 32 - 1], logSeq: 2 ** 40 + 7, bucketId: 'b-1', shardCount: 301, filling: true } },
  { start: {} },
  { objects: FETCH_MESSAGES[4].objects },
  { references: INFOS, tombstones: INFOS.slice(0, 2), resumeMarker: 'photos/ä', endOfBatch: true },
  { resumeMarker: '', endOfBatch: true, done: true }
]

/** Plain data for comparison: Buffers as hex, so a view and a copy compare equal. */
function plain (v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => {
    if (x !== null && typeof x === 'object' && (x as { type?: string }).type === 'Buffer') return { buffer: Buffer.from((x as { data: number[] }).data).toString('hex') }
    return x
  }))
}

function check (t: Test, def: grpc.MethodDefinition<unknown, unknown>, decode: (b: Buffer) => unknown, bytes: Buffer, label: string): void {
  let theirs: unknown
  let theirError: unknown
  try { theirs = def.responseDeserialize(bytes) } catch (err) { theirError = err }
  let ours: unknown
  let ourError: unknown
  try { ours = decode(bytes) } catch (err) { ourError = err }
  if (theirError !== undefined) {
    t.ok(ourError instanceof RangeError, `${label}: refused, as by protobufjs`)
  } else if (ourError !== undefined) {
    // Stricter than protobufjs in one case only: protobufjs cuts a string
    // whose bytes run past the end short, silently; that is refused here.
    t.match(ourError, { code: 'TRUNCATED_FIELD' }, `${label}: refused (protobufjs truncates the string)`)
    t.ok(typeof theirs === 'object', 'protobufjs gave a message')
  } else {
    t.same(plain(ours), plain(theirs), label)
  }
}

t.test('every message a source sends decodes as protobufjs decodes it', async t => {
  for (const [i, page] of LIST_PAGES.entries()) check(t, listIndex, decodeListIndexResponse, listIndex.responseSerialize(page), `ListIndex page ${i}`)
  for (const [i, msg] of FETCH_MESSAGES.entries()) check(t, fetchObjects, decodeFetchObjectsResponse, fetchObjects.responseSerialize(msg), `FetchObjects message ${i}`)
  for (const [i, msg] of STREAM_MESSAGES.entries()) check(t, streamShard, decodeStreamShardResponse, streamShard.responseSerialize(msg), `StreamShard message ${i}`)
  const decoded = decodeFetchObjectsResponse(fetchObjects.responseSerialize(FETCH_MESSAGES[2]))
  t.ok(Buffer.isBuffer(decoded.data), 'bytes come as a Buffer')
  t.equal(decoded.info?.size, 2 ** 32 + 5, 'a 64-bit size as a Number')
})

// Raw protobuf pieces, to build encodings protobufjs would not make.
function varint (n: number): Buffer {
  const out: number[] = []
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80) }
  out.push(n)
  return Buffer.from(out)
}
const tag = (field: number, wire: number): Buffer => varint(field * 8 + wire)
const delimited = (field: number, payload: Buffer): Buffer => Buffer.concat([tag(field, 2), varint(payload.length), payload])
const str = (field: number, s: string): Buffer => delimited(field, Buffer.from(s))
const num = (field: number, n: number): Buffer => Buffer.concat([tag(field, 0), varint(n)])
/** One unknown field of each wire type, a group holding another. */
const UNKNOWN = Buffer.concat([
  num(9, 300), tag(10, 1), Buffer.alloc(8, 7), delimited(11, Buffer.from('skip me')), tag(12, 5), Buffer.alloc(4, 9),
  tag(13, 3), num(1, 5), str(2, 'in a group'), tag(13, 4)
])

t.test('other valid encodings: fields out of order, repeated, unknown', async t => {
  // size and checksum given twice (last wins; a checksum in a 10-byte
  // varint keeps its low 32 bits), fields in reverse order, unknown fields
  // between. (protobufjs misreads a uint32 in a varint of 6 to 9 bytes, so
  // that case cannot be compared with it.)
  const info = Buffer.concat([num(6, 7), str(5, 'B'), UNKNOWN, num(4, 1234), num(2, 1), str(3, 'etag'), num(6, 2 ** 63 + 2 ** 31 + 2 ** 12), num(2, 42), str(1, 'key/1'), UNKNOWN])
  const list = Buffer.concat([str(2, 'first marker'), UNKNOWN, delimited(1, info), str(2, 'last marker'), delimited(1, Buffer.alloc(0))])
  check(t, listIndex, decodeListIndexResponse, list, 'ListIndex page, shuffled')
  const fetched = Buffer.concat([delimited(3, Buffer.from('data')), num(2, 0), UNKNOWN, delimited(1, info), num(2, 1)])
  const fetch = Buffer.concat([delimited(4, fetched), UNKNOWN, num(2, 1), delimited(3, Buffer.from('xyz')), delimited(1, info), delimited(4, Buffer.alloc(0))])
  check(t, fetchObjects, decodeFetchObjectsResponse, fetch, 'FetchObjects message, shuffled')
  const ours = decodeListIndexResponse(list)
  t.equal(ours.entries[0].size, 42, 'the last of a repeated scalar wins')
  t.equal(ours.entries[0].crc32, 2 ** 31 + 2 ** 12, 'a checksum is its low 32 bits, unsigned')
  t.equal(ours.entries[1].crc32, undefined, 'and absent where not sent')
  t.equal(ours.nextMarker, 'last marker')
})

t.test('64-bit values past 2^53 give the same Number as protobufjs', async t => {
  const varint64 = (n: bigint): Buffer => {
    const out: number[] = []
    while (n >= 0x80n) { out.push(Number(n & 0x7fn) | 0x80); n >>= 7n }
    out.push(Number(n))
    return Buffer.from(out)
  }
  const values = [2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 285828245454231533n, 0xdeadbeefcafebaben]
  for (let i = 0; i < 200; i++) values.push(BigInt.asUintN(64, BigInt('0x' + crypto.randomBytes(8).toString('hex'))))
  for (const v of values) {
    const info = Buffer.concat([tag(2, 0), varint64(v), tag(4, 0), varint64(v)])
    check(t, listIndex, decodeListIndexResponse, delimited(1, info), `size and mtime ${v}`)
  }
  // A bool is the low 32 bits (2^32 is false), a tag too.
  const fetched = Buffer.concat([tag(2, 0), varint64(2n ** 32n)])
  check(t, fetchObjects, decodeFetchObjectsResponse, delimited(4, fetched), 'missing = 2^32')
  t.equal(decodeFetchObjectsResponse(delimited(4, fetched)).objects[0].missing, false)
})

t.test('every truncation is refused by both, or decoded alike', async t => {
  const samples: Array<[grpc.MethodDefinition<unknown, unknown>, (b: Buffer) => unknown, Buffer]> = [
    [listIndex, decodeListIndexResponse, listIndex.responseSerialize(LIST_PAGES[1])],
    [fetchObjects, decodeFetchObjectsResponse, fetchObjects.responseSerialize(FETCH_MESSAGES[4])],
    [fetchObjects, decodeFetchObjectsResponse, Buffer.concat([UNKNOWN, delimited(1, str(1, 'k'))])],
    [streamShard, decodeStreamShardResponse, streamShard.responseSerialize(STREAM_MESSAGES[1])],
    [streamShard, decodeStreamShardResponse, streamShard.responseSerialize(STREAM_MESSAGES[4])]
  ]
  for (const [def, decode, bytes] of samples) {
    for (let n = 0; n < bytes.length; n++) check(t, def, decode, bytes.subarray(0, n), `first ${n} of ${bytes.length} bytes`)
  }
  t.throws(() => decodeFetchObjectsResponse(Buffer.from([0x08 | 6, 1])), { code: 'BAD_WIRE_TYPE' }, 'wire type 6')
  t.throws(() => decodeListIndexResponse(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), { code: 'BAD_VARINT' }, 'an 11-byte varint')
})
