/**
 * Starts a call now and hands its result over later: how the sync loops
 * keep the next ListIndex page or PullChanges answer in flight while they
 * apply the current one. If the result is never collected (the caller
 * stopped at an earlier error, or found it stale), its rejection is
 * dropped rather than left unhandled.
 */
export function prefetch<T> (p: Promise<T>): () => Promise<T> {
  p.catch(() => {})
  return async () => await p
}
