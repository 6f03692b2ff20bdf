/**
 * Crash during splits: a real node process with a small split threshold and
 * --fault-split-pause-ms (so splits stay SPLITTING for a while) takes
 * concurrent puts, overwrites and deletes; it is killed with SIGKILL while a
 * split is under way (a 'split started' log line without its 'split done',
 * confirmed afterwards on a copy of the LevelDB directory: a SPLITTING
 * header), then restarted on the same data dir and port. After each restart:
 * - the interrupted splits were resumed (no SPLITTING shard, log line says
 *   how many), and the count matches what was on disk at the crash;
 * - every acknowledged write reads back with its etag (deletes stay
 *   deleted); writes in flight at the kill are either fully there or not;
 * - per-shard index counts sum to the live keys, ListIndex of every shard
 *   lists each key once, on the shard it routes to, with the right etag.
 * Several kill cycles in one test; the writers resume after each restart.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import t, { type Test } from 'tap'
import { createBucket, listBuckets, listShards, putObject, getObject as getObjectWithDeadline } from '../node/cli/object-commands'
import { callUnary, type Clients } from '../node/rpc/clients'
import type { ListIndexResponse__Output } from '../node/rpc/generated/shardsync/v1/ListIndexResponse'
import type { ListObjectsResponse__Output } from '../node/rpc/generated/shardsync/v1/ListObjectsResponse'
import type { ObjectInfo__Output } from '../node/rpc/generated/shardsync/v1/ObjectInfo'
import type { ShardInfo__Output } from '../node/rpc/generated/shardsync/v1/ShardInfo'
import { NodeProcess, waitFor } from '../scripts/lib/cluster'
import { openDatabase } from '../storage/database'
import { isShardsyncError, ShardsyncError } from '../storage/errors'
import * as keys from '../storage/keys'
import type { ShardHeader } from '../storage/records'
import { keyHash, routeKey, splitBit, type RoutingShard } from '../storage/routing'

// Also when run directly with node (tap's default root timeout is 30 s).
t.setTimeout(300_000)

const BUCKET = 'crash'
const THRESHOLD = 120
const INITIAL = 2
const WANTED_CYCLES = 3
const MAX_ATTEMPTS = 8
const WIDE = 'wide'
const WIDE_OBJECTS = 2600

const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex')

const logFile = path.join(os.tmpdir(), `shardsync-crash-${process.pid}.log`)
const node = new NodeProcess({ site: 'A', logFile, args: ['--shards', String(INITIAL), '--split-threshold', String(THRESHOLD), '--fault-split-pause-ms', '250'] })
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-crash-copy-'))
t.teardown(async () => {
  await node.kill9().catch(() => {})
  if (!t.passing() && fs.existsSync(logFile)) t.comment(fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n'))
  fs.rmSync(node.dataDir, { recursive: true, force: true })
  fs.rmSync(scratch, { recursive: true, force: true })
  fs.rmSync(logFile, { force: true })
})

/** What the test knows of one key: the last acknowledged state, and an op in flight at the kill. */
interface KeyState {
  /** md5 of the acknowledged content; null = acknowledged delete; undefined = never acknowledged. */
  acked: string | null | undefined
  /** Set while an op is in flight (and after the kill, until resolved): md5 to put, or null for a delete. */
  pending?: string | null
}
const model = new Map<string, KeyState>()
/** The wide bucket: loaded once, never written after. */
const wideModel = new Map<string, KeyState>()

async function getObject (c: Clients, bucket: string, key: string): Promise<{ info: ObjectInfo__Output, data: Buffer }> {
  const r = await getObjectWithDeadline(c, bucket, key, undefined, 10_000)
  return { info: r.info, data: r.data ?? Buffer.alloc(0) }
}

/** The stored etag of a key, or null if there is none. */
async function storedEtag (c: Clients, bucket: string, key: string): Promise<string | null> {
  try {
    const info = await callUnary<object, ObjectInfo__Output>(c.object, 'HeadObject', { bucket, key })
    return info.etag
  } catch (err) {
    if (isShardsyncError(err, 'OBJECT_NOT_FOUND')) return null
    throw err
  }
}

