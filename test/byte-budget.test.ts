/**
 * Unit tests of node/sync/byte-budget.ts, the bound on object data a target
 * holds between fetch and commit. Pure; no I/O. A budget that let takers
 * past the bound, lost bytes, or stalled an object larger than the whole
 * budget would show here.
 */
import t from 'tap'
import { ByteBudget } from '../node/sync/byte-budget'

t.test('takes up to the bound, then waits until bytes are given back', async t => {
  const b = new ByteBudget(100)
  t.ok(b.tryTake(60))
  t.notOk(b.tryTake(50), '60 + 50 is over the bound')
  let woke = false
  const waiting = b.take(50).then(() => { woke = true })
  await new Promise(resolve => setImmediate(resolve))
  t.notOk(woke, 'take waits while the bytes do not fit')
  b.give(60)
  await waiting
  t.ok(woke, 'and wakes once they fit')
  t.equal(b.inUse, 50)
})

t.test('an object larger than the whole budget passes when nothing else is held', async t => {
  const b = new ByteBudget(100)
  t.ok(b.tryTake(10))
  let woke = false
  const waiting = b.take(500).then(() => { woke = true })
  await new Promise(resolve => setImmediate(resolve))
  t.notOk(woke, 'not while something else is held')
  b.give(10)
  await waiting
  t.equal(b.inUse, 500, 'then alone')
  b.give(500)
  t.equal(b.inUse, 0)
})

t.test('waiters are served in order; a newcomer does not jump the queue', async t => {
  const b = new ByteBudget(100)
  t.ok(b.tryTake(90))
  const order: string[] = []
  const big = b.take(80).then(() => order.push('big'))
  t.notOk(b.tryTake(5), 'a small take does not pass a waiting one, though it would fit')
  const small = b.take(5).then(() => order.push('small'))
  b.give(90)
  await Promise.all([big, small])
  t.same(order, ['big', 'small'])
  t.equal(b.inUse, 85)
})
