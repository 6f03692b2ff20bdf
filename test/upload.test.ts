/**
 * The write path of large objects (storage/upload.ts, storage/blob-store.ts)
 * in one process over a real LevelDB: what an upload leaves behind when it
 * finishes, is aborted, or is refused. A file left without a head, a marker
 * left behind, or a committed file removed by a late abort fails here.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import zlib from 'node:zlib'
import t, { type Test } from 'tap'
import { openDatabase, type Database } from '../storage/database'
import { ObjectStore } from '../storage/object-store'
import { blobFiles } from './blob-files'

const MiB = 1024 * 1024
const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex')

async function open (t: Test): Promise<{ store: ObjectStore, db: Database, dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-upload-'))
  const db = await openDatabase(dir)
  const store = await ObjectStore.open(db, { siteId: 'A', maxObjectBytes: 16 * MiB, defaults: { initialShards: 1, splitThreshold: 1_000_000, autoSplit: false } })
  await store.createBucket({ name: 'bkt' })
  t.teardown(async () => {
    store.close()
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { store, db, dir }
}

async function markers (db: Database): Promise<string[]> {
  const out: string[] = []
  for await (const k of db.keys({ gt: 'u!', lt: 'u"' })) out.push(k)
  for await (const k of db.keys({ gt: 'g!', lt: 'g"' })) out.push(k)
  return out
}

async function readAll (store: ObjectStore, key: string): Promise<Buffer> {
  const head = await store.headObject('bkt', key)
  const parts: Buffer[] = []
  for await (const p of store.readChunks(head)) parts.push(p)
  return Buffer.concat(parts)
}

t.test('a finished large upload is a file; an abort after finish does not touch it', async t => {
  const { store, db, dir } = await open(t)
  const body = crypto.randomBytes(3 * MiB + 7)
  const up = store.beginUpload('bkt', 'big')
  for (let off = 0; off < body.length; off += 256 * 1024) await up.write(body.subarray(off, off + 256 * 1024))
  await up.finish()
  await up.abort()
  t.ok((await readAll(store, 'big')).equals(body), 'content intact after a late abort')
  t.equal(blobFiles(dir).size, 1, 'one file')
  t.same(await markers(db), [], 'no marker left')
})

t.test('an upload aborted midway leaves no file and no marker', async t => {
  const { store, db, dir } = await open(t)
  const up = store.beginUpload('bkt', 'half')
  await up.write(crypto.randomBytes(2 * MiB))
  t.equal(blobFiles(dir).size, 1, 'the file is being written')
  await up.abort()
  t.equal(blobFiles(dir).size, 0, 'gone after abort')
  t.same(await markers(db), [], 'no marker left')
  t.equal(await store.getHead('bkt', 'half'), undefined, 'no head')
})

t.test('replicated content that does not match its etag is refused and leaves nothing', async t => {
  const { store, db, dir } = await open(t)
  const body = crypto.randomBytes(2 * MiB)
  const streamed = store.beginReplicaUpload('bkt', 'r1', { size: body.length, etag: md5(Buffer.from('other')), mtime: 5, site: 'B' })
  await streamed.write(body)
  await t.rejects(streamed.finish(), { code: 'UPSTREAM_UNAVAILABLE' }, 'streamed replica: refused')
  await t.rejects(store.applyReplicaObjects('bkt', [{ key: 'r2', version: { size: body.length, etag: 'f'.repeat(32), mtime: 5, site: 'B' }, data: [body.subarray(0, MiB), body.subarray(MiB)] }]),
    { code: 'UPSTREAM_UNAVAILABLE' }, 'whole replica in pieces: refused')
  t.equal(blobFiles(dir).size, 0, 'no file')
  t.same(await markers(db), [], 'no marker')
  const ok = await store.applyReplicaObjects('bkt', [{ key: 'r2', version: { size: body.length, etag: md5(body), mtime: 5, site: 'B' }, data: [body.subarray(0, MiB), body.subarray(MiB)] }])
  t.ok(ok[0].applied, 'the right content in pieces is applied')
  t.ok((await readAll(store, 'r2')).equals(body), 'and reads back whole')
  const older = await store.applyReplicaObjects('bkt', [{ key: 'r2', version: { size: body.length, etag: md5(body), mtime: 4, site: 'B' }, data: body }])
  t.notOk(older[0].applied, 'an older version loses last-writer-wins')
  await store.blobs.settled()
  t.equal(blobFiles(dir).size, 1, 'and its file is removed: one file for the one live object')
  t.same(await markers(db), [], 'no marker left')
})

t.test('content keeps the CRC-32 of its first store; a replica is checked against the one the source sent', async t => {
  const { store, db, dir } = await open(t)
  const small = crypto.randomBytes(1000)
  const large = crypto.randomBytes(3 * MiB + 5)
  await store.putObject('bkt', 'small', small)
  const up = store.beginUpload('bkt', 'large')
  for (let off = 0; off < large.length; off += 300 * 1024) await up.write(large.subarray(off, off + 300 * 1024))
  await up.finish()
  t.equal((await store.getHead('bkt', 'small'))?.crc32, zlib.crc32(small), 'client write, small: the head keeps its checksum')
  t.equal((await store.getHead('bkt', 'large'))?.crc32, zlib.crc32(large), 'client write, large, in pieces: the same')

  for (const [name, body] of [['small', small], ['large', large]] as const) {
    // Corrupted on the way (or rotted at the source) after its checksum was
    // taken: the etag sent fits the bad bytes, the checksum does not. An
    // etag check alone would store it.
    const bad = Buffer.from(body)
    bad[bad.length >> 1] ^= 0x10
    const version = { size: bad.length, etag: md5(bad), mtime: 5, site: 'B' }
    await t.rejects(store.applyReplicaObjects('bkt', [{ key: `bad-${name}`, version, crc32: zlib.crc32(body), data: [bad.subarray(0, 100), bad.subarray(100)] }]),
      { code: 'UPSTREAM_UNAVAILABLE' }, `${name}: content that does not match the source's checksum is refused`)
    t.equal(await store.getHead('bkt', `bad-${name}`), undefined, `${name}: nothing stored`)

    // The checksum matches: stored, with the etag as the source gave it.
    const good = await store.applyReplicaObjects('bkt', [{ key: `good-${name}`, version: { size: body.length, etag: md5(body), mtime: 5, site: 'B' }, crc32: zlib.crc32(body), data: [body] }])
    t.ok(good[0].applied, `${name}: matching content is applied`)
    t.match(await store.getHead('bkt', `good-${name}`), { etag: md5(body), crc32: zlib.crc32(body) }, `${name}: etag and checksum kept`)

    // A source that has no checksum (objects stored before they were kept):
    // the etag is checked, and the checksum is computed here.
    await t.rejects(store.applyReplicaObjects('bkt', [{ key: `old-bad-${name}`, version: { ...version, etag: md5(body) }, data: bad }]),
      { code: 'UPSTREAM_UNAVAILABLE' }, `${name}, no checksum sent: checked against the etag`)
    const old = await store.applyReplicaObjects('bkt', [{ key: `old-${name}`, version: { size: body.length, etag: md5(body), mtime: 5, site: 'B' }, data: Buffer.from(body) }])
    t.ok(old[0].applied, `${name}, no checksum sent: matching content is applied`)
    t.equal((await store.getHead('bkt', `old-${name}`))?.crc32, zlib.crc32(body), `${name}, no checksum sent: the head gets one`)
  }
  t.ok((await readAll(store, 'good-large')).equals(large), 'the replicated large object reads back whole')
  await store.blobs.settled()
  t.equal(blobFiles(dir).size, 3, 'one file per large object stored, none for the refused ones')
  t.same(await markers(db), [], 'no marker left')
})
