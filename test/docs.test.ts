/**
 * The docs cannot rot: every command in a ```sh block of README.md and
 * docs/*.md is checked against what it names, in seconds.
 * - `shardsync …` / `npx shardsync …`: parsed by the real CLI (buildProgram
 *   of node/cli/main.ts, commander) with every action stubbed out, so an
 *   unknown command or flag, a missing argument or a bad value fails here;
 *   `npm run cluster -- … -- NODE FLAGS` checks the node flags the same way.
 * - `npm run X`: X is a script of package.json, and each `--flag` after
 *   `--` is one the script's source reads.
 * - `npx tap dist/test/…` and `node dist/…`: the source file exists.
 * - `grpcurl … service/Method` and `describe service`: they exist in proto/.
 * - The README's flags table is the one the CLI generates (npm run
 *   docs-flags), the README stays a front door (at most 300 lines, both
 *   set-up commands in its first 60), and its links into docs/ resolve.
 * - The block marked `<!-- docs-test: run -->` (the two-site walk-through)
 *   runs for real: bash, two real nodes on free ports, the real CLI; and
 *   `npm run pair` runs at a smaller size (6,000 objects).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import type { Command } from 'commander'
import { buildProgram } from '../node/cli/main'
import { flagsTable, BEGIN, END } from '../scripts/docs-flags'

t.setTimeout(240_000)

const ROOT = path.join(__dirname, '..', '..')
const CLI = path.join(ROOT, 'dist', 'node', 'cli', 'main.js')
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter(f => f.endsWith('.md')).map(f => path.join('docs', f))]
const read = (f: string): string => fs.readFileSync(path.join(ROOT, f), 'utf8')

interface Block { file: string, line: number, text: string, run: boolean }

/** The ```sh (or bash) blocks of a markdown file; `run` when the line before the fence marks it. */
function shBlocks (file: string): Block[] {
  const lines = read(file).split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(sh|bash|shell)\s*$/.test(lines[i])) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i])
    blocks.push({ file, line: start + 1, text: body.join('\n'), run: /<!-- docs-test: run/.test(lines[start - 1] ?? '') })
  }
  return blocks
}

/** Shell words of one command line: quotes kept together, $VAR and $(…) as they are. */
function words (s: string): string[] {
  const out: string[] = []
  let cur = ''
  let quote = ''
  let depth = 0
  let any = false
  for (const c of s) {
    if (quote !== '') {
      if (c === quote) quote = ''
      else cur += c
    } else if (c === '"' || c === "'") { quote = c; any = true } else if (c === '(' && cur.endsWith('$')) { depth++; cur += c } else if (c === ')' && depth > 0) { depth--; cur += c } else if (/\s/.test(c) && depth === 0) {
      if (cur !== '' || any) out.push(cur)
      cur = ''
      any = false
    } else cur += c
  }
  if (cur !== '' || any) out.push(cur)
  return out
}

/** The simple commands of a block: continuation lines joined, comments dropped, split at ; && || | &. */
function commands (block: string): string[][] {
  const joined = block.replace(/\\\n/g, ' ')
  const out: string[][] = []
  for (const raw of joined.split('\n')) {
    let line = ''
    let quote = ''
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]
      if (quote !== '') { if (c === quote) quote = ''; line += c; continue }
      if (c === '"' || c === "'") { quote = c; line += c; continue }
      if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]))) break
      line += ['&', ';', '|'].includes(c) ? '\n' : c
    }
    for (const part of line.split('\n')) {
      const w = words(part.trim())
      while (w.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0])) w.shift()
      if (w.length > 0) out.push(w)
    }
  }
  return out
}

