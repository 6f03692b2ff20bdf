#!/usr/bin/env node
/**
 * postinstall: rebuilds classic-level (the LevelDB 1.20 binding behind
 * `level`) from its bundled sources with five changes:
 *   1. table files are read with pread(2) instead of being memory-mapped;
 *   2. a chained batch gives its buffer back as soon as it is written;
 *   3. on x86-64, CRC-32C is computed with the SSE 4.2 instruction;
 *   4. under glibc, malloc's mmap threshold is fixed at 2 MiB;
 *   5. an open option chooses which keys the Bloom filters cover.
 *
 * Why 1: stock LevelDB maps up to 1000 table files (2 MiB each) for reads and
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
 * Why 2: classic-level frees a chained batch (leveldb::WriteBatch, one
 * std::string holding every put) only when V8 collects the JS batch object
 * ("TODO: close native batch (currently done on GC)" in its
 * chained-batch.js). V8 does not know that small object holds megabytes,
 * so a group commit's buffer (MiBs in full sync) can stay allocated until
 * the next major collection: heaptrack on a target syncing 1,000,000
 * objects found 7 MiB of written batches still held at its peak. A written
 * batch is never used again (abstract-level closes it after write), so the
 * patched Batch::Write deletes the WriteBatch on the worker thread right
 * after writing it and leaves an empty one in its place. Clearing it would
 * not do: std::string::clear keeps the capacity (as in Spark's
 * SPARK-41339 for RocksDB).
 *
 * Why 3: LevelDB checksums every record it logs and every block it writes
 * (memtable flushes and compactions), so a target in full sync feeds each
 * byte it stores through CRC-32C several times. LevelDB 1.20 has a hardware
 * path (port_posix_sse.cc) but classic-level's build never enables it, and
 * the table-driven fallback was the single largest symbol in `perf record`
 * of a target in full sync (8 % of all its CPU, most of it on the compaction
 * thread). The patch compiles that one function for SSE 4.2 with a GCC/Clang
 * target attribute instead of building all of LevelDB with -msse4.2, so the
 * binary still runs on a CPU without it: LevelDB checks the CPU (cpuid) and
 * the function's answer on a known input (CanAccelerateCRC32C) before it
 * uses it, else it keeps the table. The checksums are the same numbers, so
 * the file formats do not change (test/leveldb-crc32c.test.ts).
 *
 * Why 4: glibc serves an allocation of at least its mmap threshold with a
 * mapping of its own, unmapped (given back to the kernel) when freed. The
 * threshold starts at 128 KiB but rises to the size of each mapped block that
 * is freed, up to 32 MiB. A node frees large blocks all the time (gRPC
 * messages of up to 8 MiB, group-commit batches of megabytes), so the
 * threshold soon sits at several MiB and those blocks come from malloc's
 * heaps instead, where freed memory stays resident wherever something
 * smaller still lives above it: the longer a node runs, the more of those
 * holes its RSS carries. The patched module init fixes the threshold at
 * 2 MiB with mallopt(M_MMAP_THRESHOLD), which also stops it moving, unless
 * MALLOC_MMAP_THRESHOLD_ or a GLIBC_TUNABLES mmap_threshold in the
 * environment has set one already (so either overrides it). Why 2 MiB:
 * large objects move in pieces of 1 MiB (blob reads and writes, data
 * messages), which must stay below it: mapped, every piece is a fresh
 * mapping that faults in each page, and a source serving 8 MiB objects
 * spent 40 % more CPU (at 128 KiB). Measured as MALLOC_MMAP_THRESHOLD_=
 * 2097152 in the environment, the same setting, and then as built
 * (README, Performance): the peak RSS at 1,000,000 objects fell by 9-14
 * MiB, large objects as fast as before. test/malloc-tuning.test.ts shows the effect
 * on freed blocks.
 *
 * Why 5: LevelDB keeps the Bloom filter of every open table in memory (10
 * bits a key) for as long as the table is in its table cache, so it grows
 * with the data: at 1,000,000 objects about 5.5 MiB a node, the largest part
 * of what LevelDB holds per table. A filter only spares a point read of a
 * key that is not there, yet classic-level builds one over every key. Most
 * of a node's keys are never read by key: index and log entries are scanned
 * (storage/keys.ts), and the content database's chunks are read only by the
 * data ids that heads name, which exist. The patched db_open reads a string
 * option, `shardsyncKeyFilter`:
 *   absent or ''     LevelDB's Bloom filter over every key (stock);
 *   'none'           no filter;
 *   'skip:<bytes>'   a Bloom filter (10 bits a key) over the keys whose
 *                    first byte is not one of <bytes>; a key that starts
 *                    with one of them always "may match".
 * The policy's name, which LevelDB writes into each table and looks up by,
 * names the skipped bytes ("shardsync.SkipBloom10:<bytes>"). A table is
 * therefore only ever checked against a filter built by the same policy:
 * a database opened with another policy (or by stock LevelDB) reads such a
 * table as if it had no filter, and tables written before reads them the
 * same way until they are compacted. Results are the same either way; only
 * gets of absent keys in such tables cost a block read
 * (test/leveldb-key-filter.test.ts).
 *
 * When it builds. With python3 (or python), make and a C++ compiler on
 * PATH it builds; without them, or if the build fails, it keeps the stock
 * prebuilt binary that ships in classic-level's npm package, says so, and
 * the install succeeds. The environment chooses otherwise:
 *   SHARDSYNC_LEVELDB_BUILD=1   build, and fail the install if it cannot
 *                               (CI's main stage; `npm run build-leveldb`,
 *                               which passes --require, does the same);
 *   SHARDSYNC_LEVELDB_BUILD=0   keep the stock binary, do not try
 *                               (SHARDSYNC_LEVELDB_PREBUILT=1 likewise).
 * `npm run build-leveldb` builds it later (after installing a toolchain);
 * `npm run leveldb-stock` goes back to the stock binary (removes the build).
 * PREBUILDS_ONLY=1 in a process's environment makes node-gyp-build load the
 * stock binary even where the patched one is built (the bench's A/B,
 * docs/performance.md); storage/database.ts leveldbPatches() reports the
 * binary a process actually loads, so the start-up log and the bench JSON
 * (meta.leveldbPatches) say 'stock' then.
 *
 * The stock binary maps tables, keeps written batches until a collection,
 * computes CRC-32C with a table, leaves glibc's threshold moving (which
 * MALLOC_MMAP_THRESHOLD_=2097152 in a node's environment fixes all the
 * same) and filters every key (the key filter option is ignored). The tests
 * of the patches (test/leveldb-reads, leveldb-batch-release, leveldb-crc32c,
 * malloc-tuning, leveldb-key-filter) skip what needs the patched binary on
 * it, naming the reason (test/leveldb-build.ts).
 *
 * Idempotent: each source file is patched once, and the build is skipped
 * when build/shardsync-leveldb.json names the current patch set.
 */
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const PATCH_ID = 'mmap-limit-env-1+batch-release-1+crc32c-sse42-1+mmap-threshold-2+key-filter-1'
const RELATIVE_SOURCE = path.join('deps', 'leveldb', 'leveldb-1.20', 'util', 'env_posix.cc')
const ORIGINAL = '  mmap_limit = sizeof(void*) >= 8 ? 1000 : 0;\n'
const PATCHED = [
  '  // shardsync (mmap-limit-env-1): tables are read with pread unless',
  '  // LEVELDB_MMAP_LIMIT allows maps (see shardsync scripts/build-leveldb.js).',
  '  const char* limit = getenv("LEVELDB_MMAP_LIMIT");',
  '  mmap_limit = limit != NULL ? atoi(limit) : 0;',
  ''
].join('\n')