function routingTable (shards: ShardInfo__Output[]): RoutingShard[] {
  const table = shards.map(s => ({ baseDepth: 0, children: s.children }))
  for (const s of shards) s.children.forEach((c, i) => { table[c].baseDepth = table[s.shard].baseDepth + i + 1 })
  return table
}

async function pool<T> (items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => { while (next < items.length) await fn(items[next++]) }))
}

let writerSeq = 0
/** Writers: each owns its keys, so at most one op per key is in flight. They stop at the first failure (the kill). */
function startWriters (c: Clients, n: number): { stop: () => void, done: Promise<void>, acks: () => number } {
  let stopped = false
  let acks = 0
  const writer = async (w: number): Promise<void> => {
    const mine: string[] = [...model.entries()].filter(([k, s]) => k.startsWith(`w${w}/`) && s.acked !== null && s.acked !== undefined).map(([k]) => k)
    let seed = w * 7919 + writerSeq
    const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
    while (!stopped) {
      const r = rand()
      let key: string
      let data: Buffer | null
      if (r < 0.75 || mine.length < 5) {
        key = `w${w}/${writerSeq++}`
        data = crypto.randomBytes(20 + Math.floor(rand() * 300))
      } else if (r < 0.9) {
        key = mine[Math.floor(rand() * mine.length)]
        data = crypto.randomBytes(10 + Math.floor(rand() * 300))
      } else {
        key = mine[Math.floor(rand() * mine.length)]
        data = null
      }
      const state = model.get(key) ?? { acked: undefined }
      model.set(key, state)
      state.pending = data === null ? null : md5(data)
      try {
        if (data === null) await callUnary(c.object, 'DeleteObject', { bucket: BUCKET, key })
        else {
          const info = await putObject(c, BUCKET, key, data)
          if (info.etag !== state.pending) throw new Error(`PutObject ${key} answered etag ${info.etag}`)
        }
      } catch (err) {
        // The node died under us: the op's outcome is unknown (state.pending stays set).
        if (stopped) return
        throw err
      }
      state.acked = state.pending
      delete state.pending
      acks++
      if (data === null) mine.splice(mine.indexOf(key), 1)
      else if (!mine.includes(key)) mine.push(key)
    }
  }
  const done = Promise.all(Array.from({ length: n }, async (_, w) => await writer(w))).then(() => {})
  return { stop: () => { stopped = true }, done, acks: () => acks }
}

/** newShard numbers of a bucket's splits that logged 'split started' but not (yet) 'split done'. */
function splitsInFlight (bucket: string): number[] {
  const done = new Set(node.logged('split done').filter(l => l.bucket === bucket).map(l => Number(l.newShard)))
  return node.logged('split started').filter(l => l.bucket === bucket).map(l => Number(l.newShard)).filter(n => !done.has(n))
}

/** Shard headers as LevelDB holds them, read from a copy of the data dir (the crash state stays untouched). */
async function headersOnDisk (bucketId: string, n: string): Promise<ShardHeader[]> {
  const copy = path.join(scratch, `copy-${n}`)
  fs.cpSync(node.dataDir, copy, { recursive: true })
  const db = await openDatabase(copy)
  try {
    const out: ShardHeader[] = []
    for await (const [, v] of db.iterator(keys.prefixRange(keys.shardsPrefix(bucketId)))) out.push(v as ShardHeader)
    return out
  } finally {
    await db.close()
    fs.rmSync(copy, { recursive: true, force: true })
  }
}