/** Parses `args` with the real CLI, every action and hook stubbed out; resolves to the error, if any. */
async function parses (args: string[]): Promise<string | undefined> {
  const program = buildProgram()
  const quiet = (c: Command): void => {
    c.exitOverride()
    c.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    ;(c as unknown as { _lifeCycleHooks: object })._lifeCycleHooks = {}
    if (c.commands.length === 0) c.action(() => {})
    for (const sub of c.commands) quiet(sub)
  }
  quiet(program)
  try {
    await program.parseAsync(args, { from: 'user' })
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

const SCRIPTS = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts

/** The TypeScript source that `npm run X` runs, when it runs one of dist/scripts. */
function scriptSource (name: string): string | undefined {
  const m = /node dist\/scripts\/([\w-]+)\.js/.exec(SCRIPTS[name] ?? '')
  return m === null ? undefined : read(path.join('scripts', `${m[1]}.ts`))
}

/** The sources a dist/ path was compiled from (a file or a folder). */
function sourceExists (distPath: string): boolean {
  const rel = distPath.replace(/^dist\//, '').replace(/\.js$/, '.ts').replace(/\/$/, '')
  return fs.existsSync(path.join(ROOT, rel))
}

function protoMethods (): Set<string> {
  const found = new Set<string>(['grpc.health.v1.Health', 'grpc.health.v1.Health/Check', 'grpc.health.v1.Health/Watch'])
  const dir = path.join(ROOT, 'proto', 'shardsync', 'v1')
  for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.proto'))) {
    let service = ''
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const s = /^service (\w+)/.exec(line)
      if (s !== null) { service = `shardsync.v1.${s[1]}`; found.add(service) }
      const r = /^\s*rpc (\w+)\(/.exec(line)
      if (r !== null) found.add(`${service}/${r[1]}`)
    }
  }
  return found
}

/** What is wrong with one command (undefined: nothing, or not a command this test knows). */
async function check (w: string[], methods: Set<string>): Promise<string | undefined> {
  if (w[0] === 'npx' && w[1] === 'shardsync') return await parses(w.slice(2))
  if (w[0] === 'shardsync') return await parses(w.slice(1))
  if (w[0] === 'node' && w[1]?.startsWith('dist/')) return sourceExists(w[1]) ? undefined : `no source for ${w[1]}`
  if (w[0] === 'npx' && w[1] === 'tap') {
    const missing = w.slice(2).filter(a => a.startsWith('dist/') && !sourceExists(a))
    return missing.length === 0 ? undefined : `no tests at ${missing.join(', ')}`
  }
  if (w[0] === 'npm' && w[1] === 'run') {
    const name = w[2]
    if (SCRIPTS[name] === undefined) return `no npm script ${name}`
    const sep = w.indexOf('--')
    if (sep < 0) return undefined
    const rest = w.slice(sep + 1)
    const second = rest.indexOf('--')
    const own = second >= 0 ? rest.slice(0, second) : rest
    if (name === 'cluster' && second >= 0) {
      const err = await parses(['node', ...rest.slice(second + 1)])
      if (err !== undefined) return `node flags after --: ${err}`
    }
    const source = scriptSource(name)
    if (source === undefined) return undefined
    for (let i = 0; i < own.length; i++) {
      if (!own[i].startsWith('--')) continue
      const flag = own[i].split('=')[0]
      if (!source.includes(`'${flag}'`) && !source.includes(`"${flag}"`) && !source.includes(`${flag} `)) return `npm run ${name}: ${flag} is not a flag of scripts/${name}.ts`
      if (flag === '--node-arg' || flag === '--node-env' || flag === '--set') i++
    }
    return undefined
  }
  if (w[0] === 'grpcurl') {
    const named = w.filter(a => /^(shardsync|grpc)\.[\w.]+(\/\w+)?$/.test(a))
    const unknown = named.filter(a => !methods.has(a))
    return unknown.length === 0 ? undefined : `grpcurl: no ${unknown.join(', ')} in proto/`
  }
  return undefined
}

t.test('every command in the docs\' sh blocks is one the code has', async (t) => {
  const methods = protoMethods()
  let shardsync = 0
  for (const file of DOCS) {
    for (const b of shBlocks(file)) {
      for (const w of commands(b.text)) {
        if ((w[0] === 'npx' && w[1] === 'shardsync') || w[0] === 'shardsync') shardsync++
        const err = await check(w, methods)
        t.equal(err, undefined, `${b.file}:${b.line}: ${w.join(' ')}`)
      }
    }
  }
  t.ok(shardsync >= 20, `${shardsync} shardsync commands checked`)
})

t.test('control: the checker refuses what the CLI does not have', async (t) => {
  const methods = protoMethods()
  t.type(await check(['npx', 'shardsync', 'node', '--no-such-flag'], methods), 'string', 'an unknown flag')
  t.type(await check(['npx', 'shardsync', 'bucket', 'make', 'x'], methods), 'string', 'an unknown command')
  t.type(await check(['npx', 'shardsync', 'verify', '--source', 'a'], methods), 'string', 'a required flag missing')
  t.type(await check(['npx', 'shardsync', 'node', '--shards', 'many'], methods), 'string', 'a bad value')
  t.type(await check(['npm', 'run', 'no-such-script'], methods), 'string', 'an unknown script')
  t.type(await check(['npm', 'run', 'bench', '--', '--no-such-flag'], methods), 'string', 'an unknown bench flag')
  t.type(await check(['npm', 'run', 'cluster', '--', '--nodes', '2', '--', '--no-such-flag'], methods), 'string', 'an unknown node flag through cluster')
  t.type(await check(['grpcurl', '-plaintext', 'h:1', 'shardsync.v1.SyncService/NoSuch'], methods), 'string', 'an unknown method')
  t.type(await check(['npx', 'tap', 'dist/test/no-such.test.js'], methods), 'string', 'a missing test')
  t.equal(await check(['npx', 'shardsync', 'node', '--site', 'A', '--peer', 'B=127.0.0.1:1'], methods), undefined, 'a good one passes')
  t.same(commands('A=1; B=2\nnpx shardsync info --node $A && echo "a # b" # note\nfoo \\\n  --bar'), [['npx', 'shardsync', 'info', '--node', '$A'], ['echo', 'a # b'], ['foo', '--bar']])
})

t.test('the README\'s flags table is the CLI\'s', async (t) => {
  const readme = read('README.md')
  const at = readme.indexOf(BEGIN)
  const end = readme.indexOf(END)
  t.ok(at >= 0 && end > at, 'the table has its markers')
  t.equal(readme.slice(at + BEGIN.length, end).trim(), flagsTable(), 'generated from node/cli/main.ts (npm run docs-flags rewrites it)')
  const program = buildProgram()
  const node = program.commands.find(c => c.name() === 'node')
  for (const o of [...program.options, ...(node?.options ?? [])]) {
    if (o.long !== undefined && o.long !== '--version') t.ok(readme.includes(`\`${o.flags}\``), `${o.long} is in the table`)
  }
})

t.test('the README is a front door that links into docs/', async (t) => {
  const readme = read('README.md')
  const lines = readme.split('\n')
  t.ok(lines.length <= 300, `${lines.length} lines (at most 300)`)
  const first = lines.slice(0, 60).join('\n')
  t.ok(first.includes('npm install && npm start'), 'npm install && npm start in the first 60 lines')
  t.ok(first.includes('npm install && npm test'), 'npm install && npm test in the first 60 lines')
  for (const f of ['docs/design.md', 'docs/operations.md', 'docs/performance.md', 'proto/README.md']) {
    t.ok(readme.includes(f), `links ${f}`)
    t.ok(fs.existsSync(path.join(ROOT, f)), `${f} exists`)
  }
  for (const file of DOCS) {
    for (const m of read(file).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^https?:/.test(m[1])) continue
      t.ok(fs.existsSync(path.join(ROOT, path.dirname(file), m[1])), `${file}: link ${m[1]} resolves`)
    }
  }
})

t.test('docs/design.md names code and tests that exist', async (t) => {
  const design = read('docs/design.md')
  const named = new Set([...design.matchAll(/`((?:node|storage|test|scripts|proto)\/[\w./-]+\.(?:ts|proto|js))`/g)].map(m => m[1]))
  t.ok(named.size >= 20, `${named.size} files named`)
  for (const f of named) t.ok(fs.existsSync(path.join(ROOT, f)), `${f} exists`)
})

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}

