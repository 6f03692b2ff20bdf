/**
 * The bench's --bound experiment (scripts/bench/bound-preload.ts, run with
 * `npm run bench -- --only baseline,fullsync --bound target|both`).
 *
 * - The preload, as the target's role, does only the bare copy's storage
 *   work (one record per object, no head, index or log; nothing read) and
 *   counts what it took, and as the source's role answers every key without
 *   reading. Real LevelDB. Shown to fail when the preload is not loaded
 *   (a real apply writes a head and reads before it).
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

t.test('the bench refuses --bound outside full sync', async t => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-bound-')), 'r.json')
  for (const args of [['--bound', 'both', '--only', 'lag'], ['--bound', 'target'], ['--bound', 'sometimes', '--only', 'fullsync']]) {
    const run = spawnSync(process.execPath, [bench, '--quick', ...args, '--out', out], { encoding: 'utf8', timeout: 60_000 })
    t.equal(run.status, 1, args.join(' '))
    t.notOk(fs.existsSync(out), 'nothing measured')
  }
  fs.rmSync(path.dirname(out), { recursive: true, force: true })
})
