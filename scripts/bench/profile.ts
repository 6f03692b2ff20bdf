/**
 * Summary of V8 .cpuprofile files (node --cpu-prof): self and inclusive time
 * per function, and self time per area (grpc-js, protobufjs, LevelDB
 * bindings, shardsync sync/, storage/, rpc/, GC, idle). Used by
 * `npm run bench -- --profile DIR`, and on its own:
 *
 *   node dist/scripts/bench/profile.js DIR|FILE... [--top N]
 */
import fs from 'node:fs'
import path from 'node:path'
import type { SchedReport } from './sched-preload'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface FunctionCost { fn: string, where: string, selfMs: number, selfPct: number, totalMs: number, totalPct: number }

export interface ProfileSummary {
  file: string
  pid: number
  role?: string
  durationMs: number
  busyMs: number
  areas: Array<{ area: string, selfMs: number, pctOfBusy: number }>
  topSelf: FunctionCost[]
  topTotal: FunctionCost[]
  /** shardsync's own functions (dist/node, dist/storage) by inclusive time. */
  shardsyncTotal: FunctionCost[]
  /** The main thread's time on a core and waiting for one (sched-preload.ts), when written. */
  sched?: SchedReport
}

function shortUrl (url: string): string {
  if (url === '') return ''
  const u = url.replace(/^file:\/\//, '')
  const nm = u.lastIndexOf('node_modules/')
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length)
  const dist = u.indexOf('/dist/')
  if (dist >= 0) return u.slice(dist + '/dist/'.length)
  return u
}

function area (frame: CallFrame): string {
  const u = frame.url
  const f = frame.functionName
  if (f === '(idle)') return 'idle'
  if (f === '(garbage collector)') return 'GC'
  if (f === '(program)') return 'V8/native (program)'
  if (u.includes('node_modules/@grpc/')) return 'grpc-js'
  if (u.includes('node_modules/protobufjs') || u.includes('node_modules/@protobufjs')) return 'protobufjs'
  if (/node_modules\/(classic-level|abstract-level|level|level-transcoder|level-supports|module-error|maybe-combine-errors)/.test(u)) return 'level (JS side)'
  if (u.includes('node_modules/pino') || u.includes('node_modules/sonic-boom')) return 'pino'
  if (u.includes('/dist/node/sync/')) return 'shardsync node/sync'
  if (u.includes('/dist/node/rpc/')) return 'shardsync node/rpc'
  if (u.includes('/dist/node/')) return 'shardsync node/*'
  if (u.includes('/dist/storage/')) return 'shardsync storage'
  if (u.startsWith('node:internal/streams') || u.includes('internal/streams')) return 'node streams'
  if (u.startsWith('node:internal/http2') || u.includes('internal/http2')) return 'node http2'
  if (u.startsWith('node:') || u.startsWith('internal/')) return 'node core (other)'
  if (u === '') return f.startsWith('(') ? f : 'native/builtin'
  return 'other JS'
}

