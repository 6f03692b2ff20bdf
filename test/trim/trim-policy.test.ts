import t from 'tap'
import { trimPoint, tombstoneCollectable, type PeerPosition } from '../../node/trim-policy'

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
