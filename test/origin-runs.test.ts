/**
 * Unit tests of storage/origin-runs.ts, the cache that lets PullChanges skip
 * a requester's own changes unread. Pure; no I/O.
 *
 * The property checked: for every sequence number, runAt either answers
 * undefined (unknown: the reader falls back to reading the log) or a run
 * that holds it with the origin it was noted with. A cache that answered a
 * wrong site would make a target skip changes it must copy (shown to fail:
 * extending a run across a gap, or across a site change, breaks it).
 */
import t from 'tap'
import fc from 'fast-check'
import { OriginRuns } from '../storage/origin-runs'

t.test('runs merge consecutive entries of one origin and split on a change', async t => {
  const r = new OriginRuns()
  for (let seq = 1; seq <= 5; seq++) r.note(0, seq, 'a')
  r.note(0, 6, 'b')
  r.note(0, 7, 'a')
  t.same(r.runAt(0, 3), { from: 1, to: 5, site: 'a' })
  t.same(r.runAt(0, 6), { from: 6, to: 6, site: 'b' })
  t.same(r.runAt(0, 7), { from: 7, to: 7, site: 'a' })
  t.equal(r.runAt(0, 8), undefined, 'past the last noted entry: unknown')
  t.equal(r.runAt(1, 1), undefined, 'another shard: unknown')
})

t.test('a gap (entries from before a restart) is never covered', async t => {
  const r = new OriginRuns()
  r.note(2, 10, 'a')
  r.note(2, 12, 'a')
  t.equal(r.runAt(2, 11), undefined)
  t.equal(r.runAt(2, 9), undefined)
  t.equal(r.runAt(2, 12)?.from, 12)
})

t.test('every answer is right or unknown, also after old runs are forgotten', async t => {
  await fc.assert(fc.property(
    fc.array(fc.record({ site: fc.constantFrom('a', 'b', 'c'), gap: fc.nat(3) }), { minLength: 1, maxLength: 2000 }),
    (steps) => {
      const r = new OriginRuns()
      const truth = new Map<number, string>()
      let seq = 0
      for (const s of steps) {
        seq += 1 + (s.gap === 3 ? 1 : 0)
        r.note(0, seq, s.site)
        truth.set(seq, s.site)
      }
      for (let q = 0; q <= seq + 1; q++) {
        const run = r.runAt(0, q)
        if (run === undefined) continue
        if (!(run.from <= q && q <= run.to)) return false
        for (let x = run.from; x <= run.to; x++) if (truth.get(x) !== run.site) return false
      }
      return true
    }
  ), { seed: 20261123, numRuns: 200 })
})

t.test('memory is bounded per bucket: past the cap a whole shard is forgotten, and answers stay right', async t => {
  const r = new OriginRuns(10)
  // Alternating sites: one run per entry.
  for (let shard = 0; shard < 4; shard++) for (let seq = 1; seq <= 4; seq++) r.note(shard, seq, seq % 2 === 0 ? 'a' : 'b')
  t.ok(r.size <= 10, `at most 10 runs held (held ${r.size})`)
  t.equal(r.runAt(0, 1), undefined, 'the shard noted first was forgotten: unknown, never wrong')
  t.same(r.runAt(3, 4), { from: 4, to: 4, site: 'a' }, 'the newest shard is still known')
  r.note(0, 5, 'a')
  t.same(r.runAt(0, 5), { from: 5, to: 5, site: 'a' }, 'a forgotten shard starts over at its next entry')
  t.equal(r.runAt(0, 4), undefined)
})