export function summarizeProfile (file: string, top = 25, roles: Record<number, string> = {}): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(prof.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<number, number>()
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0) / 1000
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt)
  }
  const keyOf = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}\u0000${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
  const durationMs = (prof.endTime - prof.startTime) / 1000
  let idle = 0
  const selfBy = new Map<string, number>()
  const totalBy = new Map<string, number>()
  const areas = new Map<string, number>()
  for (const [id, ms] of self) {
    const n = byId.get(id) as ProfileNode
    const a = area(n.callFrame)
    if (a === 'idle') { idle += ms; continue }
    areas.set(a, (areas.get(a) ?? 0) + ms)
    const k = keyOf(n)
    selfBy.set(k, (selfBy.get(k) ?? 0) + ms)
    // Inclusive: credit every distinct function on the stack once.
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur) as ProfileNode
      if (node.callFrame.functionName === '(root)') break
      const ck = keyOf(node)
      if (seen.has(ck)) continue
      seen.add(ck)
      totalBy.set(ck, (totalBy.get(ck) ?? 0) + ms)
    }
  }
  const busy = durationMs - idle
  const rows = (m: Map<string, number>, filter: (k: string) => boolean = () => true): FunctionCost[] => [...m].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, top).map(([k]) => {
    const [fn, where] = k.split('\u0000')
    const s = selfBy.get(k) ?? 0
    const t = totalBy.get(k) ?? 0
    return { fn, where, selfMs: Math.round(s), selfPct: Math.round(s / busy * 1000) / 10, totalMs: Math.round(t), totalPct: Math.round(t / busy * 1000) / 10 }
  })
  const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(path.basename(file))?.[1] ?? NaN)
  const schedFile = path.join(path.dirname(file), `SCHED.${pid}.json`)
  const sched = fs.existsSync(schedFile) ? JSON.parse(fs.readFileSync(schedFile, 'utf8')) as SchedReport : undefined
  return {
    file,
    pid,
    role: roles[pid],
    durationMs: Math.round(durationMs),
    busyMs: Math.round(busy),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([a, ms]) => ({ area: a, selfMs: Math.round(ms), pctOfBusy: Math.round(ms / busy * 1000) / 10 })),
    topSelf: rows(selfBy),
    topTotal: rows(totalBy),
    shardsyncTotal: rows(totalBy, k => /\u0000(node|storage)\//.test(k)),
    sched
  }
}

export function summarizeProfiles (dirOrFiles: string | string[], top = 25, roles: Record<number, string> = {}): ProfileSummary[] {
  const files = typeof dirOrFiles === 'string'
    ? fs.readdirSync(dirOrFiles).filter(f => f.endsWith('.cpuprofile')).map(f => path.join(dirOrFiles, f))
    : dirOrFiles
  return files.map(f => summarizeProfile(f, top, roles))
}

export function printSummary (s: ProfileSummary, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): void {
  out(`\n### ${s.role ?? 'process'} pid ${s.pid}: ${s.durationMs} ms profiled, ${s.busyMs} ms busy (${Math.round(s.busyMs / s.durationMs * 100)} %)  ${path.basename(s.file)}`)
  if (s.sched !== undefined) {
    const c = Object.values(s.sched.calls)
    const sum = (f: (x: typeof c[number]) => number): number => Math.round(c.reduce((a, x) => a + f(x), 0))
    out(`main thread (schedstat, process lifetime): ${Math.round(s.sched.runMs)} ms on a core, ${Math.round(s.sched.waitMs)} ms runnable and waiting for one; ` +
      `LevelDB calls (${c.reduce((a, x) => a + x.n, 0)}): ${sum(x => x.wallMs)} ms, ${sum(x => x.waitMs)} ms of it waiting (booked to them as busy)`)
  }
  out('areas (self time, % of busy):')
  for (const a of s.areas) out(`  ${a.area.padEnd(24)} ${String(a.selfMs).padStart(7)} ms  ${a.pctOfBusy.toFixed(1).padStart(5)} %`)
  out('top self time:')
  for (const r of s.topSelf) out(`  ${r.selfPct.toFixed(1).padStart(5)} %  ${String(r.selfMs).padStart(6)} ms  ${r.fn}  ${r.where}`)
  out('top inclusive time:')
  for (const r of s.topTotal) out(`  ${r.totalPct.toFixed(1).padStart(5)} %  ${String(r.totalMs).padStart(6)} ms  ${r.fn}  ${r.where}`)
  out('shardsync functions, inclusive time:')
  for (const r of s.shardsyncTotal) out(`  ${r.totalPct.toFixed(1).padStart(5)} %  ${String(r.totalMs).padStart(6)} ms  ${r.fn}  ${r.where}`)
}

if (require.main === module) {
  const args = process.argv.slice(2)
  let top = 25
  const targets: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i])
    else targets.push(args[i])
  }
  const files = targets.flatMap(t => fs.statSync(t).isDirectory() ? fs.readdirSync(t).filter(f => f.endsWith('.cpuprofile')).map(f => path.join(t, f)) : [t])
  for (const s of summarizeProfiles(files, top)) printSummary(s)
}
