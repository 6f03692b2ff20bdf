/**
 * The key-filter change of scripts/build-leveldb.js (change 5): an open
 * option chooses which keys the tables' Bloom filters cover, so that keys
 * never read by key (index and log entries, storage/keys.ts) cost no filter
 * memory, and the content database none at all.
 *
 * Real LevelDB through storage/database.ts: four kinds of keys are written
 * and compacted into tables, whose files are then read (test/leveldb-tables.ts).
 * - The filters skip what they are told to: with 'il' skipped, half the
 *   keys here, the filter blocks are about half as large as stock ones; with
 *   'none' there are none. On the stock binary (the option ignored) both fail.
 * - Every key is found and no absent key is, whatever policy a database is
 *   opened with after its tables were written by another. That holds only
 *   because the policy's name, which LevelDB looks filters up by, names the
 *   skipped characters: under a name shared with the stock filter, a stock
 *   open would check index keys against a filter that never held them, and
 *   miss them.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { levelOptions, openDatabase, type Database, type KeyFilter } from '../storage/database'
import { SCANNED_KEY_KINDS } from '../storage/keys'
import { needsPatch } from './leveldb-build'
import { databaseTables } from './leveldb-tables'

const ROOT = path.join(__dirname, '..', '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { patchKeyFilter, PATCH_ID } = require(path.join(ROOT, 'scripts', 'build-leveldb.js')) as { patchKeyFilter: (s: string) => string, PATCH_ID: string }

const PER_KIND = 4000
const patched = needsPatch('key-filter')
const KINDS = ['h', 'i', 'l', 's']
const key = (kind: string, i: number): string => `${kind}!bucket!${String(i).padStart(8, '0')}`

async function filled (t: Test, keyFilter: KeyFilter): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-filter-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const db = await openDatabase(dir, { keyFilter })
  const value = 'v'.repeat(100)
  for (const kind of KINDS) {
    const ops = []
    for (let i = 0; i < PER_KIND; i++) ops.push({ type: 'put' as const, key: key(kind, i), value })
    await db.batch(ops)
  }
  // classic-level's own method, not in the Level type: every key into tables.
  await (db as unknown as { compactRange: (from: string, to: string) => Promise<void> }).compactRange('a', 'z')
  await db.close()
  return dir
}

/** Every written key is there and none of the absent ones, read one by one and with getMany. */
async function readsAll (t: Test, db: Database, what: string): Promise<void> {
  let found = 0
  let phantom = 0
  for (const kind of KINDS) {
    const present = Array.from({ length: PER_KIND }, (_, i) => key(kind, i))
    const absent = Array.from({ length: PER_KIND }, (_, i) => key(kind, i) + 'x')
    for (const v of await db.getMany(present)) if (v !== undefined) found++
    for (const v of await db.getMany(absent)) if (v !== undefined) phantom++
    for (let i = 0; i < PER_KIND; i += 97) if (await db.get(present[i]) === undefined) found--
  }
  // Between the index and log entries: in tables whose blocks hold only
  // skipped keys, whose filters are empty under 'skip:il'.
  for (const v of await db.getMany(Array.from({ length: PER_KIND }, (_, i) => key('j', i)))) if (v !== undefined) phantom++
  t.equal(found, KINDS.length * PER_KIND, `${what}: every key found`)
  t.equal(phantom, 0, `${what}: no absent key found`)
}

t.test('the main database\'s filters leave out the keys that are only scanned', { skip: patched }, async (t) => {
  const stock = databaseTables(await filled(t, 'all'))
  const skipping = databaseTables(await filled(t, { skipFirstChars: SCANNED_KEY_KINDS }))
  t.ok(stock.tables > 0 && skipping.tables > 0, 'tables were written')
  t.same(stock.filterNames, ['leveldb.BuiltinBloomFilter2'])
  t.same(skipping.filterNames, [`shardsync.SkipBloom10:${SCANNED_KEY_KINDS}`], 'the policy names what it skips')
  // 10 bits a key: 16,000 keys make about 20 KB of filters, 8,000 about 10.
  const ratio = skipping.filterBytes / stock.filterBytes
  t.ok(ratio > 0.4 && ratio < 0.6, `filters ${skipping.filterBytes} against ${stock.filterBytes} bytes (${ratio.toFixed(2)}): two kinds of four left out`)
  t.equal(skipping.indexBytes, stock.indexBytes, 'the index is the same')
})

t.test('a database without filters writes none', { skip: patched }, async (t) => {
  const none = databaseTables(await filled(t, 'none'))
  t.ok(none.tables > 0)
  t.equal(none.filterBytes, 0)
  t.same(none.filterNames, [])
})

t.test('reads find the same keys whichever policy wrote the tables and whichever reads them', async (t) => {
  const filters: KeyFilter[] = ['all', 'none', { skipFirstChars: SCANNED_KEY_KINDS }, { skipFirstChars: 'hs' }]
  const name = (f: KeyFilter): string => typeof f === 'string' ? f : `skip ${f.skipFirstChars}`
  for (const written of filters) {
    const dir = await filled(t, written)
    for (const read of filters) {
      const db = await openDatabase(dir, { keyFilter: read })
      await readsAll(t, db, `written with ${name(written)}, read with ${name(read)}`)
      await db.close()
    }
  }
})

t.test('options: the binding gets a spec only for a filter other than the default', async (t) => {
  t.same(levelOptions({ keyFilter: 'all' }), {})
  t.same(levelOptions({ keyFilter: 'none' }), { shardsyncKeyFilter: 'none' })
  t.same(levelOptions({ keyFilter: { skipFirstChars: 'il' } }), { shardsyncKeyFilter: 'skip:il' })
  t.throws(() => levelOptions({ keyFilter: { skipFirstChars: '' } }), TypeError)
  t.throws(() => levelOptions({ keyFilter: { skipFirstChars: 'é' } }), TypeError)
})

t.test('the installed binding carries the patch, and patchKeyFilter is idempotent', { skip: patched }, async (t) => {
  const dir = path.dirname(require.resolve('classic-level/package.json'))
  const source = fs.readFileSync(path.join(dir, 'binding.cc'), 'utf8')
  t.equal(patchKeyFilter(source), source, 'already patched: nothing to change')
  t.match(source, /shardsync \(key-filter-1\)/)
  t.match(PATCH_ID, /key-filter-1/)
  const marker = JSON.parse(fs.readFileSync(path.join(dir, 'build', 'shardsync-leveldb.json'), 'utf8')) as { patch: string }
  t.equal(marker.patch, PATCH_ID, 'the binary was built with this patch set')
})

t.test('patchKeyFilter refuses a source it was not written for', async (t) => {
  t.throws(() => patchKeyFilter('struct Database {};'))
})
