import t from 'tap'
import { advanceDrain, drainedPast, trimPoint, tombstoneCollectable, type PeerPosition } from '../../node/trim-policy'

const now = 1_000_000
const seen = (): number => now
const none = { ageMs: 0, entries: 0 }

t.test('log is trimmed to the slowest configured peer; an unreported peer holds from 0', async t => {
  const reports = new Map<string, PeerPosition>([['b', { seq: 50, incremental: true, at: now }], ['c', { seq: 20, incremental: true, at: now }]])
  t.equal(trimPoint(100, 0, ['b', 'c'], reports, now, none, seen), 20)
  t.equal(trimPoint(100, 0, ['b'], reports, now, none, seen), 50, 'a removed peer (c) holds nothing')
  t.equal(trimPoint(100, 0, ['b', 'c', 'd'], reports, now, none, seen), 0, 'd has not reported')
  t.equal(trimPoint(100, 30, ['b', 'c'], reports, now, none, seen), 30, 'never below the floor')
})

t.test('a peer away past the retention no longer holds the log', async t => {
  const reports = new Map<string, PeerPosition>([['b', { seq: 90, incremental: true, at: now }], ['c', { seq: 10, incremental: true, at: now - 5000 }]])
  t.equal(trimPoint(100, 0, ['b', 'c'], reports, now, { ageMs: 10_000, entries: 0 }, seen), 10)
  t.equal(trimPoint(100, 0, ['b', 'c'], reports, now, { ageMs: 1000, entries: 0 }, seen), 90, 'c expired by age')
  t.equal(trimPoint(100, 0, ['b', 'c'], reports, now, { ageMs: 0, entries: 50 }, seen), 90, 'c expired by entries')
  t.equal(trimPoint(100, 0, ['c'], new Map([['c', { seq: 60, incremental: true, at: now }]]), now, { ageMs: 0, entries: 20 }, seen), 100, 'c 40 behind with a bound of 20: expired, nothing holds')
})

t.test('tombstones wait for every configured peer, expired or not, to pass them incrementally', async t => {
  const reports = new Map<string, PeerPosition>([['b', { seq: 90, incremental: true, at: now }], ['c', { seq: 10, incremental: true, at: 0 }]])
  t.equal(tombstoneCollectable(50, ['b', 'c'], reports), false, 'c (expired) has not passed it')
  t.equal(tombstoneCollectable(50, ['b'], reports), true, 'c removed: released')
  t.equal(tombstoneCollectable(50, ['b', 'd'], reports), false, 'd never reported')
  t.equal(tombstoneCollectable(50, ['b'], new Map([['b', { seq: 90, incremental: false, at: now }]])), false, 'a full-sync logStart is a hold, not a pass')
})

t.test('rule 2: a report counts for collection once this site has drained the peer past the heads it sent', async t => {
  const tails = new Map<number, { incremental: boolean, seq: number }>([[0, { incremental: true, seq: 5 }], [1, { incremental: false, seq: 0 }]])
  const tailOf = (s: number): { incremental: boolean, seq: number } | undefined => tails.get(s)
  t.equal(drainedPast([[0, 5]], tailOf), true)
  t.equal(drainedPast([[0, 6]], tailOf), false, 'behind the head')
  t.equal(drainedPast([[1, 3]], tailOf), false, 'shard 1 still in full sync')
  t.equal(drainedPast([[1, 0], [0, 4]], tailOf), true, 'an empty shard needs nothing')
  t.equal(drainedPast([[2, 1]], tailOf), false, 'a shard not tailed at all')

  const r1 = { positions: [[0, { seq: 10, incremental: true, at: now }]] as Array<[number, PeerPosition]>, heads: [[0, 7]] as Array<[number, number]> }
  let s = advanceDrain({}, r1, tailOf)
  t.equal(s.pending, r1, 'waits: this site is at 5, the peer was at 7')
  t.equal(s.drained, undefined, 'nothing to judge tombstones by yet')
  tails.set(0, { incremental: true, seq: 7 })
  const r2 = { positions: [[0, { seq: 20, incremental: true, at: now + 1 }]] as Array<[number, PeerPosition]>, heads: [[0, 30]] as Array<[number, number]> }
  s = advanceDrain(s, r2, tailOf)
  t.equal(s.drained, r1.positions, 'drained past r1: its positions are the basis')
  t.equal(s.pending, r2, 'the newest report waits next')
  tails.set(0, { incremental: true, seq: 30 })
  s = advanceDrain(s, r2, tailOf)
  t.equal(s.drained, r2.positions)
  t.equal(s.pending, undefined, 'nothing newer to wait for')
})
