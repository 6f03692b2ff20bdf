/**
 * Event-loop pauses of one process: a timer due every TICK_MS notes each
 * time it fired more than PAUSE_MS late, as [epoch ms when the pause began,
 * pause ms]. Used by heap-preload.ts in every measured node and by the lag
 * section in the bench process itself, so that a stall in the lag timeline
 * can be put down to a process whose main thread stopped (a long
 * collection, a long synchronous task) or, if none did, to waiting on
 * something outside JavaScript (disk, LevelDB, the network).
 * Its cost: TICK_MS apart, one timer callback.
 */
export const TICK_MS = 20
export const PAUSE_MS = 100
const MAX_PAUSES = 200

/** Rows stamped in epoch ms, from `since` on, restamped in seconds from it (0.1 s). */
export function rowsSince (rows: readonly number[][] | undefined, since: number): number[][] {
  return (rows ?? []).filter(r => r[0] >= since).map(([t, ...rest]) => [Math.round((t - since) / 100) / 10, ...rest])
}

export class PauseMonitor {
  readonly pauses: number[][] = []
  private timer: NodeJS.Timeout | undefined
  private expected = 0

  constructor (private readonly onPause?: () => void) {}

  start (): this {
    this.expected = Date.now() + TICK_MS
    this.timer = setInterval(() => this.tick(), TICK_MS)
    this.timer.unref()
    return this
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Pauses that began at or after `since` (epoch ms): [seconds since, pause ms]. */
  since (since: number): number[][] {
    return rowsSince(this.pauses, since)
  }

  private tick (): void {
    const t = Date.now()
    const late = t - this.expected
    this.expected = t + TICK_MS
    if (late <= PAUSE_MS) return
    this.pauses.push([t - late, late])
    if (this.pauses.length > MAX_PAUSES) this.pauses.shift()
    this.onPause?.()
  }
}
