/** The bench's printed table (scripts/bench.ts). */
export interface Row { section: string, metric: string, value: string, target: string, ok?: boolean }

export function printTable (rows: Row[]): void {
  const head: Row = { section: 'section', metric: 'metric', value: 'value', target: 'target', ok: undefined }
  const all = [head, ...rows]
  const w = {
    section: Math.max(...all.map(r => r.section.length)),
    metric: Math.max(...all.map(r => r.metric.length)),
    value: Math.max(...all.map(r => r.value.length)),
    target: Math.max(...all.map(r => r.target.length))
  }
  const line = (r: Row): string => `${r.section.padEnd(w.section)}  ${r.metric.padEnd(w.metric)}  ${r.value.padStart(w.value)}  ${r.target.padEnd(w.target)}  ${r.ok === undefined ? (r === head ? 'ok?' : '') : r.ok ? 'PASS' : 'FAIL'}`
  const sep = '-'.repeat(line(head).length)
  process.stdout.write(`\n${line(head)}\n${sep}\n`)
  let last = ''
  for (const r of rows) {
    process.stdout.write(line(r.section === last ? { ...r, section: '' } : r) + '\n')
    last = r.section
  }
  process.stdout.write(sep + '\n')
}

export const fmt = (n: number | undefined, unit = ''): string => n === undefined || Number.isNaN(n) ? 'n/a' : `${n.toLocaleString('en-US')}${unit}`

