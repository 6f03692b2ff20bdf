/**
 * The pure half of the soak (scripts/soak.ts): reading gauges out of
 * Prometheus text, the plateau verdict of a series, and the table. No I/O,
 * so test/ops/soak.test.ts can check the verdict on made-up series.
 */

export interface SiteSample {
  /** Bytes of every file under the site's data directory (recursive). */
  diskBytes: number
  /** Sum over labels of shardsync_log_entries; null when the node has no such gauge. */
  logEntries: number | null
  /** Sum over labels of shardsync_tombstones; null when the node has no such gauge. */
  tombstones: number | null
  /** Operations this site acknowledged so far (puts + overwrites + deletes). */
  ops: number
}

export interface Sample {
  /** Seconds since the writers started. */
  t: number
  /** 'run' while the writers run; 'end' once they stopped, the sites synced and verify ran. */
  phase: 'run' | 'end'
  sites: Record<string, SiteSample>
}

/**
 * Sum over every sample of a metric family (any labels); null when the text
 * has no sample of that name at all (the node does not export it).
 */
export function gaugeSum (text: string, name: string): number | null {
  let sum: number | null = null
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const value = Number(rest.slice(rest.lastIndexOf('}') + 1).trim().split(/\s+/)[0])
    if (Number.isFinite(value)) sum = (sum ?? 0) + value
  }
  return sum
}

export type Verdict = 'plateau' | 'growing' | 'n/a'

export interface PlateauResult {
  verdict: Verdict
  /** Why n/a, or the comparison in words. */
  reason: string
  middleMax: number | null
  lastMax: number | null
  /** lastMax / middleMax (null when not comparable). */
  ratio: number | null
}

/** The rule, in one place: the last third's maximum at most this times the middle third's. */
export const PLATEAU_FACTOR = 1.25

/**
 * Plateau verdict of one series over a run of `seconds`: the maximum over
 * the last third (t >= 2/3) is at most PLATEAU_FACTOR x the maximum over the
 * middle third (1/3 <= t < 2/3), while the operation count kept growing over
 * the last third. n/a when a third has no sample or the series has no values.
 */
export function plateau (points: Array<{ t: number, value: number | null, ops: number }>, seconds: number): PlateauResult {
  const middle = points.filter(p => p.t >= seconds / 3 && p.t < 2 * seconds / 3)
  const last = points.filter(p => p.t >= 2 * seconds / 3)
  const none = (reason: string): PlateauResult => ({ verdict: 'n/a', reason, middleMax: null, lastMax: null, ratio: null })
  if (points.some(p => p.value === null)) return none('gauge missing')
  if (middle.length === 0 || last.length === 0) return none('too few samples')
  const max = (ps: typeof points): number => Math.max(...ps.map(p => p.value as number))
  const middleMax = max(middle)
  const lastMax = max(last)
  const opsGrew = last[last.length - 1].ops > middle[middle.length - 1].ops
  if (!opsGrew) return { verdict: 'n/a', reason: 'operations did not grow over the last third', middleMax, lastMax, ratio: null }
  const ratio = middleMax === 0 ? (lastMax === 0 ? 1 : Infinity) : lastMax / middleMax
  const ok = lastMax <= PLATEAU_FACTOR * middleMax
  return {
    verdict: ok ? 'plateau' : 'growing',
    reason: `max of last third ${fmt(lastMax)} ${ok ? '<=' : '>'} ${PLATEAU_FACTOR} x max of middle third ${fmt(middleMax)}`,
    middleMax,
    lastMax,
    ratio: Number.isFinite(ratio) ? Math.round(ratio * 1000) / 1000 : null
  }
}

export type SeriesName = 'diskMiB' | 'logEntries' | 'tombstones' | 'ops'

/** Column arrays per site, aligned with `t` (the JSON's `series`). */
export function toSeries (samples: Sample[], sites: string[]): { t: number[], phase: string[] } & Record<string, Record<SeriesName, Array<number | null>>> {
  const out: Record<string, unknown> = { t: samples.map(s => s.t), phase: samples.map(s => s.phase) }
  for (const site of sites) {
    out[site] = {
      diskMiB: samples.map(s => round(s.sites[site].diskBytes / 1048576, 2)),
      logEntries: samples.map(s => s.sites[site].logEntries),
      tombstones: samples.map(s => s.sites[site].tombstones),
      ops: samples.map(s => s.sites[site].ops)
    }
  }
  return out as ReturnType<typeof toSeries>
}

/** Plateau verdicts of disk, log entries and tombstones of every site, over the samples taken while writing. */
export function plateaus (samples: Sample[], sites: string[], seconds: number): Record<string, PlateauResult> {
  const run = samples.filter(s => s.phase === 'run')
  const out: Record<string, PlateauResult> = {}
  for (const site of sites) {
    for (const [name, read] of [
      ['diskMiB', (s: SiteSample) => s.diskBytes / 1048576],
      ['logEntries', (s: SiteSample) => s.logEntries],
      ['tombstones', (s: SiteSample) => s.tombstones]
    ] as const) {
      out[`${site}.${name}`] = plateau(run.map(s => ({ t: s.t, value: read(s.sites[site]), ops: s.sites[site].ops })), seconds)
    }
  }
  return out
}

/** The table over time: t, then per site disk MiB, log entries, tombstones, ops so far. */
export function formatTable (samples: Sample[], sites: string[]): string {
  const head = ['t (s)', ...sites.flatMap(s => [`${s} disk MiB`, `${s} log`, `${s} tomb`, `${s} ops`])]
  const rows = samples.map(x => [
    x.phase === 'end' ? `${x.t.toFixed(0)} end` : x.t.toFixed(0),
    ...sites.flatMap(s => {
      const v = x.sites[s]
      return [(v.diskBytes / 1048576).toFixed(2), v.logEntries === null ? '-' : String(v.logEntries), v.tombstones === null ? '-' : String(v.tombstones), String(v.ops)]
    })
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ')
  return [line(head), ...rows.map(line)].join('\n') + '\n'
}

export function formatPlateaus (results: Record<string, PlateauResult>): string {
  const w = Math.max(...Object.keys(results).map(k => k.length))
  return Object.entries(results).map(([k, r]) => `  ${k.padEnd(w)}  ${r.verdict.padEnd(8)} ${r.reason}`).join('\n') + '\n'
}

function fmt (v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2)
}

function round (v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}
