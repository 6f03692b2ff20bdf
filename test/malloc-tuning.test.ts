/**
 * Loading LevelDB fixes glibc's mmap threshold at 128 KiB (the
 * mmap-threshold-1 patch of scripts/build-leveldb.js), so large buffers a
 * node frees go back to the kernel instead of staying in its RSS.
 *
 * A fresh Node process loads classic-level, frees one 1 MiB buffer (which
 * under glibc's default raises the threshold to 1 MiB), then allocates 64
 * buffers of 256 KiB, each followed by a small one that stays (as a node's
 * small allocations do, wherever they land), frees the large ones and
 * reports how much RSS that gave back. Mapped, nearly all 16 MiB come
 * back; from malloc's heap, nothing does (measured: 15.7 MiB against 0). The
 * control child sets its own threshold in the environment, which the patch
 * leaves alone: it behaves as a process without the patch does, so the
 * first test fails without it.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { leveldbPatches } from '../storage/database'

const ROOT = path.join(__dirname, '..', '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { patchMallocTuning } = require(path.join(ROOT, 'scripts', 'build-leveldb.js')) as { patchMallocTuning: (s: string) => string }

const MIB = 2 ** 20
const BUFFERS = 64

const CHILD = `
require('classic-level')
const rss = () => process.memoryUsage().rss
const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise(r => setTimeout(r, 50)) } }
;(async () => {
  let big = Buffer.allocUnsafeSlow(${MIB})
  big.fill(1)
  big = null
  await settle()
  const small = []
  let large = []
  const before = rss()
  for (let i = 0; i < ${BUFFERS}; i++) {
    const b = Buffer.allocUnsafeSlow(256 * 1024)
    b.fill(1)
    large.push(b)
    small.push(Buffer.allocUnsafeSlow(4000))
  }
  const held = rss()
  large = null
  await settle()
  process.stdout.write(JSON.stringify({ grew: held - before, gaveBack: held - rss(), small: small.length }))
})().catch(err => { console.error(err); process.exit(1) })
`

const glibc = process.platform === 'linux' && (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime !== undefined

function freedBack (env: NodeJS.ProcessEnv): { grew: number, gaveBack: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env })
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as { grew: number, gaveBack: number }
}

function withoutMallocSettings (): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.MALLOC_MMAP_THRESHOLD_
  delete env.GLIBC_TUNABLES
  return env
}

t.test('with LevelDB loaded, freed large buffers go back to the kernel', { skip: glibc ? false : 'glibc only' }, async (t) => {
  const m = freedBack(withoutMallocSettings())
  t.ok(m.grew >= (BUFFERS / 4 - 2) * MIB, `64 buffers of 256 KiB took ${(m.grew / MIB).toFixed(1)} MiB`)
  t.ok(m.gaveBack >= 0.75 * m.grew, `freed, ${(m.gaveBack / MIB).toFixed(1)} MiB came back`)
})

t.test('a threshold set in the environment is left as it is (the control: freed buffers stay)', { skip: glibc ? false : 'glibc only' }, async (t) => {
  for (const env of [{ MALLOC_MMAP_THRESHOLD_: String(4 * MIB) }, { GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${4 * MIB}` }]) {
    const m = freedBack({ ...withoutMallocSettings(), ...env })
    t.ok(m.grew >= (BUFFERS / 4 - 2) * MIB, `${Object.keys(env)[0]}: 64 buffers took ${(m.grew / MIB).toFixed(1)} MiB`)
    t.ok(m.gaveBack < 0.25 * m.grew, `${Object.keys(env)[0]}: freed, ${(m.gaveBack / MIB).toFixed(1)} MiB came back`)
  }
})

t.test('the installed binding carries the patch, and patchMallocTuning is idempotent', async (t) => {
  const file = path.join(path.dirname(require.resolve('classic-level/package.json')), 'binding.cc')
  const source = fs.readFileSync(file, 'utf8')
  t.equal(patchMallocTuning(source), source, 'already patched: nothing to change')
  t.match(source, /shardsync \(mmap-threshold-1\)/)
  t.match(leveldbPatches(), /(^|\+)mmap-threshold-1(\+|$)/, 'the build marker names it (the start-up log and the bench JSON show it)')
})

t.test('patchMallocTuning calls the tuning first in the module init and refuses an unknown source', async (t) => {
  const original = 'static napi_value f () {}\n\nNAPI_INIT() {\n  NAPI_EXPORT_FUNCTION(db_init);\n}\n'
  const patched = patchMallocTuning(original)
  t.match(patched, /NAPI_INIT\(\) \{\n {2}ShardsyncMallocTuning\(\);\n {2}NAPI_EXPORT_FUNCTION\(db_init\);/)
  t.match(patched, /mallopt\(M_MMAP_THRESHOLD, 128 \* 1024\)/)
  t.equal(patchMallocTuning(patched), patched)
  t.throws(() => patchMallocTuning('static napi_value f () {}\n'))
  t.throws(() => patchMallocTuning(original + original), 'two module inits: ambiguous')
})
