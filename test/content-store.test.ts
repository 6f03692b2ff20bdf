/**
 * Small objects' content in a LevelDB of its own (storage/content-store.ts),
 * over two real LevelDBs in one process: reads and writes through
 * ObjectStore, then each crash window of a commit (content written ahead,
 * commit batch durable or not, settle not yet written) made by hand, and
 * the recovery at the next open. Also the move of chunks a former layout
 * kept in the main database, and the order of data ids.
 * A recovery that kept an orphan chunk, or dropped a chunk a head names,
 * fails here.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import t, { type Test } from 'tap'
import { CONTENT_DIR, ContentStore } from '../storage/content-store'
import { openDatabase, writeBatch, type BatchOp, type Database } from '../storage/database'
import * as keys from '../storage/keys'
import { ObjectStore } from '../storage/object-store'
import type { ObjectHead } from '../storage/records'
import { formatDataId } from '../storage/upload'

const OPTS = { siteId: 'A', maxObjectBytes: 1 << 20, defaults: { initialShards: 2, splitThreshold: 1_000_000, autoSplit: false } }

interface Opened { store: ObjectStore, db: Database, content: Database }

async function openDir (dir: string): Promise<Opened> {
  const db = await openDatabase(dir)
  const content = await openDatabase(path.join(dir, CONTENT_DIR))
  const store = await ObjectStore.open(db, { ...OPTS, contentDb: content })
  return { store, db, content }
}

async function closeAll (o: Opened): Promise<void> {
  o.store.close()
  await o.store.content.flush()
  await o.content.close()
  await o.db.close()
}

/** As a kill leaves it: the databases closed under the store, nothing settled or flushed. */
async function closeUnderStore (o: Opened): Promise<void> {
  o.store.close()
  await o.content.close()
  await o.db.close()
}

function scratch (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-content-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function keysOf (db: Database, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const k of db.keys(keys.prefixRange(prefix))) out.push(k)
  return out
}

async function read (store: ObjectStore, key: string): Promise<Buffer> {
  const head = await store.headObject('bkt', key)
  const parts: Buffer[] = []
  for await (const p of store.readChunks(head)) parts.push(p)
  return Buffer.concat(parts)
}

async function head (o: Opened, bucketId: string, key: string): Promise<ObjectHead> {
  return await o.db.get(keys.headKey(bucketId, key)) as ObjectHead
}

t.test('content goes to the content database; overwrites and deletes leave no chunk behind', async (t) => {
  const dir = scratch(t)
  let o = await openDir(dir)
  const { id } = await o.store.createBucket({ name: 'bkt' })
  const bodies = new Map<string, Buffer>()
  for (let i = 0; i < 50; i++) {
    const b = crypto.randomBytes(100 + i)
    bodies.set(`k${i}`, b)
    await o.store.putObject('bkt', `k${i}`, b)
  }
  for (let i = 0; i < 20; i++) {
    const b = crypto.randomBytes(300)
    bodies.set(`k${i}`, b)
    await o.store.putObject('bkt', `k${i}`, b)
  }
  for (let i = 40; i < 50; i++) {
    await o.store.deleteObject('bkt', `k${i}`)
    bodies.delete(`k${i}`)
  }
  t.same(await keysOf(o.db, keys.CHUNKS_PREFIX), [], 'no chunk in the main database')
  for (const [k, b] of bodies) t.ok((await read(o.store, k)).equals(b), `${k} reads back`)
  await o.store.content.flush()
  const live = new Set<string>()
  for (const k of bodies.keys()) live.add(keys.chunkKey((await head(o, id, k)).dataId as string, 0))
  t.same((await keysOf(o.content, keys.CHUNKS_PREFIX)).filter(k => !live.has(k)), [], 'after the settle: every chunk is a live head\'s')
  t.equal((await keysOf(o.content, keys.CHUNKS_PREFIX)).length, live.size, 'and every live head has its chunk')
  t.same(await keysOf(o.db, keys.INTENTS_PREFIX), [], 'no intent left after flush')
  t.same(await o.content.keys().all(), await keysOf(o.content, keys.CHUNKS_PREFIX), 'the content database holds chunks only')
  await closeAll(o)
  o = await openDir(dir)
  for (const [k, b] of bodies) t.ok((await read(o.store, k)).equals(b), `${k} reads back after reopen`)
  await closeAll(o)
})

