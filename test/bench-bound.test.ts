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

t.test('source role, stream path: the real index walked, made-up content, no head or chunk read', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-bound-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const lib = (p: string): string => JSON.stringify(path.join(__dirname, '..', p))
  const run = spawnSync(process.execPath, ['-e', `
    require(${JSON.stringify(preload)})
    const { SourceApi } = require(${lib('node/source-api.js')})
    const { openDatabase } = require(${lib('storage/database.js')})
    const { ObjectStore } = require(${lib('storage/object-store.js')})
    ;(async () => {
      const db = await openDatabase(${JSON.stringify(dir)})
      const store = await ObjectStore.open(db, { siteId: 'A', maxObjectBytes: 1024 * 1024, defaults: { initialShards: 1, splitThreshold: 1000000, autoSplit: false } })
      await store.createBucket({ name: 'bkt' })
      for (const k of ['a', 'b', 'c']) await store.putObject('bkt', k, Buffer.from('real ' + k))
      await store.deleteObject('bkt', 'b')
      store.getHeads = () => { throw new Error('head read') }
      store.readSmallMany = () => { throw new Error('chunk read') }
      const api = new SourceApi(store)
      const { start, batches } = api.streamShard('bkt', 0, '', { includeDeleted: true, inlineMaxBytes: 1 << 20 })
      const out = []
      for await (const b of batches) out.push([b.objects.map(o => [o.key, Buffer.concat(o.parts).length]), b.done])
      process.stdout.write(JSON.stringify({ state: start.state, out }))
      store.close()
      await db.close()
    })().catch(e => { process.stderr.write(String(e.stack)); process.exit(1) })
  `], { env: { ...process.env, BENCH_BOUND_ROLE: 'source', BENCH_BOUND_BYTES: '100' }, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  const got = JSON.parse(run.stdout)
  t.same(got.out, [[[['a', 100], ['c', 100]], true]], 'live keys of the real index, made-up content, one last batch')
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
