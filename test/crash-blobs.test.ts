/**
 * Crash during large-object writes: a real node process takes concurrent
 * PutObject streams of objects over 1 MiB (blob files), overwrites and
 * deletes of them, and is killed with SIGKILL in the middle, several times.
 * After each restart:
 * - every acknowledged write reads back with its etag (deletes stay
 *   deleted); a write in flight at the kill is either wholly there or not;
 * - once the node is stopped cleanly, the blob directory holds exactly one
 *   file per live large head, of its size, and LevelDB no upload or garbage
 *   marker (start-up removed the files of uploads that never committed and
 *   of versions whose removal the kill interrupted).
 * A node that left orphan files, removed a file before its head changed, or
 * committed a head before its file was whole fails here.
 *
 * The second test does the same to a target while it copies large objects
 * from a source (the replicated-put path: files written under markers by
 * the sync, versions that lose last-writer-wins dropped): killed mid-copy,
 * restarted, it converges (verify --deep) and keeps no orphan file.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { createBucket, putObject } from '../node/cli/object-commands'
import { callUnary } from '../node/rpc/clients'
import { connectOneWay, NodeProcess, runCli, waitFor } from '../scripts/lib/cluster'
import { openDatabase } from '../storage/database'
import type { ObjectHead } from '../storage/records'
import { AckedWrites } from './acked-writes'
import { blobFiles } from './blob-files'

t.setTimeout(240_000)

const BUCKET = 'blobs'
const KEYS = 12
const CYCLES = 3

const logFile = path.join(os.tmpdir(), `shardsync-crash-blobs-${process.pid}.log`)
const node = new NodeProcess({ site: 'A', logFile, args: ['--shards', '2'] })
t.teardown(async () => {
  await node.kill9().catch(() => {})
  if (!t.passing() && fs.existsSync(logFile)) t.comment(fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n'))
  fs.rmSync(node.dataDir, { recursive: true, force: true })
  fs.rmSync(logFile, { force: true })
})

/**
 * After a clean stop: no upload or garbage marker in LevelDB, and exactly one
 * blob file per live large head, of its size. Returns the live large heads.
 */
async function assertBlobsClean (t: Test, dataDir: string): Promise<number> {
  const db = await openDatabase(dataDir)
  try {
    const liveBlobs = new Map<string, number>()
    for await (const [, v] of db.iterator({ gt: 'h!', lt: 'h"' })) {
      const head = v as ObjectHead
      if (head.deleted !== true && head.blob === true && head.dataId !== undefined) liveBlobs.set(head.dataId, head.size)
    }
    const markers: string[] = []
    for await (const k of db.keys({ gt: 'g!', lt: 'g"' })) markers.push(k)
    for await (const k of db.keys({ gt: 'u!', lt: 'u"' })) markers.push(k)
    t.same(markers, [], 'no upload or garbage markers left')
    const files = blobFiles(dataDir)
    t.ok(liveBlobs.size > 0, `live large objects remain (${liveBlobs.size})`)
    t.same([...files.keys()].filter(f => !liveBlobs.has(f)), [], 'no orphan blob file')
    t.same([...liveBlobs].filter(([id, size]) => files.get(id) !== size).map(([id]) => id), [], 'every live large head has its whole file')
    return liveBlobs.size
  } finally {
    await db.close()
  }
}

const writes = new AckedWrites(node, BUCKET, () => crypto.randomBytes(1024 * 1024 + 1 + Math.floor(Math.random() * 3 * 1024 * 1024)))

t.test('kill -9 during large writes: acknowledged objects intact, no orphan blob files', async t => {
  await node.start()
  await createBucket(node.clients, BUCKET, { shards: 2 })
  const keys = Array.from({ length: KEYS }, (_, i) => `big-${i}`)
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const stop = { now: false }
    const writers = keys.map(async k => await writes.writer(k, stop))
    // Let some writes complete and others be mid-stream, then kill.
    const target = writes.acks + KEYS
    await waitFor(() => writes.acks >= target, { timeoutMs: 60_000, intervalMs: 20, what: `${KEYS} more acknowledged writes` })
    await new Promise(resolve => setTimeout(resolve, 100 + Math.floor(Math.random() * 200)))
    await node.kill9()
    stop.now = true
    await Promise.all(writers)
    await node.restart()
    // The client's channel may still be backing off from the kill.
    await waitFor(async () => await callUnary(node.clients.object, 'ListBuckets', {}).then(() => true), { timeoutMs: 20_000, what: 'the node to answer after restart' })
    const wrong = await writes.wrongAfterRestart(keys)
    t.same(wrong, [], `cycle ${cycle + 1}: every key holds its acknowledged version (or the one in flight at the kill)`)
  }

  t.equal(await node.stop(), 0, 'clean stop')
  await assertBlobsClean(t, node.dataDir)
})

t.test('kill -9 of a target copying large objects: it converges and keeps no orphan file', async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-crash-blobs-sync-'))
  const args = ['--shards', '2', '--sync-interval-ms', '200']
  const src = new NodeProcess({ site: 'src', dataDir: path.join(root, 'src'), logFile: path.join(root, 'src.log'), args })
  const dst = new NodeProcess({ site: 'dst', dataDir: path.join(root, 'dst'), logFile: path.join(root, 'dst.log'), args })
  t.teardown(async () => {
    await Promise.all([src.kill9().catch(() => {}), dst.kill9().catch(() => {})])
    if (t.passing()) fs.rmSync(root, { recursive: true, force: true })
    else t.comment(`kept ${root}`)
  })
  await src.start()
  await dst.start()
  await createBucket(src.clients, 'big', { shards: 2 })
  const put = async (k: string): Promise<void> => { await putObject(src.clients, 'big', k, crypto.randomBytes(1024 * 1024 + 1 + Math.floor(Math.random() * 2 * 1024 * 1024))) }
  const names = Array.from({ length: 40 }, (_, i) => `obj-${i}`)
  for (const k of names) await put(k)
  await connectOneWay(src, dst)
  for (let cycle = 0; cycle < 2; cycle++) {
    // Kill the target once it holds some, not all, of the objects.
    await waitFor(async () => {
      const b = (await callUnary<object, { buckets: Array<{ name: string, objectCount: number }> }>(dst.clients.object, 'ListBuckets', {})).buckets.find(x => x.name === 'big')
      return Number(b?.objectCount ?? 0) > 0
    }, { timeoutMs: 60_000, intervalMs: 10, what: 'the target to hold a first object' })
    await dst.kill9()
    // Overwrite and delete some while it is down: it must replace and drop files.
    for (const k of names.slice(cycle * 10, cycle * 10 + 8)) await put(k)
    await callUnary(src.clients.object, 'DeleteObject', { bucket: 'big', key: names[cycle * 10 + 9] })
    await dst.restart()
  }
  await waitFor(async () => {
    const r = await runCli(['verify', '--source', src.address, '--target', dst.address, '--bucket', 'big', '--deep'], { timeoutMs: 60_000 })
    return r.code === 0 ? r : undefined
  }, { timeoutMs: 120_000, intervalMs: 500, what: 'verify --deep to report the sites identical' })
  t.pass('verify --deep: the target holds exactly the source\'s large objects')
  t.equal(await dst.stop(), 0, 'clean stop of the target')
  t.equal(await assertBlobsClean(t, dst.dataDir), names.length - 2, 'one file per live object on the target')
})