t.test('crash after the write ahead, before the commit batch: the new chunks go, the old stay', async (t) => {
  const dir = scratch(t)
  let o = await openDir(dir)
  const { id } = await o.store.createBucket({ name: 'bkt' })
  const v1 = crypto.randomBytes(500)
  await o.store.putObject('bkt', 'obj', v1)
  const old = await head(o, id, 'obj')
  // The write ahead of an overwrite that never committed (the process died).
  const chunk: BatchOp = { type: 'put', key: keys.chunkKey('new-version', 0), value: crypto.randomBytes(500), valueEncoding: 'buffer' } as BatchOp
  await o.store.content.writeAhead([['new-version', 1]], [[old.dataId as string, 1]], [chunk])
  t.equal((await keysOf(o.db, keys.INTENTS_PREFIX)).length, 1, 'an intent is on disk')
  t.ok(Buffer.isBuffer(await o.content.get(keys.chunkKey('new-version', 0), { valueEncoding: 'buffer' })), 'and the new chunk')
  await closeUnderStore(o)
  o = await openDir(dir)
  t.same(await keysOf(o.db, keys.INTENTS_PREFIX), [], 'the open settled the intent')
  t.equal(await o.content.get(keys.chunkKey('new-version', 0), { valueEncoding: 'buffer' }), undefined, 'the uncommitted version\'s chunk is gone')
  t.ok((await read(o.store, 'obj')).equals(v1), 'the committed version still reads back')
  await closeAll(o)
})

t.test('crash after the commit batch, before the settle: the old chunks go, the new stay', async (t) => {
  const dir = scratch(t)
  let o = await openDir(dir)
  const { id } = await o.store.createBucket({ name: 'bkt' })
  await o.store.putObject('bkt', 'obj', crypto.randomBytes(500))
  await o.store.putObject('bkt', 'gone', crypto.randomBytes(500))
  await o.store.content.flush()
  const old = await head(o, id, 'obj')
  const oldGone = await head(o, id, 'gone')
  const v2 = crypto.randomBytes(700)
  const chunk: BatchOp = { type: 'put', key: keys.chunkKey('v2', 0), value: v2, valueEncoding: 'buffer' } as BatchOp
  const intent = await o.store.content.writeAhead([['v2', 1]], [[old.dataId as string, 1], [oldGone.dataId as string, 1]], [chunk])
  // The commit batch landed: obj names v2, gone is a tombstone. No settle.
  await writeBatch(o.db, [
    { type: 'put', key: keys.headKey(id, 'obj'), value: { ...old, size: v2.length, dataId: 'v2', etag: crypto.createHash('md5').update(v2).digest('hex') } },
    { type: 'put', key: keys.headKey(id, 'gone'), value: { size: 0, etag: '', mtime: oldGone.mtime + 1, site: 'A', chunks: 0, deleted: true } },
    ...o.store.content.commitOps(intent)
  ])
  // Kill before the settle.
  await closeUnderStore(o)
  o = await openDir(dir)
  t.same(await keysOf(o.db, keys.INTENTS_PREFIX), [], 'the open settled the intent')
  t.equal(await o.content.get(keys.chunkKey(old.dataId as string, 0), { valueEncoding: 'buffer' }), undefined, 'the replaced version\'s chunk is gone')
  t.equal(await o.content.get(keys.chunkKey(oldGone.dataId as string, 0), { valueEncoding: 'buffer' }), undefined, 'the deleted object\'s chunk is gone')
  const got = await o.content.get(keys.chunkKey('v2', 0), { valueEncoding: 'buffer' }) as unknown as Buffer
  t.ok(Buffer.isBuffer(got) && got.equals(v2), 'the committed version\'s chunk stays')
  await closeAll(o)
})

t.test('a commit batch that fails leaves its intent, and the next open removes the chunks it added', async (t) => {
  const dir = scratch(t)
  let o = await openDir(dir)
  await o.store.createBucket({ name: 'bkt' })
  const v1 = crypto.randomBytes(300)
  await o.store.putObject('bkt', 'obj', v1)
  await o.store.content.flush()
  const chunksBefore = await keysOf(o.content, keys.CHUNKS_PREFIX)
  const realBatch = o.db.batch.bind(o.db)
  // The next commit batch of the main database fails (intent writes still work).
  o.db.batch = ((...args: unknown[]) => {
    if (args.length > 0) return realBatch(...(args as [])) as never
    const b = realBatch()
    const write = b.write.bind(b)
    b.write = async () => {
      if ((b as unknown as { length: number }).length > 1) { await b.close(); throw new Error('disk full') }
      return await write()
    }
    return b
  }) as typeof o.db.batch
  await t.rejects(o.store.putObject('bkt', 'obj', crypto.randomBytes(500)))
  o.db.batch = realBatch
  t.equal((await keysOf(o.db, keys.INTENTS_PREFIX)).length, 1, 'the intent stays')
  await closeAll(o)
  o = await openDir(dir)
  t.same(await keysOf(o.content, keys.CHUNKS_PREFIX), chunksBefore, 'the open removed the chunk the failed commit added')
  t.same(await keysOf(o.db, keys.INTENTS_PREFIX), [], 'and the intent')
  t.ok((await read(o.store, 'obj')).equals(v1), 'the committed version reads back')
  await closeAll(o)
})

