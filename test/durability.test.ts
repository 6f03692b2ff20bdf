/**
 * --durability fsync on real node processes (issue 27, finding 8). A power
 * cut cannot be staged here, so this shows the wiring: with strace attached
 * to the node, small PUTs (one LevelDB batch each) make the node fsync its
 * LevelDB log (fdatasync/fsync) once per PUT or more in fsync mode and not
 * at all in the default mode; a large PUT also fsyncs the blob file's
 * directory. Both modes keep every acknowledged object across kill -9.
 * The strace part is skipped, saying so, where strace is missing.
 */
import { execFileSync, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import t from 'tap'
import { createBucket, putObject } from '../node/cli/object-commands'
import { NodeProcess, waitFor } from '../scripts/lib/cluster'
import { getAll } from './security/disk-full-helpers'

t.setTimeout(300_000)

function haveStrace (): boolean {
  try { execFileSync('strace', ['-V'], { stdio: 'pipe' }); return true } catch { return false }
}

/** Runs `work` with strace on the node's threads; returns the count of fsync-family calls and of directory opens synced. */
async function syncCalls (pid: number, work: () => Promise<void>): Promise<number> {
  const tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let out = ''
  tracer.stderr.on('data', (d: Buffer) => { out += d.toString() })
  // strace prints nothing until a call; give it a moment to attach by tracing a known call.
  await new Promise(resolve => setTimeout(resolve, 1000))
  await work()
  await new Promise(resolve => setTimeout(resolve, 300))
  tracer.kill('SIGINT')
  await new Promise(resolve => tracer.once('exit', resolve))
  return out.split('\n').filter(l => /\b(fsync|fdatasync)\(/.test(l)).length
}

for (const mode of ['default', 'fsync'] as const) {
  t.test(`--durability ${mode}`, async (t) => {
    const node = new NodeProcess({ site: 'A', args: ['--shards', '2', '--durability', mode] })
    await node.start()
    t.teardown(async () => { await node.stop() })
    await createBucket(node.clients, 'dur', { shards: 2 })
    const acked = new Map<string, string>()
    const put = async (key: string, size: number): Promise<void> => {
      const body = crypto.randomBytes(size)
      await putObject(node.clients, 'dur', key, body)
      acked.set(key, crypto.createHash('md5').update(body).digest('hex'))
    }
    if (haveStrace()) {
      const small = await syncCalls(node.proc?.pid as number, async () => { for (let i = 0; i < 20; i++) await put(`small-${i}`, 100) })
      if (mode === 'fsync') t.ok(small >= 20, `20 small PUTs: ${small} fsync/fdatasync calls (at least one each)`)
      else t.equal(small, 0, '20 small PUTs: no fsync in the default mode')
      const large = await syncCalls(node.proc?.pid as number, async () => { await put('large', 3 * 1024 * 1024) })
      // default: the blob file's fdatasync; fsync: that, its directory (and the one above when new), and the sync batch.
      if (mode === 'fsync') t.ok(large >= 3, `a large PUT: ${large} calls (file, directory, batch)`)
      else t.equal(large, 1, 'a large PUT: the blob file\'s fdatasync only')
    } else {
      t.comment('strace not found: the fsync calls are not counted')
      for (let i = 0; i < 20; i++) await put(`small-${i}`, 100)
      await put('large', 3 * 1024 * 1024)
    }
    await node.kill9()
    await node.start(node.port)
    await waitFor(() => true)
    t.same(await getAll(node.clients, 'dur', acked), acked, 'every acknowledged object after kill -9')
  })
}

t.test('--durability must be default or fsync', async (t) => {
  const node = new NodeProcess({ site: 'A', args: ['--durability', 'sometimes'] })
  await t.rejects(node.start(), /durability/, 'refused at start')
})
