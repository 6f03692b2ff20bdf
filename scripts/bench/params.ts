/**
 * The bench's parameters (sizes of every section, quick and full) and the
 * targets it judges (issue 28's goals, as ratios where they can be), used by
 * scripts/bench.ts and scripts/bench/repeat.ts. Pure: no I/O.
 */
/**
 * The goals of issue 28 (which replaced issue 5's), judged on one run or on
 * the medians of --repeat N:
 * - fullSyncRatio: full sync obj/s / raw-copy obj/s, at least;
 * - cpuPerObjectRatio: CPU µs per synced object (both nodes) / the raw
 *   copy's (sender and receiver), at most;
 * - rcloneRatio: full sync obj/s / `rclone copy` of the same files, at least;
 * - largeOverBareCopy: large-object full sync MiB/s / the bare file copy's;
 * - lagP99Ms at lagRate writes/s; splitStallMs; peakRssMiB at the largest
 *   memory run, and rssGrowth from the smallest to it, at most.
 */
export const TARGETS = {
  fullSyncRatio: 0.35,
  cpuPerObjectRatio: 3,
  rcloneRatio: 2,
  largeOverBareCopy: 0.9,
  lagP99Ms: 250,
  splitStallMs: 1000,
  peakRssMiB: 300,
  rssGrowth: 0.2
}

/** The full-sync paths the bench compares (node/sync: --full-sync-path); the first is the one the ratios judge. */
export const FULL_SYNC_PATHS = ['stream', 'list'] as const

export interface Params {
  n: number
  /** Copies per baseline transport; the median is used. */
  baselineReps: number
  /** Timed rclone copies of all N files (after tuning --transfers); the median is used. */
  rcloneReps: number
  /** 1: the full-sync section syncs the list path first (--repeat alternates it). */
  fullSyncListFirst: number
  objectBytes: number
  splitShards: number
  splitThreshold: number
  largeCount: number
  largeBytes: number
  lagRate: number
  lagSeconds: number
  lagWarmupSeconds: number
  splitEntries: number
  splitWriterRate: number
  memoryCounts: [number, number]
  memoryObjectBytes: number
  scaleCount: number
  scaleShards: number
  scaleThreshold: number
  durabilitySmallCount: number
  durabilityLargeCount: number
  s3SmallCount: number
  s3LargeCount: number
}

export function params (quick: boolean): Params {
  return {
    n: quick ? 10_000 : 100_000,
    baselineReps: quick ? 1 : 3,
    rcloneReps: quick ? 1 : 3,
    fullSyncListFirst: 0,
    objectBytes: 1024,
    splitShards: 4,
    splitThreshold: 1000,
    largeCount: quick ? 16 : 200,
    largeBytes: 8 * 1024 * 1024,
    lagRate: 5000,
    lagSeconds: quick ? 3 : 15,
    lagWarmupSeconds: quick ? 1 : 3,
    splitEntries: quick ? 10_000 : 100_000,
    splitWriterRate: 200,
    memoryCounts: quick ? [15_000, 3_000] : [1_000_000, 100_000],
    memoryObjectBytes: 100,
    scaleCount: quick ? 8_000 : 1_000_000,
    scaleShards: 4,
    scaleThreshold: 1000,
    durabilitySmallCount: quick ? 3_000 : 20_000,
    durabilityLargeCount: quick ? 8 : 40,
    s3SmallCount: quick ? 2_000 : 20_000,
    s3LargeCount: quick ? 4 : 16
  }
}

/** --set name=value overrides of the parameters (numbers; memoryCounts as big:small). */
export const overrides: Array<[string, string]> = []

export function applyOverrides (p: Params): Params {
  const out: Record<string, unknown> = { ...p }
  for (const [k, v] of overrides) {
    if (!(k in out)) throw new Error(`unknown parameter ${k}; parameters: ${Object.keys(out).join(', ')}`)
    out[k] = k === 'memoryCounts' ? v.split(':').map(Number) : Number(v)
  }
  return out as unknown as Params
}


/** The bench's sections, in the order they run (--only picks some). */
export const SECTIONS = ['baseline', 'rclone', 'fullsync', 'large', 'lag', 'split', 'memory', 'scale', 'durability', 's3'] as const
