/**
 * Crash during small-object writes (storage/content-store.ts): a real node
 * process takes concurrent puts, overwrites and deletes of small objects,
 * whose content goes to a second LevelDB ahead of each commit batch and
 * whose dropped versions are deleted after it, and is killed with SIGKILL
 * in the middle, several times. At each kill a copy of the data directory
 * is audited as the crash left it; after each restart every acknowledged
 * write reads back (a write in flight is wholly there or not); after a
 * clean stop every chunk belongs to a live head, every live head has its
 * chunks, and no write-ahead intent is left. A node that deleted a chunk
 * before its head changed, committed a head before its chunk, or left the
 * chunks of a crash behind fails here.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { createBucket } from '../node/cli/object-commands'
import { callUnary } from '../node/rpc/clients'
import { NodeProcess, waitFor } from '../scripts/lib/cluster'
import { AckedWrites } from './acked-writes'
import { auditContent } from './content-audit'

t.setTimeout(180_000)

const BUCKET = 'small'
const KEYS = 64
const CYCLES = 4

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-crash-content-'))
const node = new NodeProcess({ site: 'A', logFile: path.join(scratch, 'node.log'), dataDir: path.join(scratch, 'data'), args: ['--shards', '4'] })
t.teardown(async () => {
  await node.kill9().catch(() => {})
  if (!t.passing()) t.comment(fs.readFileSync(path.join(scratch, 'node.log'), 'utf8').split('\n').slice(-25).join('\n'))
  fs.rmSync(scratch, { recursive: true, force: true })
})

const writes = new AckedWrites(node, BUCKET, () => crypto.randomBytes(1 + Math.floor(Math.random() * 4096)))

t.test('kill -9 during small writes: acknowledged objects intact, no orphan chunk, no intent left', async t => {
  await node.start()
  await createBucket(node.clients, BUCKET, { shards: 4 })
  const names = Array.from({ length: KEYS }, (_, i) => `obj-${i}`)
  let leftByCrashes = 0
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const stop = { now: false }
    const writers = names.map(async k => await writes.writer(k, stop))
    const target = writes.acks + 4 * KEYS
    await waitFor(() => writes.acks >= target, { timeoutMs: 60_000, intervalMs: 5, what: `${4 * KEYS} more acknowledged writes` })
    await node.kill9()
    stop.now = true
    await Promise.all(writers)

    // The crash state, audited on a copy (the restart must find it untouched).
    const copy = path.join(scratch, `copy-${cycle}`)
    fs.cpSync(node.dataDir, copy, { recursive: true })
    const atKill = await auditContent(copy)
    fs.rmSync(copy, { recursive: true, force: true })
    t.same(atKill.missing, [], `cycle ${cycle + 1}: at the kill, every live head already has its chunks`)
    t.comment(`cycle ${cycle + 1}: at the kill ${atKill.intents} intents, ${atKill.orphans.length > 0 ? 'some' : 'no'} orphan chunks on disk`)
    if (atKill.intents > 0 || atKill.orphans.length > 0) leftByCrashes++

    await node.restart()
    await waitFor(async () => await callUnary(node.clients.object, 'ListBuckets', {}).then(() => true), { timeoutMs: 20_000, what: 'the node to answer after restart' })
    const wrong = await writes.wrongAfterRestart(names)
    t.same(wrong, [], `cycle ${cycle + 1}: every key holds its acknowledged version (or the one in flight at the kill)`)
  }
  t.ok(leftByCrashes > 0, `${leftByCrashes} of ${CYCLES} kills left intents or unsettled chunks for the restart to settle`)

  t.equal(await node.stop(), 0, 'clean stop')
  const audit = await auditContent(node.dataDir)
  t.same(audit.orphans, [], 'every chunk belongs to a live head')
  t.same(audit.missing, [], 'every live head has all its chunks')
  t.equal(audit.liveHeads, [...writes.acked.values()].filter(v => v !== null).length, 'one live head per live key')
  t.equal(audit.intents, 0, 'no intent left')
  t.equal(audit.chunksInMain, 0, 'no chunk in the main database')
})
