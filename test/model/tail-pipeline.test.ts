/**
 * The pipelined tail of BucketSync (node/sync/bucket-sync.ts,
 * node/sync/polls-ahead.ts), made deterministic by holding its steps at
 * gates: the real target side over memory-level against the protocol
 * model's simulated source with every fault off, each poll answered with
 * fresh writes.
 *
 * - While an answer is being applied, the poll after the one sent ahead
 *   goes out as soon as that one's answer arrives, and no further than two
 *   answers are held untaken. (Before: the next poll went out only when
 *   the tail took the answer ahead, after the apply: one poll in flight.)
 * - A step's cursor save runs while the next answer is applied, and the
 *   next step saves only after it; cursors are saved only after the
 *   changes they cover were applied, and in the end equal the source's
 *   log heads, with every write on the target. (Before: the step awaited
 *   its save before returning.)
 *
 * Shown to fail on the tail before polls-ahead.ts: one poll in flight
 * while the first answer is held ('pulls sent while the first answer is
 * applied' 2, not 3), and the step not done while its save is held.
 * No timing: "not yet" is judged after a fixed number of event-loop turns,
 * in which the in-process source answers many times over.
 */
import { MemoryLevel } from 'memory-level'
import pino from 'pino'
import t from 'tap'
import { BucketSync } from '../../node/sync/bucket-sync'
import { RateLimiter } from '../../node/sync/rate-limiter'
import { ObjectTransfer } from '../../node/sync/transfer'
import type { Database } from '../../storage/database'
import { ObjectStore } from '../../storage/object-store'
import { ProgressStore } from '../../storage/progress-store'
import { NO_FAULTS, Rng, SimSource } from './sim-source'

/** A gate: wait() blocks until open(); entered resolves when someone waits. */
function gate (): { wait: () => Promise<void>, open: () => void, entered: Promise<void> } {
  let open!: () => void
  let enter!: () => void
  const opened = new Promise<void>(resolve => { open = resolve })
  const entered = new Promise<void>(resolve => { enter = resolve })
  return { wait: async () => { enter(); await opened }, open, entered }
}

async function turns (n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve))
}

/**
 * `fn` with its calls numbered and logged into `events` ("<begin> n" when
 * called, "<end> n" when done), the first held at `first`.
 */
function traced<A extends unknown[], R> (fn: (...args: A) => Promise<R>, events: string[], begin: string, end: string, first: { wait: () => Promise<void> }): (...args: A) => Promise<R> {
  let calls = 0
  return async (...args: A): Promise<R> => {
    const n = ++calls
    events.push(`${begin} ${n}`)
    if (n === 1) await first.wait()
    const r = await fn(...args)
    events.push(`${end} ${n}`)
    return r
  }
}

/** Resolves true if p settles within n event-loop turns. */
async function settlesWithin (p: Promise<unknown>, n: number): Promise<boolean> {
  let done = false
  void p.then(() => { done = true }, () => { done = true })
  for (let i = 0; i < n && !done; i++) await turns(1)
  return done
}

t.test('the pipelined tail polls on while it applies, and saves cursors behind the next apply', async t => {
  const db = new MemoryLevel<string, unknown>({ valueEncoding: 'json' }) as unknown as Database
  await db.open()
  const store = await ObjectStore.open(db, { siteId: 'tgt', maxObjectBytes: 1 << 20, defaults: { initialShards: 1, splitThreshold: 1e9, autoSplit: false } })
  t.teardown(async () => { store.close(); await db.close() })
  const progress = new ProgressStore(db)
  const sim = new SimSource(new Rng(11), NO_FAULTS)
  sim.quiet = true
  const b = sim.createBucket('bkt', 2, 60)
  for (const key of b.keys.slice(0, 20)) sim.write(b, key)
  const client = sim.client({ dead: false })
  const [source] = await client.listBuckets()
  const transfer = new ObjectTransfer(store, client, new RateLimiter(0))
  const sync = new BucketSync({
    localSite: 'tgt', client, store, progress, transfer,
    mode: 'split-aware', intervalMs: 1000, shardConcurrency: 4, log: pino({ level: 'silent' })
  }, source)
  await sync.round()
  t.same((await progress.list(sim.site, b.id)).map(r => r.state), ['incremental', 'incremental'], 'both shards incremental')

  // Every poll is answered with writes made just before it (up to 8 polls).
  let pulls = 0
  let next = 20
  const pull = client.pullChanges.bind(client)
  client.pullChanges = async (bucket, cursors, opts) => {
    pulls++
    if (next < 60) for (const key of b.keys.slice(next, next += 5)) sim.write(b, key)
    return await pull(bucket, cursors, opts)
  }
  const events: string[] = []
  const firstApply = gate()
  transfer.applyChanges = traced(transfer.applyChanges.bind(transfer), events, 'apply', 'applied', firstApply)
  const firstSave = gate()
  progress.updateMany = traced(progress.updateMany.bind(progress), events, 'save', 'saved', firstSave)

  const step1 = sync.tailStep(0, { pipeline: true })
  await firstApply.entered
  await turns(50)
  t.equal(pulls, 3, 'pulls sent while the first answer is applied: its own, the one ahead, and the one after that')
  firstApply.open()
  await firstSave.entered
  t.ok(await settlesWithin(step1, 50), 'the step is done while its cursor save is still being written')
  t.same(events, ['apply 1', 'applied 1', 'save 1'], 'its save began after its changes were applied')

  // Step 2 applies its answer while save 1 is held, and saves only after it.
  const step2 = sync.tailStep(0, { pipeline: true })
  t.notOk(await settlesWithin(step2, 50), 'step 2 waits for save 1 before saving')
  t.same(events, ['apply 1', 'applied 1', 'save 1', 'apply 2', 'applied 2'], 'answer 2 applied behind save 1')
  firstSave.open()
  await step2
  t.same(events.slice(5, 7), ['saved 1', 'save 2'], 'save 2 began after save 1 was written')

  // Run the tail to the end: every write arrives, and the saved cursors reach the log heads.
  for (let i = 0; i < 20; i++) await sync.tailStep(0, { pipeline: true })
  await sync.tailStep(0)
  for (const key of b.keys) {
    const want = b.heads.get(key)
    const head = await store.getHead('bkt', key)
    t.equal(head?.etag, want?.etag, `${key} on the target`)
  }
  const cursors = (await progress.list(sim.site, b.id)).map(r => r.logCursor)
  t.same(cursors, b.shards.map(s => s.log.length), 'saved cursors at the log heads')
  await sync.stop()
})
