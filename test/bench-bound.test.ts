/**
 * The bench's --bound experiment (scripts/bench/bound-preload.ts, run with
 * `npm run bench -- --only baseline,fullsync --bound target|both`).
 *
 * - The preload, as the target's role, does only the bare copy's storage
 *   work (one record per object, no head, index or log; nothing read) and
 *   counts what it took, and as the source's role answers every key without
 *   reading; on the stream path it walks the real index and reads no head
 *   or chunk. Real LevelDB. Shown to fail when the preload is not loaded
 *   (a real apply writes a head and reads before it; a real stream reads
 *   heads).
 * - The bench refuses --bound with sections other than full sync, and
 *   values other than target or both, before it starts anything.
 *   Shown to fail without the check (the bench runs the lag section).
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { openDatabase } from '../storage/database'
import * as keys from '../storage/keys'
import { ObjectStore } from '../storage/object-store'

const bench = path.join(__dirname, '..', 'scripts', 'bench.js')
const preload = path.join(__dirname, '..', 'scripts', 'bench', 'bound-preload.js')

t.test('target role: one record per object, no head, counted', async t => {
  process.env.BENCH_BOUND_ROLE = 'target'
  require(preload)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-bound-'))
  const db = await openDatabase(dir)
  const store = await ObjectStore.open(db, { siteId: 'B', maxObjectBytes: 1024 * 1024, defaults: { initialShards: 2, splitThreshold: 1_000_000, autoSplit: false } })
  t.teardown(async () => {
    store.close()
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  await store.createBucket({ name: 'bkt' })
  const id = store.bucketState('bkt').record.id
  await store.putObject('bkt', 'present', Buffer.from('stored for real'))
  t.same(await store.getHeads('bkt', ['present', 'absent']), [undefined, undefined], 'heads answer absent without reading')

  const before = new Set<string>()
  for await (const k of db.keys()) before.add(k)
  const objects = ['k1', 'k2', 'k3'].map(key => ({ key, version: { size: 4, etag: 'not-checked', mtime: 1, site: 'A' }, data: Buffer.from(key + '!!') }))
  const results = await store.applyReplicaObjects('bkt', objects)
  t.equal(results.filter(r => r.applied).length, 3)
  const added: string[] = []
  for await (const k of db.keys()) if (!before.has(k)) added.push(k)
  t.equal(added.length, 3, 'one record per object')
  const dataPrefix = keys.chunkPrefix('').slice(0, 2)
  t.ok(added.every(k => k.startsWith(dataPrefix)), 'data records only')
  t.equal(await db.get(keys.headKey(id, 'k1')), undefined, 'no head')
  t.equal(store.bucketState('bkt').record.objectCount, 1 + 3, 'counted for the bench to poll')
})

t.test('target role, large objects: a file each (as the bare copy\'s receiver), no record, no head', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-bound-'))
  const lib = (p: string): string => JSON.stringify(path.join(__dirname, '..', p))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const run = spawnSync(process.execPath, ['-e', `
    require(${JSON.stringify(preload)})
    const fs = require('node:fs')
    const path = require('node:path')
    const { openDatabase } = require(${lib('storage/database.js')})
    const { ObjectStore } = require(${lib('storage/object-store.js')})
    ;(async () => {
      const db = await openDatabase(${JSON.stringify(dir)})
      const store = await ObjectStore.open(db, { siteId: 'B', maxObjectBytes: 1 << 30, defaults: { initialShards: 1, splitThreshold: 1000000, autoSplit: false } })
      await store.createBucket({ name: 'bkt' })
      const before = []
      for await (const k of db.keys()) before.push(k)
      const big = [Buffer.alloc(1 << 20, 1), Buffer.alloc(1 << 20, 2), Buffer.alloc(5, 3)]
      const results = await store.applyReplicaObjects('bkt', [{ key: 'big', version: { size: (2 << 20) + 5, etag: 'x', mtime: 1, site: 'A' }, data: big }])
      let added = 0
      for await (const k of db.keys()) if (!before.includes(k)) added++
      const files = []
      const walk = d => { for (const e of fs.readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(path.join(d, e.name)) : files.push(fs.readFileSync(path.join(d, e.name))) }
      walk(store.blobs.dir)
      process.stdout.write(JSON.stringify({ applied: results[0].applied, added, files: files.map(f => f.equals(Buffer.concat(big))), count: store.bucketState('bkt').record.objectCount, head: await store.getHead('bkt', 'big') ?? null }))
      store.close()
      await db.close()
    })().catch(e => { process.stderr.write(String(e.stack)); process.exit(1) })
  `], { env: { ...process.env, BENCH_BOUND_ROLE: 'target' }, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  const got = JSON.parse(run.stdout)
  t.same(got, { applied: true, added: 0, files: [true], count: 1, head: null }, 'one file with the content, no LevelDB record, counted, no head')
})

t.test('source role: every key answered without reading', async t => {
  const run = spawnSync(process.execPath, ['-e', `
    require(${JSON.stringify(preload)})
    const { SourceApi } = require(${JSON.stringify(path.join(__dirname, '..', 'node', 'source-api.js'))})
    ;(async () => {
      const api = new SourceApi({ getHeads: () => { throw new Error('read') } })
      const out = []
      for await (const item of api.fetchObjects('bkt', ['a', 'b'])) out.push([item.key, item.missing, item.info.size, Buffer.concat(item.parts).length])
      process.stdout.write(JSON.stringify(out))
    })()
  `], { env: { ...process.env, BENCH_BOUND_ROLE: 'source', BENCH_BOUND_BYTES: '100' }, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  t.same(JSON.parse(run.stdout), [['a', false, 100, 100], ['b', false, 100, 100]])
})

t.test('source role, large objects: data in 1 MiB pieces with room in front; the stream gives references', async t => {
  const run = spawnSync(process.execPath, ['-e', `
    require(${JSON.stringify(preload)})
    const { SourceApi } = require(${JSON.stringify(path.join(__dirname, '..', 'node', 'source-api.js'))})
    const { DATA_HEADROOM } = require(${JSON.stringify(path.join(__dirname, '..', 'node', 'rpc', 'encoded-message.js'))})
    ;(async () => {
      const api = new SourceApi({ getHeads: () => { throw new Error('read') } })
      const out = []
      for await (const item of api.fetchObjects('bkt', ['a'])) {
        const pieces = []
        for await (const p of item.chunks) pieces.push([p.length, p.byteOffset >= DATA_HEADROOM, p.every(b => b === 0x61)])
        out.push([item.key, item.info.size, item.parts === undefined, pieces])
      }
      process.stdout.write(JSON.stringify(out))
    })()
  `], { env: { ...process.env, BENCH_BOUND_ROLE: 'source', BENCH_BOUND_BYTES: String(2 * 1024 * 1024 + 7) }, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  t.same(JSON.parse(run.stdout), [['a', 2 * 1024 * 1024 + 7, true, [[1048576, true, true], [1048576, true, true], [7, true, true]]]])
})

t.test('source role, stream path: the real index walked, made-up content, no head or chunk read', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-bound-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const lib = (p: string): string => JSON.stringify(path.join(__dirname, '..', p))
  // Streams a real index of keys a, b (deleted), c; `batch` is what each batch gives.
  const streamScript = (batch: string, db: string): string => `
    require(${JSON.stringify(preload)})
    const { SourceApi } = require(${lib('node/source-api.js')})
    const { openDatabase } = require(${lib('storage/database.js')})
    const { ObjectStore } = require(${lib('storage/object-store.js')})
    ;(async () => {
      const db = await openDatabase(${JSON.stringify(db)})
      const store = await ObjectStore.open(db, { siteId: 'A', maxObjectBytes: 1024 * 1024, defaults: { initialShards: 1, splitThreshold: 1000000, autoSplit: false } })
      await store.createBucket({ name: 'bkt' })
      for (const k of ['a', 'b', 'c']) await store.putObject('bkt', k, Buffer.from('real ' + k))
      await store.deleteObject('bkt', 'b')
      store.getHeads = () => { throw new Error('head read') }
      store.readSmallMany = () => { throw new Error('chunk read') }
      const api = new SourceApi(store)
      const { start, batches } = api.streamShard('bkt', 0, '', { includeDeleted: true, inlineMaxBytes: 1 << 20 })
      const out = []
      for await (const b of batches) out.push([${batch}, b.done])
      process.stdout.write(JSON.stringify({ state: start.state, out }))
      store.close()
      await db.close()
    })().catch(e => { process.stderr.write(String(e.stack)); process.exit(1) })
  `
  const run = spawnSync(process.execPath, ['-e', streamScript('b.objects.map(o => [o.key, Buffer.concat(o.parts).length])', path.join(dir, 'small'))], { env: { ...process.env, BENCH_BOUND_ROLE: 'source', BENCH_BOUND_BYTES: '100' }, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  const got = JSON.parse(run.stdout)
  t.same(got.out, [[[['a', 100], ['c', 100]], true]], 'live keys of the real index, made-up content, one last batch')
  const large = spawnSync(process.execPath, ['-e', streamScript('[b.objects.length, b.references.map(r => [r.key, r.size])]', path.join(dir, 'large'))], { env: { ...process.env, BENCH_BOUND_ROLE: 'source', BENCH_BOUND_BYTES: String(8 * 1024 * 1024) }, encoding: 'utf8' })
  t.equal(large.status, 0, large.stderr)
  t.same(JSON.parse(large.stdout).out, [[[0, [['a', 8 * 1024 * 1024], ['c', 8 * 1024 * 1024]]], true]], 'large: references to the live keys, nothing inline')
})

t.test('the bench refuses --bound outside full sync', async t => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-bound-')), 'r.json')
  for (const args of [['--bound', 'both', '--only', 'lag'], ['--bound', 'target'], ['--bound', 'sometimes', '--only', 'fullsync']]) {
    const run = spawnSync(process.execPath, [bench, '--quick', ...args, '--out', out], { encoding: 'utf8', timeout: 60_000 })
    t.equal(run.status, 1, args.join(' '))
    t.notOk(fs.existsSync(out), 'nothing measured')
  }
  fs.rmSync(path.dirname(out), { recursive: true, force: true })
})