/** After a restart: every write that was acknowledged is there, the index is whole and consistent. */
async function verify (t: Test, c: Clients, cycle: number, bucket: string, model: Map<string, KeyState>, initial: number): Promise<void> {
  const BUCKET = bucket
  const INITIAL = initial
  // Ops in flight at the kill: either applied or not, nothing else.
  const uncertain = [...model.entries()].filter(([, s]) => 'pending' in s)
  const badUncertain: string[] = []
  for (const [key, s] of uncertain) {
    const etag = await storedEtag(c, BUCKET, key)
    const allowed = [s.acked ?? null, s.pending]
    if (!allowed.includes(etag)) badUncertain.push(`${key}: ${etag} not in ${JSON.stringify(allowed)}`)
    s.acked = etag
    delete s.pending
  }
  t.same(badUncertain, [], `cycle ${cycle} ${BUCKET}: ${uncertain.length} in-flight ops are all-or-nothing`)

  const live = new Map<string, string>()
  for (const [k, s] of model) if (typeof s.acked === 'string') live.set(k, s.acked)
  const deleted = [...model.entries()].filter(([, s]) => s.acked === null).map(([k]) => k)

  const problems: string[] = []
  await pool([...live], 32, async ([key, etag]) => {
    try {
      const { info, data } = await getObject(c, BUCKET, key)
      if (info.etag !== etag || md5(data) !== etag) problems.push(`${key}: etag ${info.etag}, md5 ${md5(data)}, want ${etag}`)
    } catch (err) {
      problems.push(`${key}: ${(err as ShardsyncError).code ?? String(err)}`)
    }
  })
  t.same(problems.slice(0, 10), [], `cycle ${cycle} ${BUCKET}: all ${live.size} acknowledged objects read back with the right etag`)
  const resurrected: string[] = []
  await pool(deleted, 32, async (key) => { if (await storedEtag(c, BUCKET, key) !== null) resurrected.push(key) })
  t.same(resurrected, [], `cycle ${cycle} ${BUCKET}: ${deleted.length} acknowledged deletes stay deleted`)

  const { shards } = await listShards(c, BUCKET)
  t.same(shards.filter(s => s.state === 'SPLIT_STATE_SPLITTING').map(s => s.shard), [], `cycle ${cycle} ${BUCKET}: no shard SPLITTING`)
  const sum = shards.reduce((n, s) => n + Number(s.indexCount), 0)
  t.equal(sum, live.size, `cycle ${cycle} ${BUCKET}: index counts of ${shards.length} shards sum to the ${live.size} live keys`)

  const table = routingTable(shards)
  const seenOn = new Map<string, number>()
  const indexProblems: string[] = []
  for (const s of shards) {
    let marker = ''
    let n = 0
    for (;;) {
      const page = await callUnary<object, ListIndexResponse__Output>(c.sync, 'ListIndex', { bucket: BUCKET, shard: s.shard, marker, limit: 1000 })
      for (const e of page.entries) {
        n++
        if (seenOn.has(e.key)) indexProblems.push(`${e.key} listed on shards ${seenOn.get(e.key)} and ${s.shard}`)
        seenOn.set(e.key, s.shard)
        if (live.get(e.key) !== e.etag) indexProblems.push(`${e.key}: index etag ${e.etag}, want ${live.get(e.key)}`)
        const routed = routeKey(e.key, INITIAL, table)
        if (routed !== s.shard) indexProblems.push(`${e.key} on shard ${s.shard}, routes to ${routed}`)
      }
      if (page.nextMarker === '') break
      marker = page.nextMarker
    }
    if (n !== Number(s.indexCount)) indexProblems.push(`shard ${s.shard}: index_count ${s.indexCount}, ${n} entries`)
  }
  for (const k of live.keys()) if (!seenOn.has(k)) indexProblems.push(`${k} in no shard's index`)
  t.same(indexProblems.slice(0, 10), [], `cycle ${cycle} ${BUCKET}: ListIndex of every shard: each live key exactly once, routed right, counts right`)

  let listed = 0
  let startAfter = ''
  for (;;) {
    const page = await callUnary<object, ListObjectsResponse__Output>(c.object, 'ListObjects', { bucket: BUCKET, startAfter, limit: 1000 })
    listed += page.objects.length
    if (page.nextStartAfter === '') break
    startAfter = page.nextStartAfter
  }
  t.equal(listed, live.size, `cycle ${cycle} ${BUCKET}: ListObjects lists the live keys`)
  t.equal(Number((await listBuckets(c)).find(b => b.name === BUCKET)?.objectCount), live.size, `cycle ${cycle} ${BUCKET}: bucket object_count`)
}

