/**
 * The LevelDB a clean install runs reads table files with pread, not mmap
 * (scripts/build-leveldb.js rebuilds classic-level at postinstall). Mapped
 * tables count in a node's RSS, which then grows with the bucket.
 *
 * Each case runs a fresh Node process, since LevelDB reads its mmap limit
 * once per process: it fills a real LevelDB until tables are on disk, reads
 * every key back, then counts its own mappings of those tables in
 * /proc/self/maps, and what storage/database.ts reports (the metric
 * shardsync_db_mapped_table_files and the start-up log). With the stock
 * prebuilt binary the default case maps tables and fails.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { leveldbTableReads } from '../storage/database'
import { needsPatch } from './leveldb-build'

const ROOT = path.join(__dirname, '..', '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { patchEnvPosix } = require(path.join(ROOT, 'scripts', 'build-leveldb.js')) as { patchEnvPosix: (s: string) => string }

const CHILD = `
const fs = require('node:fs')
const path = require('node:path')
const { Level } = require('level')
const database = require(path.join(process.argv[2], 'dist', 'storage', 'database.js'))
;(async () => {
  const dir = process.argv[1]
  const db = new Level(dir, { valueEncoding: 'buffer' })
  await db.open()
  const value = Buffer.alloc(2048, 7)
  for (let i = 0; i < 6000; i += 500) {
    const batch = db.batch()
    for (let j = i; j < i + 500; j++) batch.put('k' + String(j).padStart(6, '0'), value)
    await batch.write()
  }
  await db.compactRange('k', 'l')
  let found = 0
  for (let i = 0; i < 6000; i += 7) if ((await db.get('k' + String(i).padStart(6, '0'))) !== undefined) found++
  const tables = fs.readdirSync(dir).filter(f => f.endsWith('.ldb')).length
  const mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter(l => l.includes(dir) && l.endsWith('.ldb')).length
  const counted = database.mappedTableFiles(dir)
  await db.close()
  process.stdout.write(JSON.stringify({ found, tables, mapped, counted, reads: database.leveldbTableReads() }))
})().catch(err => { console.error(err); process.exit(1) })
`

function mappedTables (env: NodeJS.ProcessEnv): { found: number, tables: number, mapped: number, counted: number, reads: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-reads-'))
  try {
    const r = spawnSync(process.execPath, ['-e', CHILD, dir, ROOT], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 })
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`)
    return JSON.parse(r.stdout)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const linux = process.platform === 'linux'
const patched = needsPatch('mmap-limit-env')

t.test('table files are read, not mapped, by default', { skip: !linux ? 'reads /proc/self/maps' : patched }, async (t) => {
  const env = { ...process.env }
  delete env.LEVELDB_MMAP_LIMIT
  const r = mappedTables(env)
  t.equal(r.found, Math.ceil(6000 / 7), 'every key read back')
  t.ok(r.tables > 0, `tables on disk (${r.tables})`)
  t.equal(r.mapped, 0, 'no table file mapped into the process')
  t.equal(r.counted, 0, 'mappedTableFiles (the metric) agrees')
  t.equal(r.reads, 'pread', 'leveldbTableReads (the start-up log) says pread')
})

t.test('LEVELDB_MMAP_LIMIT=1000 maps them again (upstream behaviour)', { skip: linux ? false : 'reads /proc/self/maps' }, async (t) => {
  const r = mappedTables({ ...process.env, LEVELDB_MMAP_LIMIT: '1000' })
  t.equal(r.found, Math.ceil(6000 / 7), 'every key read back')
  t.ok(r.mapped > 0, `tables mapped (${r.mapped})`)
  t.ok(r.counted > 0 && r.counted <= r.mapped, `mappedTableFiles counts each mapped file once (${r.counted})`)
  t.equal(r.reads, 'mmap', 'leveldbTableReads says mmap')
})

t.test('the installed LevelDB source carries the patch, and patching is idempotent', { skip: patched }, async (t) => {
  const file = path.join(path.dirname(require.resolve('classic-level/package.json')), 'deps', 'leveldb', 'leveldb-1.20', 'util', 'env_posix.cc')
  const source = fs.readFileSync(file, 'utf8')
  t.equal(patchEnvPosix(source), source, 'already patched: nothing to change')
  t.match(source, /getenv\("LEVELDB_MMAP_LIMIT"\)/)
  // What the start-up log reports, read as the patched LevelDB reads it (atoi).
  t.equal(leveldbTableReads({}), 'pread')
  t.equal(leveldbTableReads({ LEVELDB_MMAP_LIMIT: '0' }), 'pread')
  t.equal(leveldbTableReads({ LEVELDB_MMAP_LIMIT: 'no' }), 'pread', 'atoi("no") is 0')
  t.equal(leveldbTableReads({ LEVELDB_MMAP_LIMIT: '1000' }), 'mmap')
})

t.test('patchEnvPosix replaces the one default and refuses an unknown source', async (t) => {
  const original = 'static int MaxMmaps() {\n  // Up to 1000 mmaps\n  mmap_limit = sizeof(void*) >= 8 ? 1000 : 0;\n  return mmap_limit;\n}\n'
  const patched = patchEnvPosix(original)
  t.notMatch(patched, /sizeof\(void\*\) >= 8 \? 1000 : 0/)
  t.match(patched, /mmap_limit = limit != NULL \? atoi\(limit\) : 0;/)
  t.equal(patchEnvPosix(patched), patched)
  t.throws(() => patchEnvPosix('static int MaxMmaps() { return 1000; }'))
  t.throws(() => patchEnvPosix(original + original), 'the default twice: ambiguous')
})
