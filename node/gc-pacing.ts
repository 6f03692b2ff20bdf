/**
 * GcPacing: V8's heap headroom, held at a base (the node's
 * `--heap-growth-percent`, 100 by default) and widened while large objects
 * stream through the node, given back when they stop.
 *
 * Called by ObjectStore's blob store (storage/blob-store.ts) through the
 * `onLargeContent` hook, once per piece (about a MiB) of a large object read
 * from or written to its file; ShardsyncNode wires it. The node CLI sets the
 * base once at start-up (`setBase`). Owns V8's heap growing factor, which is
 * process-wide: one instance per process (`gcPacing()`), shared by every
 * node in it.
 *
 * Why a base. Left to itself, V8 lets the old generation grow to 4x the
 * live heap between major collections when the heap limit is large (it is
 * about 4 GiB on a machine with 24 GiB). A sync keeps 15-30 MiB alive, so
 * that pacing was most of what grew between a 100,000- and a
 * 1,000,000-object sync: the target's heap reached 112 MiB for 24 MiB live.
 * At 100 % it peaked at 80 MiB, and the target's peak RSS fell from 242 to
 * 190 MiB; in full sync of 100,000 x 1 KiB, from 216-248 to 188-198 MiB,
 * at the same CPU per object within the noise (README, Performance). The
 * flag replaces V8's choice in every mode, also the 1.1 its memory reducer
 * uses once a process goes quiet, so an idle node keeps up to 2x its live
 * heap (about 30 MiB for 15 live) instead of shrinking to 1.1x.
 *
 * Why widen. Almost every byte of a large object passes through short-lived
 * buffers outside V8's heap (file pieces, gRPC's framed copies, HTTP/2's
 * read buffers). V8 picks its growing factor from the speed of allocation
 * on its own heap, which is slow here, so it keeps the headroom at its
 * minimum and, with a live heap of about 15 MiB, runs a major collection
 * every few MiB transferred: 98-123 per node for 1,600 MiB, 28 % of the
 * target's main thread. At a fixed 300 % (4x the live heap, V8's own upper
 * bound) the same transfer ran 28-44, and 289 instead of 198 MiB/s (README,
 * Performance). As a fixed setting it would cost memory everywhere (the
 * source of a 1,000,000-object sync of small objects peaked 54 MiB higher),
 * so it applies only while large content moves, plus `holdMs` after. A base
 * at or above the wide percent is never narrowed or widened.
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
  /** Percent between large transfers; 0 lets V8 decide. */
  private base = 0
  private lastNote = 0
  private timer: unknown
  private wide = false
  private readonly now: () => number

  constructor (private readonly opts: GcPacingOptions) {
    this.now = opts.now ?? Date.now
  }

  /**
   * Sets the headroom between large transfers (0: V8 decides) and applies it
   * now, unless the headroom is wide at the moment (then at the next narrow).
   */
  setBase (percent: number): void {
    this.base = percent
    if (!this.wide) this.opts.setGrowingPercent(percent)
    else if (percent >= this.opts.widePercent) this.close()
  }

  /** Large content moved: widen the headroom now if it is not already. */
  note (): void {
    this.lastNote = this.now()
    if (!this.wide && this.base < this.opts.widePercent) this.widen()
  }

  /** The growing percent in force: widePercent while wide, else the base (0: V8 decides). */
  get percent (): number {
    return this.wide ? this.opts.widePercent : this.base
  }

  /** Gives the headroom back to the base at once (node stop). */
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
    this.opts.setGrowingPercent(this.base)
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