const RELATIVE_BINDING = 'binding.cc'
const BINDING_ORIGINAL = [
  '  leveldb::Status Write (bool sync) {',
  '    leveldb::WriteOptions options;',
  '    options.sync = sync;',
  '    return database_->WriteBatch(options, batch_);',
  '  }',
  ''
].join('\n')
const BINDING_PATCHED = [
  '  leveldb::Status Write (bool sync) {',
  '    leveldb::WriteOptions options;',
  '    options.sync = sync;',
  '    leveldb::Status status = database_->WriteBatch(options, batch_);',
  '    // shardsync (batch-release-1): a written batch is never used again, so',
  '    // its buffer goes back now, not when V8 collects the batch object',
  '    // (see shardsync scripts/build-leveldb.js).',
  '    delete batch_;',
  '    batch_ = new leveldb::WriteBatch();',
  '    hasData_ = false;',
  '    return status;',
  '  }',
  ''
].join('\n')

const INIT_ORIGINAL = 'NAPI_INIT() {\n'
const INIT_PATCHED = [
  '// shardsync (mmap-threshold-2): under glibc, allocations of 2 MiB and more are',
  '// mapped and given back when freed, at a fixed threshold, unless the',
  '// environment sets one (see shardsync scripts/build-leveldb.js).',
  '#if defined(__GLIBC__)',
  '#include <malloc.h>',
  '#include <stdlib.h>',
  '#include <string.h>',
  'static void ShardsyncMallocTuning () {',
  '  const char* tunables = getenv("GLIBC_TUNABLES");',
  '  if (getenv("MALLOC_MMAP_THRESHOLD_") != NULL) return;',
  '  if (tunables != NULL && strstr(tunables, "mmap_threshold") != NULL) return;',
  '  mallopt(M_MMAP_THRESHOLD, 2 * 1024 * 1024);',
  '}',
  '#else',
  'static void ShardsyncMallocTuning () {}',
  '#endif',
  '',
  'NAPI_INIT() {',
  '  ShardsyncMallocTuning();',
  ''
].join('\n')

