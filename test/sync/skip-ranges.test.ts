/**
 * Skip ranges (storage/progress-store.ts) and the tail's skipped cursors
 * (node/sync/skipped-cursors.ts): pure logic, no node.
 */
import t from 'tap'
import { SkippedCursors } from '../../node/sync/skipped-cursors'
import { mergeSkipRanges, skipPast } from '../../storage/progress-store'

t.test('skipPast moves a cursor only from inside a range', async t => {
  t.equal(skipPast(5, { from: 3, to: 9 }), 9, 'inside')
  t.equal(skipPast(3, { from: 3, to: 9 }), 9, 'at its start')
  t.equal(skipPast(2, { from: 3, to: 9 }), 2, 'below it: entries 3 of another origin may not have been applied')
  t.equal(skipPast(12, { from: 3, to: 9 }), 12, 'past it: never moved back')
  t.equal(skipPast(4, undefined), 4, 'no range')
})

t.test('mergeSkipRanges: union when they touch, else the newer', async t => {
  t.same(mergeSkipRanges({ from: 0, to: 5 }, { from: 5, to: 8 }), { from: 0, to: 8 })
  t.same(mergeSkipRanges({ from: 4, to: 9 }, { from: 0, to: 5 }), { from: 0, to: 9 })
  t.same(mergeSkipRanges({ from: 0, to: 3 }, { from: 6, to: 8 }), { from: 6, to: 8 }, 'apart: the higher one')
  t.same(mergeSkipRanges({ from: 6, to: 8 }, { from: 0, to: 3 }), { from: 6, to: 8 })
})

t.test('SkippedCursors: skips pend until taken and stored; carried shards are saved at once', async t => {
  const s = new SkippedCursors(true)
  const now = s.toSaveNow(new Map([[0, 10], [1, 7]]), new Map([[0, 2], [1, 0]]), [{ shard: 1 }])
  t.same([...now], [[1, 7]], 'the shard with changes is saved now')
  t.equal(s.position(0, 2), 10, 'a pending skip counts for the tail')
  t.equal(s.durablePosition(0, 2), 2, 'but not for a report')
  s.toSaveNow(new Map([[0, 15]]), new Map([[0, 10]]), [])
  const taken = s.take()
  t.same([...taken], [[0, { from: 2, to: 15 }]], 'consecutive skips are one range')
  s.putBack(taken)
  t.same([...s.take()], [[0, { from: 2, to: 15 }]], 'a failed store gives them back')
  s.setStored(taken)
  t.equal(s.durablePosition(0, 2), 15, 'stored, it counts for a report')
  t.equal(s.position(0, 1), 1, 'a saved cursor below the range is not moved')
  s.setStored(new Map([[0, { from: 0, to: 5 }]]))
  t.equal(s.durablePosition(0, 2), 15, 'a load that read an older record does not forget newer ranges')
  t.equal(s.durablePosition(0, 0), 15, 'and the ranges merge')

  const eager = new SkippedCursors(false)
  t.same([...eager.toSaveNow(new Map([[0, 10]]), new Map([[0, 2]]), [])], [[0, 10]], 'without reports every cursor is saved at once')
})
