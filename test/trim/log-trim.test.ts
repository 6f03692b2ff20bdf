/**
 * storage/log-trim.ts on a real LevelDB in a temp dir: trimLogs over several
 * shards in batches that cut a shard in the middle (TRIM_PAGE is 1000 and
 * the points here add up to more), the log left holding exactly
 * logFloor+1 .. logSeq of every shard, the floors durable across a reopen,
 * LOG_TRIMMED below them; and queuedShards naming exactly the shards whose
 * tombstone queue holds anything.
 *
 * Fails on the broken behaviour: with a shard cut by a page taken as done
 * (trimLogs advancing to the next shard whatever was left), shard 1 keeps
 * entries below its point and its floor stops at the page boundary.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { openDatabase, type Database } from '../../storage/database'
import { isShardsyncError } from '../../storage/errors'
import * as keys from '../../storage/keys'
import { queuedShards, trimLogs } from '../../storage/log-trim'
import { ObjectStore } from '../../storage/object-store'
import { routeKey } from '../../storage/routing'

interface Env { db: Database, store: ObjectStore }

async function openEnv (t: Test, dir: string): Promise<Env> {
  const db = await openDatabase(dir)
  const store = await ObjectStore.open(db, { siteId: 'A', maxObjectBytes: 1024 * 1024, defaults: { initialShards: 4, splitThreshold: 1_000_000, autoSplit: false } })
  const env = { db, store }
  t.teardown(async () => await closeEnv(env))
  return env
}

async function closeEnv (env: Env): Promise<void> {
  env.store.close()
  if (env.db.status === 'open' || env.db.status === 'opening') await env.db.close()
}

/** Seqs of the log entries stored for a shard, ascending. */
async function loggedSeqs (env: Env, bucketId: string, shard: number): Promise<number[]> {
  const ks = await env.db.keys(keys.prefixRange(keys.logPrefix(bucketId, shard))).all()
  return ks.map(k => keys.trailingHex(k))
}

function keysFor (store: ObjectStore, bucket: string, shard: number, n: number, prefix: string): string[] {
  const state = store.bucketState(bucket)
  const out: string[] = []
  for (let i = 0; out.length < n; i++) {
    const k = `${prefix}-${i}`
    if (routeKey(k, state.record.initialShards, state.shards) === shard) out.push(k)
  }
  return out
}

t.test('trimLogs: pages across shards, exact floors, durable, LOG_TRIMMED below', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-logtrim-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  let env = await openEnv(t, dir)
  await env.store.createBucket({ name: 'trim-b', initialShards: 4 })
  for (const shard of [0, 1, 2, 3]) {
    for (const k of keysFor(env.store, 'trim-b', shard, 700, `s${shard}`)) await env.store.putObject('trim-b', k, Buffer.from(k))
  }
  const state = env.store.bucketState('trim-b')
  const id = state.record.id
  t.same(state.shards.map(h => h.logSeq), [700, 700, 700, 700], 'each shard logged 700 entries')

  // 700 + 650 + 690 = 2,040 entries: three batches, the first two cut shards 1 and 2.
  const points: Array<[number, number]> = [[0, 700], [1, 650], [2, 690]]
  const removed = await trimLogs(env.db, state, points)
  t.equal(removed, 2040, 'every entry up to the points went')
  t.same(state.shards.map(h => h.logFloor ?? 0), [700, 650, 690, 0], 'floors raised to the points, shard 3 untouched')
  for (const shard of [0, 1, 2, 3]) {
    const floor = state.shards[shard].logFloor ?? 0
    const seqs = await loggedSeqs(env, id, shard)
    const want = Array.from({ length: 700 - floor }, (_, i) => floor + 1 + i)
    t.same(seqs, want, `shard ${shard}: the log holds exactly ${floor + 1}..700`)
  }
  t.equal(await trimLogs(env.db, state, points), 0, 'a second pass to the same points removes nothing')

  await closeEnv(env)
  env = await openEnv(t, dir)
  const reopened = env.store.bucketState('trim-b')
  t.same(reopened.shards.map(h => h.logFloor ?? 0), [700, 650, 690, 0], 'floors durable across a reopen')
  const below = await env.store.readLog('trim-b', 1, 100, 10).then(() => undefined, (err: unknown) => err)
  t.ok(isShardsyncError(below, 'LOG_TRIMMED'), 'reading below the floor: LOG_TRIMMED')
  t.same((await env.store.readLog('trim-b', 1, 650, 100)).map(e => e.seq), Array.from({ length: 50 }, (_, i) => 651 + i), 'reading from the floor: the rest, in order')
})

t.test('queuedShards: exactly the shards with queued tombstones', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-logtrim-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const env = await openEnv(t, dir)
  await env.store.createBucket({ name: 'trim-q', initialShards: 4 })
  const id = env.store.bucketState('trim-q').record.id
  t.same(await queuedShards(env.db, id), [], 'an empty bucket: none')
  for (const shard of [0, 1, 2, 3]) {
    for (const k of keysFor(env.store, 'trim-q', shard, 5, `q${shard}`)) await env.store.putObject('trim-q', k, Buffer.from(k))
  }
  t.same(await queuedShards(env.db, id), [], 'puts queue nothing')
  for (const shard of [1, 3]) {
    for (const k of keysFor(env.store, 'trim-q', shard, 3, `q${shard}`)) await env.store.deleteObject('trim-q', k)
  }
  t.same(await queuedShards(env.db, id), [1, 3], 'deletes on shards 1 and 3: those two')
  await env.store.createBucket({ name: 'trim-other', initialShards: 4 })
  for (const k of keysFor(env.store, 'trim-other', 2, 2, 'o')) {
    await env.store.putObject('trim-other', k, Buffer.from(k))
    await env.store.deleteObject('trim-other', k)
  }
  t.same(await queuedShards(env.db, id), [1, 3], 'another bucket\'s queue is not counted')
  t.same(await queuedShards(env.db, env.store.bucketState('trim-other').record.id), [2], 'and has its own')
})
