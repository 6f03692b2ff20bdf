/**
 * Token bucket for --sync-rate (objects per second). Rate 0 means no limit.
 * One per peer sync; callers take tokens before applying objects, in batches
 * no larger than maxBatch() so the flow stays smooth. Waiting stops at once
 * when the sync is stopped (the signal), so a throttled node still shuts
 * down promptly.
 */
import { ShardsyncError } from '../../storage/errors'
import { sleep } from './sleep'

export class RateLimiter {
  private tokens: number
  private last = Date.now()

  constructor (private readonly perSecond: number, private readonly signal?: AbortSignal) {
    this.tokens = Math.min(perSecond, 1)
  }

  get unlimited (): boolean { return this.perSecond <= 0 }

  /** Largest batch worth taking at once: a quarter second of tokens. */
  maxBatch (fallback: number): number {
    return this.perSecond <= 0 ? fallback : Math.max(1, Math.min(fallback, Math.ceil(this.perSecond / 4)))
  }

  async take (n: number): Promise<void> {
    if (this.perSecond <= 0 || n <= 0) return
    for (;;) {
      if (this.signal?.aborted === true) throw ShardsyncError.nodeClosing()
      const now = Date.now()
      this.tokens = Math.min(this.perSecond, this.tokens + (now - this.last) * this.perSecond / 1000)
      this.last = now
      const need = Math.min(n, this.perSecond)
      if (this.tokens >= need) {
        this.tokens -= n
        return
      }
      await sleep(Math.max(1, Math.ceil((need - this.tokens) * 1000 / this.perSecond)), this.signal)
    }
  }
}
