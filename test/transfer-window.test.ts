/**
 * Unit tests of the commit window in node/sync/transfer.ts: how many
 * fetched objects one copy holds between fetch and commit. Pure logic, so
 * the store and the source are in-memory fakes; the real paths are covered
 * by the sync tests and the bench's memory section.
 *
 * A copy that handed every group of a full listing page to a slow writer at
 * once (no window) holds the whole page and fails the bound below.
 */
import t from 'tap'
import { ObjectTransfer, APPLY_GROUP_OBJECTS, COMMIT_WINDOW } from '../node/sync/transfer'
import { RateLimiter } from '../node/sync/rate-limiter'
import type { FetchedObject, SourceClient, SourceObjectInfo } from '../node/sync/source-client'
import type { MutationResult } from '../storage/bucket-writer'
import type { ObjectStore, ReplicaObject } from '../storage/object-store'
import { ShardsyncError } from '../storage/errors'

const PAGE = 1000

function listing (n: number): SourceObjectInfo[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${String(i).padStart(5, '0')}`, size: 100, etag: 'e', mtime: 1, site: 'src' }))
}

/** Counts objects read from the source stream, and objects handed to the store but not yet committed. */
class Meter {
  read = 0
  committed = 0
  pending = 0
  maxPending = 0
  maxReadNotCommitted = 0
  observe (): void {
    this.maxPending = Math.max(this.maxPending, this.pending)
    this.maxReadNotCommitted = Math.max(this.maxReadNotCommitted, this.read - this.committed)
  }
}

function fakeSource (meter: Meter): SourceClient {
  return {
    peerId: 'src',
    async * fetchObjects (_bucket: string, keys: string[]): AsyncIterable<FetchedObject> {
      for (const key of keys) {
        meter.read++
        meter.observe()
        yield { key, missing: false, info: { key, size: 100, etag: 'e', mtime: 1, site: 'src', crc32: 0 }, data: Buffer.alloc(100) }
      }
    }
  } as unknown as SourceClient
}

/** A writer slower than the stream: each group commits a few milliseconds after it is handed over. */
function slowStore (meter: Meter, fail?: (call: number) => boolean): ObjectStore {
  let calls = 0
  return {
    async getHeads (_bucket: string, keys: string[]) { return keys.map(() => undefined) },
    async applyReplicaObjects (_bucket: string, objects: ReplicaObject[]): Promise<MutationResult[]> {
      const call = ++calls
      meter.pending += objects.length
      meter.observe()
      await new Promise(resolve => setTimeout(resolve, 5))
      meter.pending -= objects.length
      if (fail?.(call) === true) throw ShardsyncError.overloaded('the test writer')
      meter.committed += objects.length
      return objects.map(() => ({ applied: true }) as unknown as MutationResult)
    }
  } as unknown as ObjectStore
}

t.test('a copy holds at most the window plus one group, however full the page', async t => {
  const meter = new Meter()
  const transfer = new ObjectTransfer(slowStore(meter), fakeSource(meter), new RateLimiter(0))
  const stats = await transfer.copyNewer('b', 'b', listing(PAGE))
  t.equal(stats.applied, PAGE, 'every object committed')
  t.equal(meter.committed, PAGE)
  const bound = (COMMIT_WINDOW + 1) * APPLY_GROUP_OBJECTS
  t.ok(bound < PAGE, 'the bound is below a full page, so the test can tell')
  t.ok(meter.maxPending <= bound, `handed over, not committed: at most ${meter.maxPending} <= ${bound}`)
  t.ok(meter.maxReadNotCommitted <= bound, `read from the stream, not committed: at most ${meter.maxReadNotCommitted} <= ${bound}`)
  t.ok(meter.maxPending > APPLY_GROUP_OBJECTS, 'and commits still overlap the stream (not one group at a time)')
})

t.test('a failed commit while the copy waits on the window fails the copy', async t => {
  const meter = new Meter()
  const transfer = new ObjectTransfer(slowStore(meter, call => call === 2), fakeSource(meter), new RateLimiter(0))
  await t.rejects(transfer.copyNewer('b', 'b', listing(PAGE)), { code: 'OVERLOADED' })
  t.ok(meter.read < PAGE, `the stream stops: ${meter.read} of ${PAGE} read`)
})
