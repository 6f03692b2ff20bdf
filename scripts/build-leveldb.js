#!/usr/bin/env node
/**
 * postinstall: rebuilds classic-level (the LevelDB 1.20 binding behind
 * `level`) from its bundled sources with one change: table files are read
 * with pread(2) instead of being memory-mapped.
 *
 * Why: stock LevelDB maps up to 1000 table files (2 MiB each) for reads and
 * offers no switch. Every page a read touches then stays in the node's RSS
 * until the table leaves the table cache, so a source serving a full sync of
 * a 1,000,000-object bucket carried ~290 MiB of mapped tables: its RSS grew
 * with the bucket. With pread the same pages stay in the kernel's page cache,
 * shared and reclaimable, and the node's RSS is its own memory (heap, block
 * cache, memtables). Cost: a copy per block read, measured at 7-11 % more
 * source CPU in full sync, within the noise of full-sync throughput
 * (README, Performance).
 *
 * The patched MaxMmaps() reads LEVELDB_MMAP_LIMIT from the environment when
 * LevelDB's default Env is first used (the first open in the process); unset,
 * it is 0. LEVELDB_MMAP_LIMIT=1000 gives upstream's behaviour back without a
 * rebuild.
 *
 * SHARDSYNC_LEVELDB_PREBUILT=1 skips all of this and keeps the prebuilt
 * binary (tables mapped), for machines without python3, make and a C++
 * compiler. test/leveldb-reads.test.ts fails on such an install.
 *
 * Idempotent: the source is patched once, and the build is skipped when
 * build/shardsync-leveldb.json names the current patch.
 */
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const PATCH_ID = 'mmap-limit-env-1'
const RELATIVE_SOURCE = path.join('deps', 'leveldb', 'leveldb-1.20', 'util', 'env_posix.cc')
const ORIGINAL = '  mmap_limit = sizeof(void*) >= 8 ? 1000 : 0;\n'
const PATCHED = [
  `  // shardsync (${PATCH_ID}): tables are read with pread unless`,
  '  // LEVELDB_MMAP_LIMIT allows maps (see shardsync scripts/build-leveldb.js).',
  '  const char* limit = getenv("LEVELDB_MMAP_LIMIT");',
  '  mmap_limit = limit != NULL ? atoi(limit) : 0;',
  ''
].join('\n')

/** The patched text of env_posix.cc; throws if the source is not the one this patch was written for. */
function patchEnvPosix (source) {
  if (source.includes(PATCHED)) return source
  const at = source.indexOf(ORIGINAL)
  if (at < 0 || source.indexOf(ORIGINAL, at + 1) >= 0) {
    throw new Error(`${RELATIVE_SOURCE} is not the LevelDB 1.20 source this patch expects (did classic-level change its bundled LevelDB?)`)
  }
  return source.slice(0, at) + PATCHED + source.slice(at + ORIGINAL.length)
}

function buildFromSource (dir) {
  const npm = process.env.npm_execpath
  const [cmd, args] = npm !== undefined && npm.endsWith('.js')
    ? [process.execPath, [npm, 'run', 'install', '--build-from-source']]
    : ['npm', ['run', 'install', '--build-from-source']]
  return spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, npm_config_build_from_source: 'true' } })
}

function main () {
  if (process.env.SHARDSYNC_LEVELDB_PREBUILT === '1') {
    console.log('shardsync: SHARDSYNC_LEVELDB_PREBUILT=1, keeping the prebuilt LevelDB (table files are memory-mapped)')
    return 0
  }
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    console.log(`shardsync: keeping the prebuilt LevelDB on ${process.platform}`)
    return 0
  }
  const dir = path.dirname(require.resolve('classic-level/package.json'))
  const sourceFile = path.join(dir, RELATIVE_SOURCE)
  const marker = path.join(dir, 'build', 'shardsync-leveldb.json')
  const binary = path.join(dir, 'build', 'Release', 'classic_level.node')

  const source = fs.readFileSync(sourceFile, 'utf8')
  const patched = patchEnvPosix(source)
  if (patched !== source) fs.writeFileSync(sourceFile, patched)

  let built
  try { built = JSON.parse(fs.readFileSync(marker, 'utf8')) } catch { built = undefined }
  if (built?.patch === PATCH_ID && fs.existsSync(binary)) return 0

  const started = Date.now()
  const r = buildFromSource(dir)
  if (r.status !== 0 || !fs.existsSync(binary)) {
    process.stderr.write(String(r.stdout ?? '').slice(-4000) + String(r.stderr ?? '').slice(-4000))
    process.stderr.write('\nshardsync: could not build LevelDB from source. Install python3, make and a C++ compiler\n' +
      '(Debian: apt-get install python3 make g++), or set SHARDSYNC_LEVELDB_PREBUILT=1 to keep the prebuilt\n' +
      'binary, which memory-maps table files (README, Install).\n')
    return 1
  }
  fs.writeFileSync(marker, JSON.stringify({ patch: PATCH_ID, builtAt: new Date().toISOString() }) + '\n')
  console.log(`shardsync: built LevelDB with pread table reads in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return 0
}

module.exports = { patchEnvPosix, PATCH_ID }

if (require.main === module) process.exitCode = main()
