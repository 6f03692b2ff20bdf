/**
 * pullWaitMs (node/sync/bucket-sync.ts): an idle tail poll waits longer the
 * more cursors it carries, so that idle tailing costs about the same per
 * second at any shard count; small buckets keep the 2 s wait.
 */
import t from 'tap'
import { pullWaitMs } from '../../node/sync/bucket-sync'

t.test('the wait grows with the cursors, within bounds', async t => {
  t.equal(pullWaitMs(1), 2000)
  t.equal(pullWaitMs(2000), 2000, 'up to 2,000 cursors: 2 s')
  t.equal(pullWaitMs(2001), 4000)
  t.equal(pullWaitMs(9000), 10_000)
  t.equal(pullWaitMs(20_000), 10_000, 'never over 10 s')
})