const FILTER_CLASS_ORIGINAL = [
  '/**',
  ' * Owns the LevelDB storage, cache, filter policy and resources.',
  ' */',
  'struct Database {',
  ''
].join('\n')
const FILTER_CLASS_PATCHED = [
  '// shardsync (key-filter-1): a Bloom filter over the keys whose first byte',
  '// is not one of `skip`; the others always may match. Its name names `skip`,',
  '// so a table is only checked by the policy that built its filter',
  '// (see shardsync scripts/build-leveldb.js).',
  'class ShardsyncSkipBloom : public leveldb::FilterPolicy {',
  ' public:',
  '  explicit ShardsyncSkipBloom (const std::string& skip)',
  '    : bloom_(leveldb::NewBloomFilterPolicy(10)), skip_(skip),',
  '      name_("shardsync.SkipBloom10:" + skip) {}',
  '  ~ShardsyncSkipBloom () { delete bloom_; }',
  '  const char* Name () const { return name_.c_str(); }',
  '  void CreateFilter (const leveldb::Slice* keys, int n, std::string* dst) const {',
  '    std::vector<leveldb::Slice> kept;',
  '    kept.reserve(n);',
  '    for (int i = 0; i < n; i++) if (!Skipped(keys[i])) kept.push_back(keys[i]);',
  '    // None kept: an empty filter, which matches no key but the skipped ones.',
  '    if (kept.empty()) return;',
  '    bloom_->CreateFilter(&kept[0], static_cast<int>(kept.size()), dst);',
  '  }',
  '  bool KeyMayMatch (const leveldb::Slice& key, const leveldb::Slice& filter) const {',
  '    return Skipped(key) || bloom_->KeyMayMatch(key, filter);',
  '  }',
  ' private:',
  '  bool Skipped (const leveldb::Slice& key) const {',
  '    return key.size() > 0 && skip_.find(key[0]) != std::string::npos;',
  '  }',
  '  const leveldb::FilterPolicy* bloom_;',
  '  const std::string skip_;',
  '  const std::string name_;',
  '};',
  '',
  '// The filter policy an open asks for (see ShardsyncSkipBloom).',
  'static const leveldb::FilterPolicy* ShardsyncFilterPolicy (const std::string& spec) {',
  '  if (spec == "none") return NULL;',
  '  if (spec.compare(0, 5, "skip:") == 0 && spec.size() > 5) return new ShardsyncSkipBloom(spec.substr(5));',
  '  return leveldb::NewBloomFilterPolicy(10);',
  '}',
  '',
  '/**',
  ' * Owns the LevelDB storage, cache, filter policy and resources.',
  ' */',
  'struct Database {',
  ''
].join('\n')
const FILTER_OPEN_ORIGINAL = [
  '  database->blockCache_ = leveldb::NewLRUCache(cacheSize);',
  ''
].join('\n')
const FILTER_OPEN_PATCHED = [
  '  database->blockCache_ = leveldb::NewLRUCache(cacheSize);',
  '  // shardsync (key-filter-1): the filter policy this open asks for; the',
  '  // database is closed, so the one it had is no longer used.',
  '  delete database->filterPolicy_;',
  '  database->filterPolicy_ = ShardsyncFilterPolicy(StringProperty(env, options, "shardsyncKeyFilter"));',
  ''
].join('\n')

