/**
 * Reading a node's /metrics in tests: a strict-enough parser of the
 * Prometheus text format, a scrape, and a sum over matching samples.
 * Used by test/ops/metrics.test.ts (which checks the format itself) and by
 * tests that count what a node did (test/sync/idle-rounds.test.ts).
 */
import http from 'node:http'
import type { NodeProcess } from '../../scripts/lib/cluster'

export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Family { name: string, help?: string, type?: string, samples: Sample[] }
export interface Parsed { families: Map<string, Family>, samples: Sample[], errors: string[] }

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL_PAIR = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL_PAIR})(?:,${LABEL_PAIR})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`)
// Go's strconv.ParseFloat (what Prometheus uses) takes NaN/Inf in any case;
// prom-client writes "Nan" for an event-loop-lag gauge with no samples yet.
const VALUE_RE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export function parseValue (v: string): number {
  const l = v.toLowerCase()
  if (l === '+inf' || l === 'inf') return Infinity
  if (l === '-inf') return -Infinity
  if (l === 'nan') return NaN
  return Number(v)
}

/** A strict-enough parser of the Prometheus text format (0.0.4). */
export function parseProm (text: string): Parsed {
  const families = new Map<string, Family>()
  const samples: Sample[] = []
  const errors: string[] = []
  const fam = (name: string): Family => {
    let f = families.get(name)
    if (f === undefined) { f = { name, samples: [] }; families.set(name, f) }
    return f
  }
  if (!text.endsWith('\n')) errors.push('body does not end with a newline')
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
      if (m === null) { if (/^# (HELP|TYPE)/.test(line)) errors.push(`line ${i + 1}: bad comment: ${line}`); continue }
      if (!new RegExp(`^${NAME}$`).test(m[2])) errors.push(`line ${i + 1}: bad metric name ${m[2]}`)
      const f = fam(m[2])
      if (m[1] === 'HELP') {
        if (f.help !== undefined) errors.push(`line ${i + 1}: second HELP for ${m[2]}`)
        f.help = m[3] ?? ''
      } else {
        if (f.type !== undefined) errors.push(`line ${i + 1}: second TYPE for ${m[2]}`)
        if (f.samples.length > 0) errors.push(`line ${i + 1}: TYPE after samples for ${m[2]}`)
        if (!TYPES.has(m[3] ?? '')) errors.push(`line ${i + 1}: bad type ${m[3]}`)
        f.type = m[3]
      }
      continue
    }
    const m = SAMPLE_RE.exec(line)
    if (m === null || !VALUE_RE.test(m[3])) { errors.push(`line ${i + 1}: not a valid sample: ${line}`); continue }
    const labels: Record<string, string> = {}
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (lm[1] in labels) errors.push(`line ${i + 1}: duplicate label ${lm[1]}`)
      labels[lm[1]] = lm[2]
    }
    const s: Sample = { name: m[1], labels, value: parseValue(m[3]) }
    samples.push(s)
    // The family of a sample: histogram/summary samples carry suffixes.
    const base = [m[1], m[1].replace(/_(bucket|sum|count)$/, '')].find(n => families.has(n)) ?? m[1]
    fam(base).samples.push(s)
  }
  return { families, samples, errors }
}

export async function scrape (address: string): Promise<{ status: number, contentType: string, body: string }> {
  return await new Promise((resolve, reject) => {
    http.get(`http://${address}/metrics`, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body }))
    }).on('error', reject)
  })
}

export function metricsAddress (n: NodeProcess): string {
  const a = n.logged('listening')[0]?.metrics
  if (typeof a !== 'string' || a === '') throw new Error(`${n.spec.site} logged no metrics address`)
  return a
}

export function value (p: Parsed, name: string, labels: Record<string, string> = {}): number | undefined {
  const s = p.samples.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (s.length === 0) return undefined
  return s.reduce((n, x) => n + x.value, 0)
}

export async function metrics (n: NodeProcess): Promise<Parsed> {
  const r = await scrape(metricsAddress(n))
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`)
  return parseProm(r.body)
}
