/**
 * Idle deadline and minimum progress of one stream, in either direction.
 * Used by the PutObject handler (waiting for the client's next message)
 * and by every server-streaming handler (waiting for the client to read:
 * 'drain'); owns one timer per stream.
 *
 * Only time spent waiting for the client counts; time the node spends on
 * its own work (disk, LevelDB) never does. The rules:
 * - idle: one wait for the client of --stream-idle-ms or more ends the
 *   call with DEADLINE_EXCEEDED / STREAM_IDLE;
 * - minimum progress: each time the client-wait time adds up to
 *   --stream-idle-ms, the bytes moved in it must reach
 *   --stream-min-bytes-per-sec over that time, else DEADLINE_EXCEEDED /
 *   STREAM_TOO_SLOW (a trickle of tiny messages cannot hold a call open).
 */
import { ShardsyncError } from '../../storage/errors'

export interface StreamLimits {
  idleMs: number
  minBytesPerSec: number
}

export class StreamWatch {
  /** Start of the current wait for the client (idle rule). */
  private waitingSince: number | undefined
  /** Where the current wait starts counting for this window (progress rule). */
  private countedFrom = 0
  /** Client-wait time of the window, finished waits only. */
  private waitedMs = 0
  private windowBytes = 0
  private readonly timer: NodeJS.Timeout
  private stopped: ShardsyncError | undefined

  constructor (private readonly limits: StreamLimits, private readonly onStop: (err: ShardsyncError) => void) {
    this.timer = setInterval(() => this.check(), Math.max(10, Math.floor(limits.idleMs / 4)))
    this.timer.unref()
  }

  /** The reason the stream was stopped, if it was. */
  get error (): ShardsyncError | undefined { return this.stopped }

  /** The stream now waits for the client. */
  waiting (): void {
    if (this.waitingSince !== undefined) return
    this.waitingSince = Date.now()
    this.countedFrom = this.waitingSince
  }

  /** The client moved `bytes` (a message in, or a drain out); the wait is over. */
  progressed (bytes: number): void {
    if (this.waitingSince !== undefined) {
      this.waitedMs += Date.now() - this.countedFrom
      this.waitingSince = undefined
    }
    this.windowBytes += bytes
    this.check()
  }

  close (): void {
    clearInterval(this.timer)
  }

  private check (): void {
    if (this.stopped !== undefined) return
    const now = Date.now()
    if (this.waitingSince !== undefined && now - this.waitingSince >= this.limits.idleMs) { this.stop(ShardsyncError.streamIdle(this.limits.idleMs)); return }
    const waited = this.waitedMs + (this.waitingSince !== undefined ? now - this.countedFrom : 0)
    if (waited < this.limits.idleMs) return
    if (this.windowBytes < this.limits.minBytesPerSec * waited / 1000) { this.stop(ShardsyncError.streamTooSlow(this.limits.minBytesPerSec)); return }
    this.waitedMs = 0
    this.windowBytes = 0
    this.countedFrom = now
  }

  private stop (err: ShardsyncError): void {
    this.stopped = err
    this.close()
    this.onStop(err)
  }
}