t.test('kill -9 during splits, restart, nothing acknowledged is lost and the index stays whole', { timeout: 170_000 }, async (t) => {
  await node.start()
  const bucket = await createBucket(node.clients, BUCKET, {})
  t.match(bucket, { initialShards: INITIAL, splitThreshold: THRESHOLD })
  // A second bucket whose shards hold more than one migration page (1000
  // entries): forced splits of it are killed between pages, so the resume
  // has real migration work left.
  const wide = await createBucket(node.clients, WIDE, { shards: 1, autoSplit: false })
  await pool(Array.from({ length: WIDE_OBJECTS }, (_, i) => `wide/${i}`), 32, async (key) => {
    const data = crypto.randomBytes(16 + (key.length * 13) % 200)
    await putObject(node.clients, WIDE, key, data)
    wideModel.set(key, { acked: md5(data) })
  })

  let cycles = 0
  let partialResumes = 0
  let attempts = 0
  while (cycles < WANTED_CYCLES && attempts < MAX_ATTEMPTS) {
    attempts++
    const forced = attempts % 2 === 0
    const c = node.clients
    const writers = startWriters(c, 12)
    let target: { shard: number, movers: number, newShard: number } | undefined
    let noticed: boolean
    if (!forced) {
      noticed = await waitFor(() => splitsInFlight(BUCKET).length > 0 && writers.acks() > 50, { timeoutMs: 30_000, intervalMs: 5, what: 'an auto split to start' }).catch(() => false)
    } else {
      // Force a split of the wide bucket's biggest shard and kill ~100 ms after it started (during the pause after page 1).
      const { shards } = await listShards(c, WIDE)
      const biggest = shards.reduce((a, b) => Number(b.indexCount) > Number(a.indexCount) ? b : a)
      const table = routingTable(shards)
      const depth = table[biggest.shard].baseDepth + biggest.children.length
      const entries = [...wideModel.keys()].filter(k => routeKey(k, 1, table) === biggest.shard)
      const movers = entries.filter(k => splitBit(keyHash(k), depth) === 1).length
      target = { shard: biggest.shard, movers, newShard: shards.length }
      t.ok(entries.length > 1000, `forced split of ${WIDE} shard ${biggest.shard}: ${entries.length} entries, more than one page`)
      callUnary(c.admin, 'SplitShard', { bucket: WIDE, shard: biggest.shard }).catch(() => {})
      noticed = await waitFor(() => splitsInFlight(WIDE).includes(shards.length), { timeoutMs: 10_000, intervalMs: 5, what: 'the forced split to start' }).catch(() => false)
      // Kill once the first migration page is durable (the child's index grew), during the pause before page 2.
      await waitFor(async () => Number((await listShards(c, WIDE)).shards[shards.length]?.indexCount ?? 0) > 0, { timeoutMs: 10_000, intervalMs: 5, what: 'the first migration page' }).catch(() => {})
    }
    writers.stop() // no new ops; those in flight stay in flight through the kill
    await node.kill9()
    await writers.done
    if (noticed !== true) { t.fail(`attempt ${attempts}: no split started`); break }

    const onDisk = [...await headersOnDisk(bucket.id, `a${attempts}`), ...await headersOnDisk(wide.id, `w${attempts}`)]
    const splitting = onDisk.filter(h => h.state === 'SPLITTING')
    t.comment(`attempt ${attempts} (${forced ? 'forced split of ' + WIDE : 'auto split of ' + BUCKET}): ${splitting.length} shards SPLITTING on disk at the kill, ${writers.acks()} acks this round`)
    if (target !== undefined) {
      const src = (await headersOnDisk(wide.id, `t${attempts}`))
      const h = src[target.shard]
      const child = src[target.newShard]
      t.equal(h?.state, 'SPLITTING', `${WIDE} shard ${target.shard} SPLITTING on disk`)
      t.equal(h?.splitTo, target.newShard)
      t.ok(child !== undefined && child.indexCount < target.movers, `killed mid-migration: ${child?.indexCount} of ${target.movers} entries moved`)
      if (child !== undefined && child.indexCount > 0) partialResumes++
      target.movers -= child?.indexCount ?? 0
    }

    const linesBefore = node.lines.length
    await node.restart()
    await waitFor(async () => (await listShards(node.clients, BUCKET)).shards.every(s => s.state !== 'SPLIT_STATE_SPLITTING') || undefined, { timeoutMs: 20_000, what: 'no SPLITTING shard after restart' })
    const after = node.lines.slice(linesBefore)
    const resumedLine = after.find(l => l.msg === 'interrupted splits finished')
    t.equal(Number(resumedLine?.resumed ?? 0), splitting.length, `attempt ${attempts}: the node resumed exactly the ${splitting.length} splits SPLITTING on disk`)
    if (target !== undefined) {
      const doneLine = after.find(l => l.msg === 'split done' && l.bucket === WIDE && Number(l.newShard) === target?.newShard)
      t.equal(Number(doneLine?.moved), target.movers, `resume moved the ${target.movers} entries left`)
    }
    await verify(t, node.clients, attempts, BUCKET, model, INITIAL)
    await verify(t, node.clients, attempts, WIDE, wideModel, 1)
    if (splitting.length > 0) cycles++
  }
  t.ok(cycles >= WANTED_CYCLES, `${cycles} kills landed while a shard was SPLITTING on disk, in ${attempts} attempts`)
  t.ok(partialResumes > 0, `${partialResumes} kills left a split partly migrated`)

  // Writes keep working after the last restart, and splits too.
  const before = (await listShards(node.clients, BUCKET)).shards.length
  const writers = startWriters(node.clients, 8)
  await waitFor(() => writers.acks() > 400, { timeoutMs: 20_000, what: 'writes after the last restart' })
  writers.stop()
  await writers.done
  await waitFor(async () => (await listShards(node.clients, BUCKET)).shards.every(s => s.state !== 'SPLIT_STATE_SPLITTING') || undefined, { timeoutMs: 20_000, what: 'splits to finish' })
  t.ok((await listShards(node.clients, BUCKET)).shards.length > before, 'auto splits go on after the restarts')
  await verify(t, node.clients, attempts + 1, BUCKET, model, INITIAL)
})

