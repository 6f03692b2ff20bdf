/**
 * scripts/build-leveldb.js decides at install whether to build the patched
 * LevelDB: with a toolchain on PATH it builds, without one it keeps the
 * stock prebuilt binary (the install succeeds), and SHARDSYNC_LEVELDB_BUILD
 * overrides either way. CI's second stage (.ci/run) installs for real with
 * the compilers off PATH; this checks the decision itself.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { leveldbPatches } from '../storage/database'
import { loadedPatches, needsPatch } from './leveldb-build'

const ROOT = path.join(__dirname, '..', '..')
const build = require(path.join(ROOT, 'scripts', 'build-leveldb.js')) as {
  missingToolchain: (env: NodeJS.ProcessEnv) => string[]
  mode: (env: NodeJS.ProcessEnv) => 'auto' | 'require' | 'never'
  PATCH_ID: string
}

function binDir (t: Test, names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-path-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const name of names) fs.writeFileSync(path.join(dir, name), '#!/bin/sh\n', { mode: 0o755 })
  return dir
}

t.test('the toolchain is looked for on PATH: python3, make and a C++ compiler', async (t) => {
  t.same(build.missingToolchain({ PATH: binDir(t, []) }), ['python3', 'make', 'a C++ compiler'], 'an empty PATH lacks all three')
  t.same(build.missingToolchain({ PATH: binDir(t, ['python3', 'make', 'g++']) }), [], 'all three')
  t.same(build.missingToolchain({ PATH: binDir(t, ['python', 'make', 'clang++']) }), [], 'python and clang++ do as well')
  t.same(build.missingToolchain({ PATH: binDir(t, ['python3', 'g++']) }), ['make'])
  t.same(build.missingToolchain({ PATH: binDir(t, ['python3', 'make']), CXX: '/nowhere/c++' }), ['a C++ compiler'], 'CXX names the compiler')
  const dir = binDir(t, ['python3', 'make', 'c++'])
  fs.chmodSync(path.join(dir, 'make'), 0o644)
  t.same(build.missingToolchain({ PATH: dir }), ['make'], 'a file that is not executable does not count')
})

t.test('the environment chooses: build or fail, never build, or build when it can', async (t) => {
  t.equal(build.mode({}), 'auto')
  t.equal(build.mode({ SHARDSYNC_LEVELDB_BUILD: '1' }), 'require')
  t.equal(build.mode({ SHARDSYNC_LEVELDB_BUILD: '0' }), 'never')
  t.equal(build.mode({ SHARDSYNC_LEVELDB_PREBUILT: '1' }), 'never', 'the older switch still works')
})

t.test('leveldbPatches names the binary this process loads', async (t) => {
  const patches = leveldbPatches()
  if (process.env.PREBUILDS_ONLY !== undefined) t.equal(patches, undefined, 'PREBUILDS_ONLY: the stock binary')
  if (patches === undefined) {
    t.same(loadedPatches(), [])
    t.match(needsPatch('key-filter'), /stock prebuilt binary/, 'a test of a patch skips, saying why')
  } else {
    t.equal(patches, build.PATCH_ID, 'the patched build, with the current patch set')
    t.equal(needsPatch('key-filter'), false)
    t.match(needsPatch('no-such-patch'), /needs the patched LevelDB build/)
  }
})
