/**
 * Section "rclone": the peer a user would reach for (issue 28). The same N
 * objects as the full-sync section, written as files (100 directories of
 * N/100), copied with `rclone copy` between two local directories on the
 * same disk as the nodes' data, checksums on (rclone's default: the copy is
 * verified, as full sync verifies crc32 and etag).
 *
 * `--transfers` is tuned first: each candidate copies a fifth of the files
 * once, and the fastest copies all of them `reps` times; the median run
 * stands for rclone, every rate is kept. Before each timed copy the page
 * cache's dirty pages are written out (`sync`), so one copy does not pay
 * for the writeback of the files of the one before.
 *
 * Needs rclone on PATH (Debian's package; .ci/run installs it). Without
 * it the section fails with how to install it, and the rclone ratio is
 * reported as n/a (not met).
 */
import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Contention, medianRun, now, round, scratch, waitQuiet, type BenchConfig, type ContentionReport } from './common'

export const RCLONE_TRANSFERS = [1, 2, 4, 8, 16, 32]
const DIRS = 100

export interface RcloneRun {
  version: string
  objects: number
  objectBytes: number
  /** Tuning copies (a fifth of the files each): objects per second by --transfers. */
  tuning: Array<{ transfers: number, objectsPerSecond: number }>
  transfers: number
  seconds: number
  objectsPerSecond: number
  reps: number[]
  /** CPU seconds of rclone (user + system) in the median run. */
  cpuSeconds: number
  contention: ContentionReport
}

export function rcloneVersion (): string | undefined {
  const r = spawnSync('rclone', ['version'], { encoding: 'utf8' })
  if (r.error !== undefined || r.status !== 0) return undefined
  return r.stdout.split('\n')[0].trim()
}

/** Writes `count` files of `size` random bytes under dir/<dd>/, the first `count / 5` in directories 00..19. */
function writeFiles (dir: string, count: number, size: number): void {
  const perDir = Math.ceil(count / DIRS)
  for (let d = 0; d < DIRS; d++) fs.mkdirSync(path.join(dir, String(d).padStart(2, '0')), { recursive: true })
  for (let i = 0; i < count; i++) {
    fs.writeFileSync(path.join(dir, String(Math.floor(i / perDir)).padStart(2, '0'), `obj-${String(i).padStart(9, '0')}`), crypto.randomBytes(size))
  }
}

/** One `rclone copy`, timed (the caller runs `sync` before it, untimed). */
async function copy (args: string[]): Promise<{ seconds: number }> {
  const t0 = now()
  const child = spawn('rclone', ['copy', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  const seconds = (now() - t0) / 1000
  if (code !== 0) throw new Error(`rclone copy exited ${String(code)}: ${stderr.trim().slice(0, 300)}`)
  return { seconds }
}

export async function runRclone (cfg: BenchConfig, count: number, size: number, reps: number): Promise<RcloneRun> {
  if (!Number.isInteger(reps) || reps < 1) throw new Error('rcloneReps must be 1 or more')
  const version = rcloneVersion()
  if (version === undefined) throw new Error('rclone is not installed: apt-get install rclone (Debian), or leave the section out with --only')
  const s = scratch(cfg, 'rclone')
  try {
    const src = path.join(s.dir, 'src')
    cfg.log(`  writing ${count} files of ${size} B`)
    writeFiles(src, count, size)
    const tuneCount = Math.min(count, Math.ceil(count / DIRS) * (DIRS / 5))
    const tuneFilter = ['--include', '/[01]?/**']
    let dst = 0
    const target = (): string => path.join(s.dir, `dst-${dst++}`)
    await waitQuiet(cfg, 'rclone')
    const tuning: RcloneRun['tuning'] = []
    for (const transfers of RCLONE_TRANSFERS) {
      const to = target()
      spawnSync('sync')
      const r = await copy([src, to, '--transfers', String(transfers), '--checkers', String(Math.max(8, transfers)), ...tuneFilter])
      fs.rmSync(to, { recursive: true, force: true })
      tuning.push({ transfers, objectsPerSecond: Math.round(tuneCount / r.seconds) })
      cfg.log(`  --transfers ${transfers}: ${tuning[tuning.length - 1].objectsPerSecond} obj/s (${tuneCount} files)`)
    }
    const best = tuning.reduce((a, b) => b.objectsPerSecond > a.objectsPerSecond ? b : a).transfers
    const runs: Array<{ seconds: number, cpuSeconds: number, contention: ContentionReport }> = []
    for (let i = 0; i < reps; i++) {
      const to = target()
      await waitQuiet(cfg, 'rclone')
      spawnSync('sync')
      const contention = new Contention()
      const cpu0 = childrenCpuSeconds()
      const r = await copy([src, to, '--transfers', String(best), '--checkers', String(Math.max(8, best))])
      const cpu = childrenCpuSeconds() - cpu0
      runs.push({ seconds: r.seconds, cpuSeconds: cpu, contention: contention.stop(cpu) })
      fs.rmSync(to, { recursive: true, force: true })
    }
    const mid = medianRun(runs, r => count / r.seconds)
    return {
      version,
      objects: count,
      objectBytes: size,
      tuning,
      transfers: best,
      seconds: round(mid.seconds, 2),
      objectsPerSecond: Math.round(count / mid.seconds),
      reps: runs.map(r => Math.round(count / r.seconds)),
      cpuSeconds: round(mid.cpuSeconds, 2),
      contention: mid.contention
    }
  } finally {
    s.cleanup()
  }
}

/** CPU seconds of this process's children that have exited (rclone): cutime + cstime of /proc/self/stat. */
function childrenCpuSeconds (): number {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
    // cutime is field 16, cstime 17 (1-based), i.e. 13 and 14 after "pid (comm) ".
    return (Number(fields[13]) + Number(fields[14])) / 100
  } catch {
    return NaN
  }
}