const RELATIVE_CRC = path.join('deps', 'leveldb', 'leveldb-1.20', 'port', 'port_posix_sse.cc')
const CRC_HEADER_ORIGINAL = [
  '#include "port/port.h"',
  '',
  '#if defined(LEVELDB_PLATFORM_POSIX_SSE)',
  '',
  '#if defined(_MSC_VER)',
  '#include <intrin.h>',
  '#elif defined(__GNUC__) && defined(__SSE4_2__)',
  ''
].join('\n')
const CRC_HEADER_PATCHED = [
  '#include "port/port.h"',
  '',
  '// shardsync (crc32c-sse42-1): the SSE 4.2 path is built on x86-64 with GCC',
  '// or Clang, for AcceleratedCRC32C alone (target attribute below), and used',
  '// only where cpuid reports SSE 4.2 (see shardsync scripts/build-leveldb.js).',
  '#if !defined(LEVELDB_PLATFORM_POSIX_SSE) && defined(__GNUC__) && defined(__x86_64__)',
  '#define LEVELDB_PLATFORM_POSIX_SSE 1',
  '#define SHARDSYNC_CRC32C_TARGET __attribute__((target("sse4.2")))',
  '#endif',
  '#ifndef SHARDSYNC_CRC32C_TARGET',
  '#define SHARDSYNC_CRC32C_TARGET',
  '#endif',
  '',
  '#if defined(LEVELDB_PLATFORM_POSIX_SSE)',
  '',
  '#if defined(_MSC_VER)',
  '#include <intrin.h>',
  '#elif defined(__GNUC__)',
  ''
].join('\n')
const CRC_FUNCTION_ORIGINAL = 'uint32_t AcceleratedCRC32C(uint32_t crc, const char* buf, size_t size) {\n'
const CRC_FUNCTION_PATCHED = 'SHARDSYNC_CRC32C_TARGET uint32_t AcceleratedCRC32C(uint32_t crc, const char* buf, size_t size) {\n'

/** Replaces the one occurrence of `original` in `source` (a file of classic-level); a no-op if already patched. */
function replaceOnce (source, original, patched, what) {
  if (source.includes(patched)) return source
  const at = source.indexOf(original)
  if (at < 0 || source.indexOf(original, at + 1) >= 0) {
    throw new Error(`${what} is not the source this patch expects (did classic-level change?)`)
  }
  return source.slice(0, at) + patched + source.slice(at + original.length)
}

