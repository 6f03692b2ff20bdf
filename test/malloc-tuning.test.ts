/**
 * Loading LevelDB fixes glibc's mmap threshold at 2 MiB (the
 * mmap-threshold-2 patch of scripts/build-leveldb.js), so large blocks a
 * node frees go back to the kernel instead of staying in its RSS.
 *
 * A fresh Node process loads classic-level, frees one 16 MiB buffer (which
 * under glibc's default raises the threshold to 16 MiB), then allocates 8
 * buffers of 4 MiB, each followed by a small one that stays (as a node's
 * small allocations do, wherever they land), frees the large ones and
 * reports how much RSS that gave back. Mapped, nearly all 32 MiB come
 * back; from malloc's heap, nothing does (with the stock binary: nothing).
 * The control child sets a threshold of 32 MiB in the environment, which
 * the patch leaves alone: it behaves as a process without the patch does.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { leveldbPatches } from '../storage/database'
import { needsPatch } from './leveldb-build'

const ROOT = path.join(__dirname, '..', '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { patchMallocTuning } = require(path.join(ROOT, 'scripts', 'build-leveldb.js')) as { patchMallocTuning: (s: string) => string }

const MIB = 2 ** 20
const patched = needsPatch('mmap-threshold')
const BUFFERS = 8
const BUFFER_MIB = 4

const CHILD = `
require('classic-level')
const rss = () => process.memoryUsage().rss
const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise(r => setTimeout(r, 50)) } }
;(async () => {
  let big = Buffer.allocUnsafeSlow(${16 * MIB})
  big.fill(1)
  big = null
  await settle()
  const small = []
  let large = []
  const before = rss()
  for (let i = 0; i < ${BUFFERS}; i++) {
    const b = Buffer.allocUnsafeSlow(${BUFFER_MIB * MIB})
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

t.test('with LevelDB loaded, freed blocks of 2 MiB and more go back to the kernel', { skip: !glibc ? 'glibc only' : patched }, async (t) => {
  const m = freedBack(withoutMallocSettings())
  t.ok(m.grew >= (BUFFERS * BUFFER_MIB - 4) * MIB, `${BUFFERS} buffers of ${BUFFER_MIB} MiB took ${(m.grew / MIB).toFixed(1)} MiB`)
  t.ok(m.gaveBack >= 0.75 * BUFFERS * BUFFER_MIB * MIB, `freed, ${(m.gaveBack / MIB).toFixed(1)} MiB came back`)
})

t.test('a threshold set in the environment is left as it is (the control: freed buffers stay)', { skip: glibc ? false : 'glibc only' }, async (t) => {
  for (const env of [{ MALLOC_MMAP_THRESHOLD_: String(32 * MIB) }, { GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${32 * MIB}` }]) {
    const m = freedBack({ ...withoutMallocSettings(), ...env })
    // From the heap, the buffers may reuse what the 16 MiB one left, so the
    // RSS need not grow by all of them; what matters is that none comes back.
    t.ok(m.gaveBack < 0.25 * BUFFERS * BUFFER_MIB * MIB, `${Object.keys(env)[0]}: freed, ${(m.gaveBack / MIB).toFixed(1)} MiB of ${BUFFERS * BUFFER_MIB} came back`)
  }
})

t.test('the installed binding carries the patch, and patchMallocTuning is idempotent', { skip: patched }, async (t) => {
  const file = path.join(path.dirname(require.resolve('classic-level/package.json')), 'binding.cc')
  const source = fs.readFileSync(file, 'utf8')
  t.equal(patchMallocTuning(source), source, 'already patched: nothing to change')
  t.match(source, /shardsync \(mmap-threshold-2\)/)
  t.match(leveldbPatches(), /(^|\+)mmap-threshold-2(\+|$)/, 'the build marker names it (the start-up log and the bench JSON show it)')
})

t.test('patchMallocTuning calls the tuning first in the module init and refuses an unknown source', async (t) => {
  const original = 'static napi_value f () {}\n\nNAPI_INIT() {\n  NAPI_EXPORT_FUNCTION(db_init);\n}\n'
  const patched = patchMallocTuning(original)
  t.match(patched, /NAPI_INIT\(\) \{\n {2}ShardsyncMallocTuning\(\);\n {2}NAPI_EXPORT_FUNCTION\(db_init\);/)
  t.match(patched, /mallopt\(M_MMAP_THRESHOLD, 2 \* 1024 \* 1024\)/)
  t.equal(patchMallocTuning(patched), patched)
  const earlier = patched.replace('(mmap-threshold-2)', '(mmap-threshold-1)').replace('2 * 1024 * 1024', '128 * 1024')
  t.equal(patchMallocTuning(earlier), patched, 'an earlier version of the patch is replaced, not patched twice')
  t.throws(() => patchMallocTuning('static napi_value f () {}\n'))
  t.throws(() => patchMallocTuning(original + original), 'two module inits: ambiguous')
})
