/**
 * The one way the sync loops wait: a sleep that ends early when its signal
 * aborts (the loop is stopping) or its Waker is woken (there is work now).
 * Used by BucketSync, PeerSync, NoticeSender and RateLimiter.
 */

/** Ends a sleep early. A wake while nobody sleeps makes the next sleep return at once. */
export class Waker {
  private waiting: (() => void) | undefined
  private pending = false

  wake (): void {
    if (this.waiting !== undefined) this.waiting()
    else this.pending = true
  }

  /** @internal */
  take (): boolean {
    const pending = this.pending
    this.pending = false
    return pending
  }

  /** @internal */
  set (fn: (() => void) | undefined): void {
    this.waiting = fn
  }
}

export async function sleep (ms: number, signal?: AbortSignal, waker?: Waker): Promise<void> {
  if (signal?.aborted === true || waker?.take() === true) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      waker?.set(undefined)
      resolve()
    }
    signal?.addEventListener('abort', done)
    waker?.set(done)
  })
}