/** The patched text of env_posix.cc; throws if the source is not the one this patch was written for. */
function patchEnvPosix (source) {
  return replaceOnce(source, ORIGINAL, PATCHED, RELATIVE_SOURCE)
}

/** The patched text of classic-level's binding.cc; throws likewise. */
function patchBinding (source) {
  return replaceOnce(source, BINDING_ORIGINAL, BINDING_PATCHED, RELATIVE_BINDING)
}

/** An earlier version of the malloc tuning (a node_modules patched before it changed). */
const INIT_EARLIER = /\/\/ shardsync \(mmap-threshold-\d+\)[\s\S]*?NAPI_INIT\(\) \{\n {2}ShardsyncMallocTuning\(\);\n/

/** binding.cc with the malloc tuning called when the module loads (an earlier one replaced); throws likewise. */
function patchMallocTuning (source) {
  const unpatched = source.includes(INIT_PATCHED) ? source : source.replace(INIT_EARLIER, INIT_ORIGINAL)
  return replaceOnce(unpatched, INIT_ORIGINAL, INIT_PATCHED, RELATIVE_BINDING)
}

/** binding.cc with the key filter policy chosen at open (shardsyncKeyFilter); throws likewise. */
function patchKeyFilter (source) {
  const withClass = replaceOnce(source, FILTER_CLASS_ORIGINAL, FILTER_CLASS_PATCHED, RELATIVE_BINDING)
  return replaceOnce(withClass, FILTER_OPEN_ORIGINAL, FILTER_OPEN_PATCHED, RELATIVE_BINDING)
}

/** The patched text of LevelDB's port_posix_sse.cc; throws likewise. */
function patchCrc32c (source) {
  const header = replaceOnce(source, CRC_HEADER_ORIGINAL, CRC_HEADER_PATCHED, RELATIVE_CRC)
  return replaceOnce(header, CRC_FUNCTION_ORIGINAL, CRC_FUNCTION_PATCHED, RELATIVE_CRC)
}

/** Patches one file of classic-level in place (once). */
function patchFile (file, patch) {
  const source = fs.readFileSync(file, 'utf8')
  const patched = patch(source)
  if (patched !== source) fs.writeFileSync(file, patched)
}

function buildFromSource (dir) {
  const npm = process.env.npm_execpath
  const [cmd, args] = npm !== undefined && npm.endsWith('.js')
    ? [process.execPath, [npm, 'run', 'install', '--build-from-source']]
    : ['npm', ['run', 'install', '--build-from-source']]
  return spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, npm_config_build_from_source: 'true' } })
}

/** The first of `names` found as an executable on PATH, or undefined. */
function onPath (names, env = process.env) {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(d => d !== '')
  for (const name of names) {
    if (path.isAbsolute(name)) {
      try { fs.accessSync(name, fs.constants.X_OK); return name } catch { continue }
    }
    for (const d of dirs) {
      const file = path.join(d, name)
      try {
        fs.accessSync(file, fs.constants.X_OK)
        if (fs.statSync(file).isFile()) return file
      } catch { /* not here */ }
    }
  }
  return undefined
}

/** The tools node-gyp needs that PATH lacks (empty when all are there). */
function missingToolchain (env = process.env) {
  const missing = []
  const python = env.PYTHON ?? env.npm_config_python
  if (onPath(python !== undefined ? [python] : ['python3', 'python'], env) === undefined) missing.push('python3')
  if (onPath(['make'], env) === undefined) missing.push('make')
  const cxx = env.CXX
  if (onPath(cxx !== undefined ? [cxx.split(' ')[0]] : ['c++', 'g++', 'clang++'], env) === undefined) missing.push('a C++ compiler')
  return missing
}

/** Removes a build of classic-level (binary and marker), so node-gyp-build loads the stock prebuilt binary. */
function removeBuild (dir) {
  fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true })
}

