/**
 * GcPacing: V8's heap headroom, widened while large objects stream through
 * the node and given back when they stop.
 *
 * Called by ObjectStore's blob store (storage/blob-store.ts) through the
 * `onLargeContent` hook, once per piece (about a MiB) of a large object read
 * from or written to its file; ShardsyncNode wires it when the operator left
 * `--heap-growth-percent` at 0 (V8 decides). Owns V8's heap growing factor,
 * which is process-wide: one instance per process (`gcPacing()`), shared by
 * every node in it.
 *
 * Why. Almost every byte of a large object passes through short-lived
 * buffers outside V8's heap (file pieces, gRPC's framed copies, HTTP/2's
 * read buffers). V8 picks its growing factor from the speed of allocation
 * on its own heap, which is slow here, so it keeps the headroom at its
 * minimum and, with a live heap of about 15 MiB, runs a major collection
 * every few MiB transferred: 98-123 per node for 1,600 MiB, 28 % of the
 * target's main thread. At a fixed 300 % (4x the live heap, V8's own upper
 * bound) the same transfer ran 28-44, and 289 instead of 198 MiB/s (README,
 * Performance). As a fixed setting it would cost memory everywhere (the
 * source of a 1,000,000-object sync of small objects peaked 54 MiB higher),
 * so it applies only while large content moves, plus `holdMs` after.
 *
 * V8 reads the flag each time it computes a limit (after a collection), so
 * a change takes effect from the next collection on. The flag is set only
 * on transitions, never per piece: `note()` is one clock read and one store.
 */
import v8 from 'node:v8'

export interface GcPacingOptions {
  /** Growing percent while large content moves (V8's --heap-growing-percent). */
  widePercent: number
  /** How long after the last piece the headroom stays wide. */
  holdMs: number
  /** Sets V8's growing percent (0: V8 decides). */
  setGrowingPercent: (percent: number) => void
  now?: () => number
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (t: unknown) => void
}

export class GcPacing {
  private lastNote = 0
  private timer: unknown
  private wide = false
  private readonly now: () => number

  constructor (private readonly opts: GcPacingOptions) {
    this.now = opts.now ?? Date.now
  }

  /** Large content moved: widen the headroom now if it is not already. */
  note (): void {
    this.lastNote = this.now()
    if (!this.wide) this.widen()
  }

  /** The growing percent in force: widePercent while wide, else 0 (V8 decides). */
  get percent (): number {
    return this.wide ? this.opts.widePercent : 0
  }

  /** Gives the headroom back at once (node stop). */
  close (): void {
    if (this.timer !== undefined) (this.opts.clearTimer ?? clearTimeout)(this.timer as NodeJS.Timeout)
    this.timer = undefined
    if (this.wide) this.narrow()
  }

  private widen (): void {
    this.wide = true
    this.opts.setGrowingPercent(this.opts.widePercent)
    this.schedule(this.opts.holdMs)
  }

  private narrow (): void {
    this.wide = false
    this.opts.setGrowingPercent(0)
  }

  /** Checks again when the hold would end; narrows once no piece came for holdMs. */
  private schedule (ms: number): void {
    const timer = (this.opts.setTimer ?? setTimeout)(() => {
      this.timer = undefined
      const idle = this.now() - this.lastNote
      if (idle >= this.opts.holdMs) this.narrow()
      else this.schedule(this.opts.holdMs - idle)
    }, ms) as { unref?: () => void }
    timer.unref?.()
    this.timer = timer
  }
}

/** Headroom while large content moves: 300 % (see above), held 2 s after the last piece. */
export const LARGE_CONTENT_GROWING_PERCENT = 300
const HOLD_MS = 2000

let shared: GcPacing | undefined

/** The process's one GcPacing, acting on V8's flag. */
export function gcPacing (): GcPacing {
  shared ??= new GcPacing({
    widePercent: LARGE_CONTENT_GROWING_PERCENT,
    holdMs: HOLD_MS,
    setGrowingPercent: (p) => v8.setFlagsFromString(`--heap-growing-percent=${p}`)
  })
  return shared
}
