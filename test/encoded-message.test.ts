/**
 * Data messages encoded by hand (node/rpc/encoded-message.ts) around chunks
 * that storage reads with room in front (ObjectStore.readChunks headroom).
 * The bytes must be exactly what protobufjs makes of { data: chunk }, and a
 * chunk read with headroom must own the bytes in front of it: writing a
 * header there must not touch anything else. Real LevelDB, no server.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import t from 'tap'
import type * as grpc from '@grpc/grpc-js'
import { openDatabase } from '../storage/database'
import { ObjectStore } from '../storage/object-store'
import { DATA_HEADROOM, dataMessage, indexPageMessage, packedObjectsMessage, streamBatchEndMessage, type InfoFields, type PackedObject } from '../node/rpc/encoded-message'
import { objectInfoMessage } from '../node/rpc/messages'
import { loadShardsyncProto } from '../node/rpc/proto'

const MiB = 1024 * 1024

function serializer (service: string, method: string): (v: unknown) => Buffer {
  const def = loadShardsyncProto().definition[`shardsync.v1.${service}`] as unknown as grpc.ServiceDefinition
  return def[method].responseSerialize
}

function withRoom (data: Buffer): Buffer {
  const chunk = Buffer.allocUnsafeSlow(DATA_HEADROOM + data.length).subarray(DATA_HEADROOM)
  data.copy(chunk)
  return chunk
}

t.test('a data message is byte for byte what protobufjs encodes', async t => {
  const fetch = serializer('SyncService', 'FetchObjects')
  const get = serializer('ObjectService', 'GetObject')
  // Lengths around each varint size boundary.
  for (const n of [1, 127, 128, 16383, 16384, 2097151, 2097152, MiB]) {
    const data = crypto.randomBytes(n)
    t.ok(dataMessage(3, withRoom(data)).bytes.equals(fetch({ data })), `FetchObjectsResponse.data, ${n} bytes`)
    t.ok(dataMessage(2, withRoom(data)).bytes.equals(get({ data })), `GetObjectResponse.data, ${n} bytes`)
  }
})

// Versions at the edges of each field: empty and multi-byte keys, sizes and
// mtimes around varint boundaries and past 32 bits, empty and long strings,
// a checksum absent, zero (present: proto3 optional), one byte, and 2^32 - 1.
const VERSIONS: Array<InfoFields & { key: string }> = [
  { key: 'a', size: 0, etag: '', mtime: 0, site: 'A' },
  { key: 'photos/2026/ä-€-😀.jpg', size: 127, etag: 'd41d8cd98f00b204e9800998ecf8427e', mtime: 1_795_000_000_000, site: 'site-b', crc32: 0 },
  { key: 'k'.repeat(1024), size: 128, etag: '0'.repeat(32), mtime: 2 ** 53 - 1, site: '', crc32: 127 },
  { key: 'x/y', size: 2 ** 32 + 5, etag: 'e', mtime: 16384, site: 's'.repeat(200), crc32: 2 ** 32 - 1 }
]

t.test('an index page is byte for byte what protobufjs encodes', async t => {
  const list = serializer('SyncService', 'ListIndex')
  const pages = [
    { entries: VERSIONS, nextMarker: 'x/y' },
    { entries: VERSIONS.slice(1, 2), nextMarker: '' },
    { entries: [], nextMarker: '' },
    { entries: [], nextMarker: 'ü' },
    { entries: Array.from({ length: 1000 }, (_, i) => ({ ...VERSIONS[i % 4], key: `k/${i}` })), nextMarker: 'k/999' }
  ]
  for (const p of pages) {
    const expected = list({ entries: p.entries.map(e => objectInfoMessage(e.key, e)), nextMarker: p.nextMarker })
    t.ok(indexPageMessage(p.entries, p.nextMarker).bytes.equals(expected), `${p.entries.length} entries, marker '${p.nextMarker}'`)
  }
})

t.test('a packed FetchObjects message is byte for byte what protobufjs encodes', async t => {
  const fetch = serializer('SyncService', 'FetchObjects')
  const body = (n: number): Buffer => crypto.randomBytes(n)
  const cases: PackedObject[][] = [
    [],
    [{ key: 'gone' }],
    VERSIONS.slice(0, 2).map(v => ({ key: v.key, info: v, parts: [body(v.size)] })),
    // Content in several pieces (packed reads), and empty content.
    [{ key: 'p', info: { ...VERSIONS[1], size: 300 }, parts: [body(100), body(0), body(200)] }, { key: 'e', info: VERSIONS[0], parts: [] }],
    // S3 metadata (ObjectInfo.metadata, JSON text with non-ASCII) after crc32.
    [{ key: 'meta', info: { ...VERSIONS[1], size: 10, crc32: 7, meta: { type: 'text/plain', user: { a: 'é ü' }, etag: 'a'.repeat(32) + '-2' } }, parts: [body(10)] }],
    // Misses between objects, and a message over 16 KiB (multi-byte lengths).
    Array.from({ length: 40 }, (_, i) => i % 3 === 0 ? { key: `m/${i}` } : { key: `o/${i}`, info: { ...VERSIONS[i % 4], size: 1000 }, parts: [body(1000)] })
  ]
  for (const objects of cases) {
    const expected = fetch({
      objects: objects.map(o => o.info === undefined
        ? { info: { key: o.key }, missing: true }
        : { info: objectInfoMessage(o.key, o.info), data: Buffer.concat(o.parts ?? []) })
    })
    t.ok(packedObjectsMessage(objects).bytes.equals(expected), `${objects.length} objects`)
  }
})

t.test('StreamShard messages built from the index-page and packed encoders decode as protobufjs has them', async t => {
  const def = (loadShardsyncProto().definition['shardsync.v1.SyncService'] as unknown as grpc.ServiceDefinition).StreamShard
  const decode = def.responseDeserialize as (b: Buffer) => Record<string, unknown>
  // protobufjs (oneofs: true) names a present proto3 optional field in `_crc32`.
  const info = (v: InfoFields & { key: string }): unknown => ({ ...objectInfoMessage(v.key, v), size: v.size, mtime: v.mtime, ...(v.crc32 !== undefined ? { _crc32: 'crc32' } : {}) })
  for (const done of [false, true]) {
    const got = decode(streamBatchEndMessage(VERSIONS, 'k/ü', VERSIONS.slice(0, 2), done).bytes)
    t.same(got.references, VERSIONS.map(info), 'references')
    t.same(got.tombstones, VERSIONS.slice(0, 2).map(info), 'tombstones')
    t.equal(got.resumeMarker, 'k/ü', 'resume marker')
    t.equal(got.endOfBatch, true, 'end of batch')
    t.equal(got.done, done, `done ${String(done)}`)
    t.same(got.objects, [], 'no objects')
  }
  const body = crypto.randomBytes(300)
  const objects = decode(packedObjectsMessage([{ key: 'o', info: { ...VERSIONS[1], size: 300 }, parts: [body] }]).bytes)
  t.equal((objects.objects as Array<{ data: Buffer }>)[0].data.equals(body), true, 'a packed FetchObjects message is a StreamShard objects message')
  t.equal(objects.endOfBatch, false, 'that does not close a batch')
})

t.test('a chunk without headroom, or a field that needs a longer tag, is refused', async t => {
  t.throws(() => dataMessage(3, Buffer.allocUnsafeSlow(100)), /headroom/)
  t.throws(() => dataMessage(16, withRoom(Buffer.alloc(10))), /tag/)
})

t.test('chunks read with headroom own the bytes in front of them', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-encoded-'))
  const db = await openDatabase(dir)
  const store = await ObjectStore.open(db, { siteId: 'A', maxObjectBytes: 16 * MiB, defaults: { initialShards: 1, splitThreshold: 1_000_000, autoSplit: false } })
  t.teardown(async () => {
    store.close()
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  await store.createBucket({ name: 'bkt' })
  // Small ones (one LevelDB value, read several to a getMany) and a file.
  const bodies = new Map([['a', crypto.randomBytes(100)], ['b', crypto.randomBytes(300 * 1024)], ['c', crypto.randomBytes(3 * MiB + 5)]])
  for (const [key, body] of bodies) {
    const up = store.beginUpload('bkt', key)
    await up.write(body)
    await up.finish()
  }
  for (const [key, body] of bodies) {
    const head = await store.headObject('bkt', key)
    const chunks: Buffer[] = []
    for await (const chunk of store.readChunks(head, DATA_HEADROOM)) {
      t.equal(chunk.byteOffset, DATA_HEADROOM, `${key}: headroom in front`)
      t.equal(chunk.buffer.byteLength, DATA_HEADROOM + chunk.length, `${key}: the buffer holds nothing else`)
      chunks.push(chunk)
    }
    // Headers written into every chunk's headroom leave the content whole.
    for (const chunk of chunks) dataMessage(3, chunk)
    t.ok(Buffer.concat(chunks).equals(body), `${key}: content intact`)
  }
})