/** What to do, from the environment: 'require' (build or fail), 'never', or 'auto'. */
function mode (env = process.env) {
  const build = env.SHARDSYNC_LEVELDB_BUILD
  if (build === '1' || build === 'true') return 'require'
  if (build === '0' || build === 'false' || env.SHARDSYNC_LEVELDB_PREBUILT === '1') return 'never'
  return 'auto'
}

const STOCK_NOTE = 'the stock prebuilt LevelDB binary (tables memory-mapped, so a node\'s RSS grows with the data it reads;\n' +
  'docs/performance.md says what the patched build buys). The tests of the patches skip. To build it:\n' +
  'install python3, make and g++ (Debian: apt-get install python3 make g++), then `npm run build-leveldb`.'

function main (argv = process.argv.slice(2)) {
  const dir = path.dirname(require.resolve('classic-level/package.json'))
  if (argv.includes('--stock')) {
    removeBuild(dir)
    console.log('shardsync: removed the patched LevelDB build; ' + STOCK_NOTE)
    return 0
  }
  const how = argv.includes('--require') ? 'require' : mode()
  if (how === 'never') {
    removeBuild(dir)
    console.log('shardsync: SHARDSYNC_LEVELDB_BUILD=0, using ' + STOCK_NOTE)
    return 0
  }
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    console.log(`shardsync: keeping the prebuilt LevelDB on ${process.platform}`)
    return how === 'require' ? 1 : 0
  }
  const marker = path.join(dir, 'build', 'shardsync-leveldb.json')
  const binary = path.join(dir, 'build', 'Release', 'classic_level.node')

  try {
    patchFile(path.join(dir, RELATIVE_SOURCE), patchEnvPosix)
    patchFile(path.join(dir, RELATIVE_BINDING), patchBinding)
    patchFile(path.join(dir, RELATIVE_BINDING), patchMallocTuning)
    patchFile(path.join(dir, RELATIVE_BINDING), patchKeyFilter)
    patchFile(path.join(dir, RELATIVE_CRC), patchCrc32c)
  } catch (err) {
    removeBuild(dir)
    if (how === 'require') throw err
    console.log(`shardsync: ${err.message}, so using ` + STOCK_NOTE)
    return 0
  }

  let built
  try { built = JSON.parse(fs.readFileSync(marker, 'utf8')) } catch { built = undefined }
  if (built?.patch === PATCH_ID && fs.existsSync(binary)) return 0

  const missing = missingToolchain()
  if (missing.length > 0) {
    removeBuild(dir)
    if (how === 'require') {
      process.stderr.write(`shardsync: SHARDSYNC_LEVELDB_BUILD=1 but PATH lacks ${missing.join(', ')}: cannot build LevelDB.\n`)
      return 1
    }
    console.log(`shardsync: PATH has no ${missing.join(', ').replace(/, ([^,]*)$/, ' or $1')}, so using ` + STOCK_NOTE)
    return 0
  }

  const started = Date.now()
  const r = buildFromSource(dir)
  if (r.status !== 0 || !fs.existsSync(binary)) {
    process.stderr.write(String(r.stdout ?? '').slice(-4000) + String(r.stderr ?? '').slice(-4000))
    removeBuild(dir)
    if (how === 'require') {
      process.stderr.write('\nshardsync: SHARDSYNC_LEVELDB_BUILD=1 but LevelDB did not build (output above).\n')
      return 1
    }
    console.log('\nshardsync: LevelDB did not build (output above), so using ' + STOCK_NOTE)
    return 0
  }
  fs.writeFileSync(marker, JSON.stringify({ patch: PATCH_ID, builtAt: new Date().toISOString() }) + '\n')
  console.log(`shardsync: built LevelDB with pread table reads, prompt batch release, SSE 4.2 CRC-32C, a fixed mmap threshold and chosen key filters in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return 0
}

module.exports = { patchEnvPosix, patchBinding, patchMallocTuning, patchKeyFilter, patchCrc32c, missingToolchain, mode, PATCH_ID }

if (require.main === module) process.exitCode = main()
