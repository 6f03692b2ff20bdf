/**
 * `npm run soak` (scripts/soak.ts) in short: two real node processes
 * writing on both sites for 20 s with a split on each site, then
 * wait-synced and verify --deep. Checks that it exits 0, that verify found
 * the sites identical, that the writes went through without errors, and
 * that the JSON summary holds every series for both sites (the log and
 * tombstone gauges as numbers once the nodes have the trim flags). No timed
 * assertion and no plateau assertion: 20 s is far too short for one. The
 * plateau rule itself is checked on made-up series, and so is the reading
 * of summed gauges from Prometheus text.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { gaugeSum, plateau } from '../../scripts/lib/soak-report'

const SOAK = path.join(__dirname, '..', '..', 'scripts', 'soak.js')

t.test('plateau rule and gauge reading (pure)', async t => {
  const series = (f: (t: number) => number | null, ops = (t: number): number => t * 100): Array<{ t: number, value: number | null, ops: number }> =>
    Array.from({ length: 31 }, (_, i) => ({ t: i * 10, value: f(i * 10), ops: ops(i * 10) }))
  t.equal(plateau(series(t => 1000 + (t % 20)), 300).verdict, 'plateau', 'flat with noise: plateau')
  t.equal(plateau(series(t => 5 * t), 300).verdict, 'growing', 'linear growth: growing (last third max 1.5x the middle one)')
  t.equal(plateau(series(t => t < 200 ? 100 : 130), 300).verdict, 'growing', 'a step of 30 % in the last third: growing')
  t.equal(plateau(series(t => t < 200 ? 100 : 125), 300).verdict, 'plateau', 'a step of exactly 25 %: plateau')
  t.equal(plateau(series(() => null), 300).verdict, 'n/a', 'gauge missing: n/a')
  t.equal(plateau(series(() => 1, () => 7), 300).verdict, 'n/a', 'operations not growing: n/a')
  t.equal(plateau(series(t => t).slice(0, 2), 300).verdict, 'n/a', 'no sample in the middle or last third: n/a')
  const text = [
    '# HELP shardsync_log_entries Log entries kept',
    '# TYPE shardsync_log_entries gauge',
    'shardsync_log_entries{bucket="a"} 10',
    'shardsync_log_entries{bucket="b x"} 5',
    'shardsync_log_entries_other 99',
    'shardsync_tombstones 3'
  ].join('\n')
  t.equal(gaugeSum(text, 'shardsync_log_entries'), 15, 'summed over labels, other families with the same prefix left out')
  t.equal(gaugeSum(text, 'shardsync_tombstones'), 3, 'without labels')
  t.equal(gaugeSum(text, 'shardsync_nothing'), null, 'absent: null')
})

t.test('a 20 s soak ends synced and identical, with every series in the JSON', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-soak-test-'))
  const json = path.join(dir, 'soak.json')
  const proc = spawn(process.execPath, [SOAK, '--seconds', '20', '--rate', '200', '--sample-s', '2', '--split-every-s', '8', '--sync-timeout-s', '120', '--logs', dir, '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { out += d.toString() })
  t.teardown(() => { proc.kill('SIGKILL') })
  const code = await new Promise<number | null>(resolve => proc.once('exit', resolve))
  t.equal(code, 0, `soak exits 0:\n${out.slice(-3000)}`)
  t.match(out, /verify --deep A -> B: identical: 1 buckets, \d+ objects \(deep\)/, 'verify --deep reports identical')
  t.match(out, /plateau \(max over the last third <= 1\.25 x max over the middle third/, 'the plateau rule is stated')
  const s = JSON.parse(fs.readFileSync(json, 'utf8')) as {
    series: Record<string, unknown> & { t: number[] }
    plateau: Record<string, { verdict: string }>
    ops: Record<string, { puts: number, overwrites: number, deletes: number, errors: Record<string, number> }>
    splits: string[]
    verify: { identical: boolean }
    trimFlags: { passed: string[], unsupported: string[] }
    waitSynced: Record<string, { code: number }>
    exitCode: number
  }
  t.equal(s.verify.identical, true, 'JSON: verify identical')
  t.same(Object.values(s.waitSynced).map(w => w.code), [0, 0], 'JSON: wait-synced 0 on both sites')
  t.equal(s.exitCode, 0)
  t.ok(s.series.t.length >= 5, `${s.series.t.length} samples`)
  for (const site of ['A', 'B']) {
    const series = s.series[site] as Record<string, unknown[]>
    for (const name of ['diskMiB', 'logEntries', 'tombstones', 'ops']) {
      t.equal(series[name]?.length, s.series.t.length, `${site}.${name}: one value per sample`)
    }
    t.ok((series.diskMiB as number[]).every(v => typeof v === 'number' && v >= 0), `${site}: disk sampled every time`)
    t.ok((series.ops as number[]).at(-1) as number > 0, `${site}: operations acknowledged`)
    // Before log trimming lands the nodes have neither the trim flags nor the gauges; once they have the flags, every sample must read both gauges.
    const trimming = s.trimFlags.unsupported.length === 0
    for (const name of ['logEntries', 'tombstones']) t.ok((series[name] as unknown[]).every(v => (!trimming && v === null) || typeof v === 'number'), `${site}.${name}: ${trimming ? 'numbers (the node has the trim flags)' : 'numbers, or null while the node has no such gauge'}`)
    for (const name of ['diskMiB', 'logEntries', 'tombstones']) t.ok(s.plateau[`${site}.${name}`] !== undefined, `verdict for ${site}.${name}`)
    const o = s.ops[site]
    t.ok(o.puts > 0 && o.overwrites > 0 && o.deletes > 0, `${site}: puts ${o.puts}, overwrites ${o.overwrites}, deletes ${o.deletes}`)
    t.same(o.errors, {}, `${site}: no write failed`)
  }
  t.ok(s.splits.filter(x => x.includes('->')).length >= 1, `splits done during the soak: ${s.splits.join('; ')}`)
  if (t.passing()) fs.rmSync(dir, { recursive: true, force: true })
  else t.comment(`soak data and logs kept in ${dir}`)
})