t.test('the walk-throughs marked to run do, with free ports and the built CLI', async (t) => {
  const blocks = DOCS.flatMap(shBlocks).filter(b => b.run)
  t.ok(blocks.length >= 1, `${blocks.length} block(s) to run`)
  for (const b of blocks) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-docs-'))
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    const [a, bb] = [await freePort(), await freePort()]
    const script = b.text
      .replace(/npx shardsync/g, `node ${JSON.stringify(CLI)}`)
      .replace(/127\.0\.0\.1:7070/g, `127.0.0.1:${a}`)
      .replace(/127\.0\.0\.1:7071/g, `127.0.0.1:${bb}`)
    const proc = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { out += d.toString() })
    // Whatever happens, the nodes the block started in the background go too.
    t.teardown(() => { try { process.kill(-(proc.pid as number), 'SIGKILL') } catch { /* gone */ } })
    const code = await new Promise<number | null>(resolve => proc.once('exit', resolve))
    t.equal(code, 0, `${b.file}:${b.line} ran to the end:\n${out.slice(-3000)}`)
    if (b.file === 'README.md') {
      t.match(out, /hello from A/, 'the object put on A is read on B')
      t.match(out, /identical: 1 buckets, 5001 objects \(deep\)/, 'verify --deep finds the sites identical')
    }
  }
})

t.test('npm run pair (the README\'s first demo), at a smaller size, ends identical with splits during the full sync', async (t) => {
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-docs-pair-'))
  t.teardown(() => fs.rmSync(logs, { recursive: true, force: true }))
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'pair.js'), '--objects', '6000', '--rate', '1500', '--logs', logs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { out += d.toString() })
  t.teardown(() => { proc.kill('SIGKILL') })
  const code = await new Promise<number | null>(resolve => proc.once('exit', resolve))
  t.equal(code, 0, `pair exits 0 (identical, and shards split during B's full sync):\n${out.slice(-2000)}`)
  t.match(out, /verify --deep: +identical: 1 buckets, 6000 objects \(deep\)/, 'the summary line the README shows')
  t.match(out, /splits on A: +\d+ \(\d+ during B's full sync\)/)
})
