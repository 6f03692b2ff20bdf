/**
 * The medians of `npm run bench -- --repeat N` (scripts/bench/repeat.ts),
 * as pure logic over made-up reports: the median of an odd and an even
 * number of runs, runs without a section, a lag run that lost objects
 * counted as failing, and peak RSS read from the largest memory run only.
 * Shown to fail with a mean instead of a median, and with the RSS of every
 * memory run instead of the largest.
 */
import t from 'tap'
import { median, summarizeRuns, type Report } from '../scripts/bench/repeat'
import { fullSyncRatios } from '../scripts/bench/ratios'
import type { BaselineRun } from '../scripts/bench/baseline'
import type { FullSyncRun } from '../scripts/bench/fullsync'
import type { RcloneRun } from '../scripts/bench/rclone'

const TARGETS = { fullSyncRatio: 0.35, cpuPerObjectRatio: 3, rcloneRatio: 2, largeOverBareCopy: 0.9, lagP99Ms: 250, splitStallMs: 1000, peakRssMiB: 300, rssGrowth: 0.2 }

t.test('median', async t => {
  t.equal(median([3, 1, 2]), 2, 'odd count: the middle one')
  t.equal(median([4, 1, 3, 2]), 2.5, 'even count: the mean of the middle two')
  t.equal(median([5, undefined, 1, 100]), 5, 'runs without the figure are left out')
  t.equal(median([undefined]), undefined, 'no values: none')
})

t.test('the judged figures of three runs', async t => {
  const memory = (small: number, large: number): Report['memory'] => ({
    runs: [{ objects: 100_000, sourcePeakRssMiB: 500, targetPeakRssMiB: 480 }, { objects: 1_000_000, sourcePeakRssMiB: small, targetPeakRssMiB: large }],
    peakGrowth: 0.1
  })
  const reports: Report[] = [
    { ratio: { fullSyncOverBaseline: 0.2, cpuPerObjectOverBaseline: 4 }, largeObjects: { mibPerSecond: 240, overRawCopy: 0.8 }, lag: { lagMs: { p99: 100 }, missing: 0 }, memory: memory(280, 290), scale: { identical: true } },
    { ratio: { fullSyncOverBaseline: 0.8, cpuPerObjectOverBaseline: 2 }, largeObjects: { mibPerSecond: 300, overRawCopy: 1.1 }, lag: { lagMs: { p99: 90 }, missing: 3 }, memory: memory(250, 260), scale: { identical: true } },
    { ratio: { fullSyncOverBaseline: 0.3, cpuPerObjectOverBaseline: 2.5 }, largeObjects: { mibPerSecond: 260, overRawCopy: 0.95 }, lag: { lagMs: { p99: 200 }, missing: 0 }, memory: memory(310, 200) }
  ]
  const by = new Map(summarizeRuns(reports, TARGETS).map(f => [f.name, f]))
  t.match(by.get('ratio full sync / baseline'), { median: 0.3, ok: false }, 'one good run does not meet the target')
  t.match(by.get('ratio CPU per object / baseline'), { median: 2.5, ok: true }, 'an upper bound: met at or below it')
  t.match(by.get('large objects (MiB/s)'), { values: [240, 300, 260], median: 260, ok: undefined }, 'informs; the ratio is judged')
  t.match(by.get('ratio large objects / bare file copy'), { median: 0.95, ok: true })
  t.match(by.get('incremental lag p99 (ms)'), { values: [100, Infinity, 200], median: 200, ok: true }, 'a run that lost objects counts as the worst')
  t.match(by.get('peak RSS of either node, largest memory run (MiB)'), { values: [290, 260, 310], median: 290, ok: true }, 'the larger node of the largest run, not the 100,000-object run')
  t.match(by.get('scale: verify identical (1 = yes)'), { values: [1, 1, undefined], median: 1, ok: true })
  t.match(by.get('full sync (obj/s)'), { values: [undefined, undefined, undefined], median: undefined, ok: undefined }, 'a figure no run has')
})

t.test('the full-sync ratios of one run', async t => {
  const tcp = { transport: 'tcp', objects: 100_000, objectsPerSecond: 100_000, senderCpuSeconds: 0.6, receiverCpuSeconds: 0.4, cpuMicrosPerObject: 10 } as unknown as BaselineRun
  const fs = { objectsPerSecond: 40_000, cpuMicrosPerObject: 25, path: 'stream' } as unknown as FullSyncRun
  const rclone = { objectsPerSecond: 16_000 } as unknown as RcloneRun
  const r = fullSyncRatios(fs, { tcp }, rclone)
  t.match(r, { fullSyncOverBaseline: 0.4, baselineCpuMicrosPerObject: 10, cpuPerObjectOverBaseline: 2.5, fullSyncOverRclone: 2.5, path: 'stream' }, 'CPU per object of both ends of the raw copy, not one')
  t.equal(fullSyncRatios(fs, { tcp }, undefined)?.fullSyncOverRclone, undefined, 'no rclone section, no rclone ratio')
  t.equal(fullSyncRatios(fs, {}, rclone), undefined, 'no raw copy, no ratios')
})
