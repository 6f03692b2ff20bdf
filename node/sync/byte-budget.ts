/**
 * ByteBudget: bytes of object data a target holds fetched but not yet
 * committed, shared by the concurrent copies of one peer (node/sync/transfer.ts).
 *
 * Invariant: inUse <= maxBytes, except that one taker may hold more than
 * maxBytes when it is the only holder (an object larger than the whole
 * budget must still pass). Waiters are served in arrival order, so a large
 * object is not starved by a stream of small ones.
 */
/**
 * A byte budget shared by concurrent copies: take() waits until the bytes
 * fit (or nothing at all is held, so that one object larger than the whole
 * budget still passes); give() returns them, waking waiters in order.
 */
export class ByteBudget {
  private used = 0
  private readonly waiters: Array<{ bytes: number, wake: () => void }> = []

  constructor (readonly maxBytes: number) {}

  get inUse (): number { return this.used }

  tryTake (bytes: number): boolean {
    if (this.waiters.length > 0 || (this.used > 0 && this.used + bytes > this.maxBytes)) return false
    this.used += bytes
    return true
  }

  async take (bytes: number): Promise<void> {
    if (this.tryTake(bytes)) return
    await new Promise<void>(resolve => this.waiters.push({ bytes, wake: resolve }))
  }

  give (bytes: number): void {
    this.used -= bytes
    while (this.waiters.length > 0) {
      const next = this.waiters[0]
      if (this.used > 0 && this.used + next.bytes > this.maxBytes) break
      this.waiters.shift()
      this.used += next.bytes
      next.wake()
    }
  }
}
