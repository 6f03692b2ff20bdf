/**
 * GcPacing (node/gc-pacing.ts) as pure logic, with a fake clock and fake
 * timers: V8's flag is set on transitions only, widened at the first piece
 * of large content, held while pieces keep coming, given back holdMs after
 * the last one, to the base the node set (0: V8 decides). Shown to fail:
 * never narrowing, narrowing holdMs after the first piece instead of the
 * last, setting the flag on every piece, or narrowing to 0 instead of the base.
 */
import t from 'tap'
import { GcPacing } from '../node/gc-pacing'

function fake (): { pacing: GcPacing, sets: number[], advance: (ms: number) => void } {
  let now = 1000
  let timers: Array<{ at: number, fn: () => void }> = []
  const sets: number[] = []
  const pacing = new GcPacing({
    widePercent: 300,
    holdMs: 2000,
    setGrowingPercent: (p) => sets.push(p),
    now: () => now,
    setTimer: (fn, ms) => { const timer = { at: now + ms, fn }; timers.push(timer); return timer },
    clearTimer: (x) => { timers = timers.filter(y => y !== x) }
  })
  const advance = (ms: number): void => {
    const end = now + ms
    for (;;) {
      const due = timers.filter(x => x.at <= end).sort((a, b) => a.at - b.at)[0]
      if (due === undefined) break
      timers = timers.filter(x => x !== due)
      now = due.at
      due.fn()
    }
    now = end
  }
  return { pacing, sets, advance }
}

t.test('widens at the first piece, once, and holds while pieces come', async t => {
  const { pacing, sets, advance } = fake()
  t.equal(pacing.percent, 0, 'V8 decides at first')
  for (let i = 0; i < 50; i++) { pacing.note(); advance(100) }
  t.same(sets, [300], 'the flag set once for 50 pieces over 5 s')
  t.equal(pacing.percent, 300)
  advance(1800)
  t.same(sets, [300], 'still wide 1.9 s after the last piece')
  advance(200)
  t.same(sets, [300, 0], 'given back 2 s after the last piece')
  t.equal(pacing.percent, 0)
})

t.test('widens again for the next transfer; close gives it back at once', async t => {
  const { pacing, sets, advance } = fake()
  pacing.note()
  advance(5000)
  pacing.note()
  advance(500)
  t.same(sets, [300, 0, 300], 'wide again for a second transfer')
  pacing.close()
  t.same(sets, [300, 0, 300, 0], 'closed: back to V8')
  advance(10_000)
  t.same(sets, [300, 0, 300, 0], 'and no timer left behind')
  pacing.close()
  t.same(sets, [300, 0, 300, 0], 'closing twice changes nothing')
})

t.test('a base headroom: applied at once, restored after a transfer; one at or above wide is never widened', async t => {
  const { pacing, sets, advance } = fake()
  pacing.setBase(60)
  t.same(sets, [60], 'the base applied at once')
  t.equal(pacing.percent, 60)
  pacing.note()
  advance(2500)
  t.same(sets, [60, 300, 60], 'widened for large content, then back to the base, not to V8')
  pacing.note()
  pacing.setBase(100)
  t.equal(pacing.percent, 300, 'a new base waits while wide')
  advance(2500)
  t.same(sets, [60, 300, 60, 300, 100], 'and applies at the next narrow')
  pacing.setBase(400)
  pacing.note()
  advance(5000)
  t.same(sets, [60, 300, 60, 300, 100, 400], 'a base above wide: set once, never widened or narrowed')
  t.equal(pacing.percent, 400)
  pacing.setBase(0)
  t.same(sets.at(-1), 0, 'base 0: back to V8')
  pacing.note()
  pacing.setBase(300)
  t.same(sets.slice(-3), [0, 300, 300], 'a base raised to wide while wide ends the hold at once')
  advance(5000)
  t.same(sets.slice(-3), [0, 300, 300], 'and leaves no timer behind')
  t.equal(pacing.percent, 300)
})
