/**
 * The bench's memory timelines (scripts/bench/common.ts), on this process:
 * - RssSampler keeps the peaks and, once per timelineMs, a point
 *   [seconds, RSS MiB, anonymous MiB] read from /proc (real, Linux).
 *   Shown to fail when every sample is added to the timeline (too many
 *   points) and when none is.
 * - liveHeap lines the preload's collections up on the sync's clock: only
 *   those at or after `since`, in seconds from it. Shown to fail without
 *   the filter (a collection before the sync is listed).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { liveHeap, RssSampler, sleep } from '../scripts/bench/common'

t.test('RssSampler: one timeline point per period, and the peaks', { skip: process.platform === 'linux' ? false : 'reads /proc' }, async t => {
  const sampler = new RssSampler({ self: process.pid, gone: undefined }, 20, 100)
  await sleep(560)
  const peaks = sampler.stop()
  const line = sampler.timeline.get('self') ?? []
  t.ok(line.length >= 4 && line.length <= 8, `about one point per 100 ms over 560 ms (${line.length})`)
  for (let i = 1; i < line.length; i++) t.ok(line[i][0] > line[i - 1][0], 'seconds increase')
  t.ok(line.every(([, rss, anon]) => rss > 0 && anon > 0 && anon <= rss), 'RSS and its anonymous part, in MiB')
  t.ok(peaks.self.rssMiB >= Math.max(...line.map(p => p[1])), 'the peak is at least every point')
  t.notOk(sampler.timeline.has('gone'), 'a process without a pid has no timeline')
})

t.test('liveHeap: collections from the start of the sync, in seconds from it', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-bench-heap-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const since = Date.now()
  // What heap-preload.ts writes (epoch ms per collection); the full
  // collection already reported, so liveHeap does not wait for one.
  fs.mkdirSync(path.join(dir, 'heap'), { recursive: true })
  const stats = {
    majorGcs: 3,
    maxLiveBytes: 20 * 2 ** 20,
    maxHeapTotalBytes: 60 * 2 ** 20,
    endLiveBytes: 15 * 2 ** 20,
    gcs: [[since - 5000, 10, 40, 1], [since + 1500, 20, 60, 2], [since + 3000, 18, 55, 3]]
  }
  fs.writeFileSync(path.join(dir, 'heap', `heap.${process.pid}.json`), JSON.stringify(stats))
  // liveHeap asks the process for a full collection with SIGUSR2.
  const onSignal = (): void => {}
  process.on('SIGUSR2', onSignal)
  t.teardown(() => { process.off('SIGUSR2', onSignal) })
  const heap = await liveHeap({ root: dir } as unknown as Parameters<typeof liveHeap>[0], process.pid, since)
  t.equal(heap?.maxLiveMiB, 20)
  t.equal(heap?.endLiveMiB, 15)
  t.same(heap?.gcTimeline, [[1.5, 20, 60, 2], [3, 18, 55, 3]], 'the collection before the sync is left out')
})