t.test('SplitShard of a shard that is already splitting: FAILED_PRECONDITION / SHARD_SPLITTING', async (t) => {
  const c = node.clients
  await callUnary(c.object, 'CreateBucket', { name: 'forced', initialShards: 1, autoSplit: false })
  for (let i = 0; i < 50; i++) await putObject(c, 'forced', `f${i}`, Buffer.from(String(i)))
  const first = callUnary<object, { shard: number, newShard: number }>(c.admin, 'SplitShard', { bucket: 'forced', shard: 0 })
  await waitFor(async () => (await listShards(c, 'forced')).shards[0].state === 'SPLIT_STATE_SPLITTING' || undefined, { timeoutMs: 5000, intervalMs: 5, what: 'SPLITTING' })
  try {
    await callUnary(c.admin, 'SplitShard', { bucket: 'forced', shard: 0 })
    t.fail('second split accepted')
  } catch (err) {
    t.equal((err as ShardsyncError).code, 'SHARD_SPLITTING')
    t.equal(((err as ShardsyncError).cause as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION)
  }
  t.match(await first, { shard: 0, newShard: 1 })
  const after = await listShards(c, 'forced')
  t.equal(after.shards.length, 2, 'only one split happened')
  t.equal(after.shards.reduce((n, s) => n + Number(s.indexCount), 0), 50)
})