t.test('chunks of a former layout move from the main database at open', async (t) => {
  const dir = scratch(t)
  let o = await openDir(dir)
  const { id } = await o.store.createBucket({ name: 'bkt' })
  const bodies: Buffer[] = []
  for (let i = 0; i < 1200; i++) {
    bodies.push(crypto.randomBytes(64))
    await o.store.putObject('bkt', `k${i}`, bodies[i])
  }
  await closeAll(o)
  // Make it the former layout: every chunk in the main database only, and
  // a few also in the content database (a move the process did not finish).
  const db = await openDatabase(dir)
  const content = await openDatabase(path.join(dir, CONTENT_DIR))
  const chunks = await content.iterator({ ...keys.prefixRange(keys.CHUNKS_PREFIX), valueEncoding: 'buffer' }).all() as Array<[string, Buffer]>
  t.equal(chunks.length, 1200)
  await writeBatch(db, chunks.map(([key, value]) => ({ type: 'put', key, value, valueEncoding: 'buffer' }) as BatchOp))
  await writeBatch(content, chunks.slice(5).map(([key]) => ({ type: 'del', key }) as BatchOp))
  await content.close()
  await db.close()
  o = await openDir(dir)
  t.same(await keysOf(o.db, keys.CHUNKS_PREFIX), [], 'none left in the main database')
  t.equal((await keysOf(o.content, keys.CHUNKS_PREFIX)).length, 1200, 'all in the content database')
  const bad: number[] = []
  for (let i = 0; i < 1200; i++) if (!(await read(o.store, `k${i}`)).equals(bodies[i])) bad.push(i)
  t.same(bad, [], 'every object reads back')
  t.ok((await head(o, id, 'k0')).dataId !== undefined)
  await closeAll(o)
})

t.test('a store over one database keeps content there, with the same intents', async (t) => {
  const dir = scratch(t)
  const db = await openDatabase(dir)
  const store = await ObjectStore.open(db, OPTS)
  t.teardown(async () => { store.close(); await store.content.flush(); await db.close() })
  t.equal(store.content.separate, false)
  await store.createBucket({ name: 'bkt' })
  const b = crypto.randomBytes(256)
  await store.putObject('bkt', 'x', b)
  await store.putObject('bkt', 'x', b)
  t.ok((await read(store, 'x')).equals(b))
  await store.content.flush()
  t.equal((await keysOf(db, keys.CHUNKS_PREFIX)).length, 1, 'one chunk: the overwritten one was dropped')
  t.same(await keysOf(db, keys.INTENTS_PREFIX), [])
})

t.test('data ids ascend in byte order: within a process, and from a process that starts later', async (t) => {
  const ids: string[] = []
  for (const start of [1_700_000_000_000, 1_700_000_000_001]) {
    for (const n of [0, 1, 9, 10, 35, 36, 1295, 1296, 46655, 46656, 2 ** 31, 2 ** 40]) ids.push(formatDataId(start, 'beef', n))
  }
  t.same([...ids].sort(), ids, 'sorted as made')
  t.ok(ids.every(id => /^[0-9a-z]+$/.test(id) && id.length === ids[0].length), 'one width, no separator characters')
})

t.test('ContentStore.recover on an empty database does nothing', async (t) => {
  const dir = scratch(t)
  const db = await openDatabase(dir)
  const content = await openDatabase(path.join(dir, CONTENT_DIR))
  t.teardown(async () => { await content.close(); await db.close() })
  t.same(await new ContentStore(content, db).recover(), { migrated: 0, intents: 0 })
})

t.test('intents in the form nodes wrote before 68b8e7b ([key, dataId, chunks] and a bucket id) are settled at open', async (t) => {
  const dir = scratch(t)
  const db = await openDatabase(dir)
  const content = await openDatabase(path.join(dir, CONTENT_DIR))
  t.teardown(async () => { await content.close(); await db.close() })
  const chunk = (id: string, c: number): BatchOp => ({ type: 'put', key: keys.chunkKey(id, c), value: Buffer.from('x'), valueEncoding: 'buffer' } as BatchOp)
  await writeBatch(content, [chunk('added', 0), chunk('added', 1), chunk('dropped', 0), chunk('kept', 0)])
  await writeBatch(db, [
    { type: 'put', key: keys.intentKey(0), value: { b: 'bkt1', a: [['k1', 'added', 2]], d: [['k2', 'kept', 1]] } },
    { type: 'put', key: keys.intentKey(1), value: { b: 'bkt1', d: [['k3', 'dropped', 1]], c: true } }
  ])
  t.same(await new ContentStore(content, db).recover(), { migrated: 0, intents: 2 })
  t.same(await keysOf(content, keys.CHUNKS_PREFIX), [keys.chunkKey('kept', 0)], 'not committed: its added chunks went; committed: its dropped chunk went')
  t.same(await keysOf(db, keys.INTENTS_PREFIX), [], 'both intents settled')
})
