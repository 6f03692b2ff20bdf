/**
 * storage/database.ts writeBatch over a real LevelDB: it must mean exactly
 * what `db.batch(ops)` means, since every state change goes through it.
 * All ops or none; a per-op valueEncoding ('buffer' for data chunks) kept;
 * dels and puts of one key applied in order.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { openDatabase, writeBatch, type BatchOp, type Database } from '../storage/database'

async function open (t: Test): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-batch-'))
  const db = await openDatabase(dir)
  t.teardown(async () => {
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return db
}

async function all (db: Database): Promise<Array<[string, unknown]>> {
  const out: Array<[string, unknown]> = []
  for await (const entry of db.iterator()) out.push(entry)
  return out
}

t.test('puts JSON values and raw bytes, and deletes, in one batch', async (t) => {
  const db = await open(t)
  await db.put('k!gone', { old: true })
  const bytes = Buffer.from([0, 1, 2, 250, 255])
  await writeBatch(db, [
    { type: 'put', key: 'k!json', value: { size: 5, site: 'A' } },
    { type: 'put', key: 'k!bytes', value: bytes, valueEncoding: 'buffer' } as BatchOp,
    { type: 'del', key: 'k!gone' }
  ])
  t.same(await db.get('k!json'), { size: 5, site: 'A' })
  const raw = await db.get('k!bytes', { valueEncoding: 'buffer' }) as unknown as Buffer
  t.ok(Buffer.isBuffer(raw) && raw.equals(bytes), 'bytes stored as they are, not as JSON')
  t.equal(await db.get('k!gone'), undefined)
})

t.test('later ops on the same key win, as in db.batch', async (t) => {
  const db = await open(t)
  await writeBatch(db, [
    { type: 'put', key: 'k!a', value: 1 },
    { type: 'del', key: 'k!a' },
    { type: 'put', key: 'k!b', value: 1 },
    { type: 'put', key: 'k!b', value: 2 }
  ])
  t.same(await all(db), [['k!b', 2]])
})

t.test('an op that cannot be written rejects the whole batch; nothing is stored', async (t) => {
  const db = await open(t)
  await db.put('k!keep', 'before')
  const ops = [
    { type: 'put', key: 'k!first', value: 'x' },
    { type: 'del', key: 'k!keep' },
    { type: 'put', key: 'k!bad', value: undefined }
  ] as BatchOp[]
  await t.rejects(writeBatch(db, ops), { code: 'LEVEL_INVALID_VALUE' })
  t.same(await all(db), [['k!keep', 'before']], 'neither the put nor the del before the bad op')
  // The db is still usable afterwards.
  await writeBatch(db, [{ type: 'put', key: 'k!after', value: 1 }])
  t.same(await db.get('k!after'), 1)
})

t.test('an op of unknown type rejects the whole batch, as in db.batch', async (t) => {
  const db = await open(t)
  await db.put('k!keep', 'before')
  const ops = [{ type: 'put', key: 'k!first', value: 'x' }, { type: 'delete', key: 'k!keep' }] as unknown as BatchOp[]
  await t.rejects(db.batch(ops), TypeError, 'db.batch refuses it')
  await t.rejects(writeBatch(db, ops), TypeError, 'so does writeBatch')
  t.same(await all(db), [['k!keep', 'before']], 'nothing written')
})

t.test('an empty batch writes nothing', async (t) => {
  const db = await open(t)
  await writeBatch(db, [])
  t.same(await all(db), [])
})
