/**
 * Token bucket for --sync-rate (objects per second). Rate 0 means no limit.
 * One per peer sync; callers take tokens before applying objects.
 */
export class RateLimiter {
  private tokens: number
  private last = Date.now()

  constructor (private readonly perSecond: number) {
    this.tokens = Math.min(perSecond, 1)
  }

  get unlimited (): boolean { return this.perSecond <= 0 }

  async take (n: number): Promise<void> {
    if (this.perSecond <= 0 || n <= 0) return
    for (;;) {
      const now = Date.now()
      this.tokens = Math.min(this.perSecond, this.tokens + (now - this.last) * this.perSecond / 1000)
      this.last = now
      if (this.tokens >= Math.min(n, this.perSecond)) {
        this.tokens -= n
        return
      }
      const missing = Math.min(n, this.perSecond) - this.tokens
      await new Promise(resolve => setTimeout(resolve, Math.max(1, Math.ceil(missing * 1000 / this.perSecond))))
    }
  }
}
