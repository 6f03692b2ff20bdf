/**
 * LevelDB computes CRC-32C with the SSE 4.2 instruction (the crc32c-sse42
 * patch of scripts/build-leveldb.js), and its checksums are the numbers
 * stock LevelDB computes, so the files it writes are the same format.
 *
 * The format check goes through the write-ahead log: LevelDB checks every
 * log record's CRC-32C when it replays the log at open, and drops records
 * whose checksum does not match. One process writes keys with one binary
 * and closes (the keys stay in the log, not yet in a table); another opens
 * the directory with the other binary and counts them: the installed build
 * against classic-level's stock prebuilt binary (table-driven CRC-32C), in
 * both directions. The control flips one byte of a log record: replay then
 * loses keys, which shows that a checksum that differed would be caught.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { needsPatch } from './leveldb-build'

const ROOT = path.join(__dirname, '..', '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { patchCrc32c } = require(path.join(ROOT, 'scripts', 'build-leveldb.js')) as { patchCrc32c: (s: string) => string }

const LEVEL_DIR = path.dirname(require.resolve('classic-level/package.json'))
const STOCK = path.join(LEVEL_DIR, 'prebuilds', 'linux-x64', 'classic-level.node')
const KEYS = 2000

// argv: binary ('stock' | 'installed'), 'write' | 'count', directory.
const CHILD = `
if (process.argv[1] === 'stock') {
  const file = require.resolve('classic-level/binding.js')
  require.cache[file] = { id: file, filename: file, loaded: true, exports: require(${JSON.stringify(STOCK)}) }
}
const { Level } = require('level')
// The binary this process really loaded, from its memory map.
const loaded = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').filter(l => /classic[-_]level[^/]*\\.node$/.test(l)).map(l => l.split(/\\s+/).pop())
;(async () => {
  const db = new Level(process.argv[3])
  await db.open()
  if (process.argv[2] === 'write') {
    for (let i = 0; i < ${KEYS}; i += 100) {
      const batch = db.batch()
      for (let j = i; j < i + 100; j++) batch.put('key' + String(j).padStart(5, '0'), 'value ' + j + ' '.repeat(100))
      await batch.write()
    }
    await db.close()
    process.stdout.write(JSON.stringify({ loaded: [...new Set(loaded)] }))
  } else {
    let n = 0
    for await (const [k, v] of db.iterator()) if (v === 'value ' + Number(k.slice(3)) + ' '.repeat(100)) n++
    await db.close()
    process.stdout.write(JSON.stringify({ n, loaded: [...new Set(loaded)] }))
  }
})().catch(err => { console.error(err); process.exit(1) })
`

const INSTALLED = path.join(LEVEL_DIR, 'build', 'Release', 'classic_level.node')

function run (binary: 'stock' | 'installed', op: 'write' | 'count', dir: string): { n?: number } {
  const r = spawnSync(process.execPath, ['-e', CHILD, binary, op, dir], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0) throw new Error(`${binary} ${op} failed: ${r.stderr}`)
  const out = JSON.parse(r.stdout) as { n?: number, loaded: string[] }
  // The stock run must not have loaded the installed build, nor the reverse.
  const want = binary === 'stock' ? STOCK : INSTALLED
  if (out.loaded.length !== 1 || fs.realpathSync(out.loaded[0]) !== fs.realpathSync(want)) throw new Error(`${binary} ${op} loaded ${out.loaded.join(', ')}`)
  return out
}

function logFile (dir: string): string {
  const logs = fs.readdirSync(dir).filter(f => f.endsWith('.log')).map(f => path.join(dir, f))
  return logs.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]
}

const x64Linux = process.platform === 'linux' && process.arch === 'x64'
const patched = needsPatch('crc32c-sse42')
const skip = !x64Linux ? 'the comparison binary is the linux-x64 prebuild' : !fs.existsSync(STOCK) ? 'no stock prebuilt binary to compare with' : patched

t.test('logs written by either binary replay whole with the other', { skip }, async (t) => {
  for (const [writer, reader] of [['stock', 'installed'], ['installed', 'stock'], ['installed', 'installed']] as const) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-crc-'))
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    run(writer, 'write', dir)
    t.ok(fs.statSync(logFile(dir)).size > 100 * 1024, `${writer}: the keys are in the log, not yet in a table`)
    t.equal(run(reader, 'count', dir).n, KEYS, `written by the ${writer} binary, every key replays with the ${reader} one`)
  }
})

t.test('control: a log record with one byte changed does not replay', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-crc-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  run('stock', 'write', dir)
  const file = logFile(dir)
  const bytes = fs.readFileSync(file)
  const at = Math.floor(bytes.length / 2)
  bytes[at] ^= 0x20
  fs.writeFileSync(file, bytes)
  const n = run('installed', 'count', dir).n as number
  t.ok(n < KEYS, `${KEYS - n} of ${KEYS} keys lost: the installed binary checks the log's CRC-32C`)
})

t.test('the installed binary computes CRC-32C with the SSE 4.2 instruction', { skip: !x64Linux ? 'built on x86-64 only' : patched }, async (t) => {
  const r = spawnSync('objdump', ['-d', INSTALLED], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (r.error !== undefined) {
    t.pass('objdump (binutils) is not installed: not checked')
    return
  }
  const crc = r.stdout.split('\n').filter(l => /\scrc32[bwlq]\s/.test(l)).length
  t.ok(crc > 0, `${crc} crc32 instructions in ${path.basename(INSTALLED)} (the stock prebuild has none)`)
})

t.test('the installed source carries the patch, and patchCrc32c is idempotent', { skip: process.platform === 'linux' || process.platform === 'darwin' ? patched : 'LevelDB is rebuilt on Linux and macOS only' }, async (t) => {
  const file = path.join(LEVEL_DIR, 'deps', 'leveldb', 'leveldb-1.20', 'port', 'port_posix_sse.cc')
  const source = fs.readFileSync(file, 'utf8')
  t.equal(patchCrc32c(source), source, 'already patched: nothing to change')
  t.match(source, /shardsync \(crc32c-sse42-1\)/)
  t.match(source, /SHARDSYNC_CRC32C_TARGET uint32_t AcceleratedCRC32C\(/)
})

t.test('patchCrc32c refuses a source it was not written for', async (t) => {
  t.throws(() => patchCrc32c('uint32_t AcceleratedCRC32C(uint32_t crc, const char* buf, size_t size) {\n'))
  t.throws(() => patchCrc32c('#include "port/port.h"\n'))
})
