/**
 * A written chained batch gives its buffer back at once (the batch-release
 * patch of scripts/build-leveldb.js). Stock classic-level frees it only
 * when V8 collects the JS batch object, which holds no hint of its size, so
 * a group commit's megabytes could stay allocated until the next major
 * collection (7 MiB at a full-sync target's peak, measured with heaptrack).
 *
 * A fresh Node process writes one 48 MiB chained batch to a real LevelDB,
 * keeps the batch object referenced (so that no collection can free it the
 * stock way), and reports its anonymous RSS (/proc/self/status) before,
 * once the batch is built, and once it is written. Written, the data sits
 * in the memtable, one copy; the batch's buffer must be gone. With the
 * stock binary both copies are resident (measured: +49 MiB built, +97 MiB
 * written; patched, +49 and +49), and the test fails.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { needsPatch } from './leveldb-build'

const ROOT = path.join(__dirname, '..', '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { patchBinding } = require(path.join(ROOT, 'scripts', 'build-leveldb.js')) as { patchBinding: (s: string) => string }

const MIB = 2 ** 20
const patched = needsPatch('batch-release')
const BATCH_MIB = 48

const CHILD = `
const fs = require('node:fs')
const { Level } = require('level')
const anon = () => Number(/RssAnon:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
;(async () => {
  const db = new Level(process.argv[1], { valueEncoding: 'buffer' })
  await db.open()
  const value = Buffer.alloc(${MIB}, 7)
  const before = anon()
  const batch = db.batch()
  for (let i = 0; i < ${BATCH_MIB}; i++) batch.put('k' + String(i).padStart(4, '0'), value)
  const built = anon()
  await batch.write()
  const written = anon()
  const found = (await db.get('k0047')).length
  globalThis.keep = batch
  await db.close()
  process.stdout.write(JSON.stringify({ before, built, written, found }))
})().catch(err => { console.error(err); process.exit(1) })
`

t.test('a written chained batch gives its buffer back at once', { skip: process.platform !== 'linux' ? 'reads /proc/self/status' : patched }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-batch-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const r = spawnSync(process.execPath, ['-e', CHILD, dir], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0, `child ran: ${r.stderr}`)
  const m = JSON.parse(r.stdout) as { before: number, built: number, written: number, found: number }
  t.equal(m.found, MIB, 'the batch was written')
  const built = m.built - m.before
  const written = m.written - m.before
  // Sanity: the batch really holds its data natively while it is built.
  t.ok(built >= (BATCH_MIB - 8) * MIB, `building the batch took ${(built / MIB).toFixed(1)} MiB`)
  t.ok(written < 1.5 * built, `written, ${(written / MIB).toFixed(1)} MiB are held: the memtable's copy only, though the batch object is still referenced`)
})

t.test('the installed binding carries the patch, and patchBinding is idempotent', { skip: patched }, async (t) => {
  const file = path.join(path.dirname(require.resolve('classic-level/package.json')), 'binding.cc')
  const source = fs.readFileSync(file, 'utf8')
  t.equal(patchBinding(source), source, 'already patched: nothing to change')
  t.match(source, /shardsync \(batch-release-1\)/)
})

t.test('patchBinding replaces Batch::Write once and refuses an unknown source', async (t) => {
  const original = 'struct Batch {\n  leveldb::Status Write (bool sync) {\n    leveldb::WriteOptions options;\n    options.sync = sync;\n    return database_->WriteBatch(options, batch_);\n  }\n\n};\n'
  const patched = patchBinding(original)
  t.match(patched, /delete batch_;\n {4}batch_ = new leveldb::WriteBatch\(\);/)
  t.match(patched, /return status;/)
  t.equal(patchBinding(patched), patched)
  t.throws(() => patchBinding('struct Batch {};'))
  t.throws(() => patchBinding(original + original), 'Batch::Write twice: ambiguous')
})
