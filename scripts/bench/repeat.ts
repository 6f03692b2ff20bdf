/**
 * `npm run bench -- --repeat N`: the figures the targets of issue 28 judge,
 * from N runs of the bench, with their medians ("medians over at least 3
 * runs on this kind of machine").
 *
 * Called by scripts/bench.ts, which runs the whole bench N times in a row,
 * each run a child process of its own (fresh nodes, fresh scratch
 * directories), and hands the N JSON reports here. Pure: no I/O.
 */

/** The targets (scripts/bench.ts TARGETS). */
export interface Targets {
  fullSyncRatio: number
  cpuPerObjectRatio: number
  rcloneRatio: number
  largeOverBareCopy: number
  lagP99Ms: number
  splitStallMs: number
  peakRssMiB: number
  rssGrowth: number
}

interface Figure {
  name: string
  target: string
  read: (report: Report) => number | undefined
  /** Whether a value meets the target; absent for figures that only inform. */
  meets?: (v: number) => boolean
}

/** What this module reads of a bench report (the JSON scripts/bench.ts writes). */
export interface Report {
  meta?: { leveldbPatches?: string }
  baseline?: { tcp?: { objectsPerSecond?: number } }
  fullSync?: { objectsPerSecond?: number, cpuMicrosPerObject?: number }
  fullSyncOtherPath?: { path?: string, objectsPerSecond?: number, cpuMicrosPerObject?: number }
  rclone?: { objectsPerSecond?: number }
  ratio?: { fullSyncOverBaseline?: number, cpuPerObjectOverBaseline?: number, fullSyncOverRclone?: number }
  largeObjects?: { mibPerSecond?: number, overRawCopy?: number }
  lag?: { lagMs?: { p99?: number }, missing?: number }
  splitStall?: { splitSeconds?: number, splittingShardMaxMs?: number, siblingShardMaxMs?: number }
  memory?: { runs?: Array<{ objects: number, sourcePeakRssMiB: number, targetPeakRssMiB: number }>, peakGrowth?: number }
  scale?: { identical?: boolean }
}

export interface FigureSummary {
  name: string
  /** One per run, in order; undefined where that run has no such figure. */
  values: Array<number | undefined>
  median: number | undefined
  target: string
  /** Whether the median meets the target; undefined for figures without one or without values. */
  ok: boolean | undefined
}

function judged (t: Targets): Figure[] {
  const largestMemoryRun = (r: Report): { sourcePeakRssMiB: number, targetPeakRssMiB: number } | undefined =>
    (r.memory?.runs ?? []).reduce<{ objects: number, sourcePeakRssMiB: number, targetPeakRssMiB: number } | undefined>((a, b) => a === undefined || b.objects > a.objects ? b : a, undefined)
  return [
    { name: 'baseline, raw TCP (obj/s)', target: '', read: r => r.baseline?.tcp?.objectsPerSecond },
    { name: 'full sync (obj/s)', target: '', read: r => r.fullSync?.objectsPerSecond },
    { name: 'full sync CPU per object (µs)', target: '', read: r => r.fullSync?.cpuMicrosPerObject },
    { name: 'full sync, other path (obj/s)', target: '', read: r => r.fullSyncOtherPath?.objectsPerSecond },
    { name: 'full sync, other path, CPU per object (µs)', target: '', read: r => r.fullSyncOtherPath?.cpuMicrosPerObject },
    { name: 'rclone copy (obj/s)', target: '', read: r => r.rclone?.objectsPerSecond },
    { name: 'ratio full sync / baseline', target: `>= ${t.fullSyncRatio}`, read: r => r.ratio?.fullSyncOverBaseline, meets: v => v >= t.fullSyncRatio },
    { name: 'ratio CPU per object / baseline', target: `<= ${t.cpuPerObjectRatio}`, read: r => r.ratio?.cpuPerObjectOverBaseline, meets: v => v <= t.cpuPerObjectRatio },
    { name: 'ratio full sync / rclone', target: `>= ${t.rcloneRatio}`, read: r => r.ratio?.fullSyncOverRclone, meets: v => v >= t.rcloneRatio },
    { name: 'large objects (MiB/s)', target: '', read: r => r.largeObjects?.mibPerSecond },
    { name: 'ratio large objects / bare file copy', target: `>= ${t.largeOverBareCopy}`, read: r => r.largeObjects?.overRawCopy, meets: v => v >= t.largeOverBareCopy },
    // A run that lost objects fails the lag target whatever its p99.
    { name: 'incremental lag p99 (ms)', target: `<= ${t.lagP99Ms}`, read: r => r.lag?.lagMs?.p99 === undefined ? undefined : (r.lag.missing ?? 0) > 0 ? Infinity : r.lag.lagMs.p99, meets: v => v <= t.lagP99Ms },
    { name: 'split of the big shard (ms)', target: `<= ${t.splitStallMs}`, read: r => r.splitStall?.splitSeconds === undefined ? undefined : r.splitStall.splitSeconds * 1000, meets: v => v <= t.splitStallMs },
    { name: 'max PUT wait on the splitting shard (ms)', target: `<= ${t.splitStallMs}`, read: r => r.splitStall?.splittingShardMaxMs, meets: v => v <= t.splitStallMs },
    { name: 'peak RSS of either node, largest memory run (MiB)', target: `<= ${t.peakRssMiB}`, read: r => { const m = largestMemoryRun(r); return m === undefined ? undefined : Math.max(m.sourcePeakRssMiB, m.targetPeakRssMiB) }, meets: v => v <= t.peakRssMiB },
    { name: 'peak RSS growth, smallest to largest run', target: `<= ${t.rssGrowth}`, read: r => r.memory?.peakGrowth, meets: v => v <= t.rssGrowth },
    { name: 'scale: verify identical (1 = yes)', target: '= 1', read: r => r.scale?.identical === undefined ? undefined : r.scale.identical ? 1 : 0, meets: v => v === 1 }
  ]
}

/** The median of the defined values (the mean of the middle two for an even count); undefined if none. */
export function median (values: ReadonlyArray<number | undefined>): number | undefined {
  const xs = values.filter((v): v is number => v !== undefined && !Number.isNaN(v)).sort((a, b) => a - b)
  if (xs.length === 0) return undefined
  const mid = xs.length >> 1
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

/** Every judged figure of the runs, with its median and whether that meets the target. */
export function summarizeRuns (reports: readonly Report[], targets: Targets): FigureSummary[] {
  return judged(targets).map(f => {
    const values = reports.map(r => f.read(r))
    const m = median(values)
    return { name: f.name, values, median: m, target: f.target, ok: f.meets === undefined || m === undefined ? undefined : f.meets(m) }
  })
}
