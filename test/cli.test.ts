/**
 * The `shardsync` command line (dist/node/cli/main.js run as a child
 * process) against a real node: bucket create/ls/shards/rm, put from a file,
 * get to a file and to stdout, ls, head, rm, split, info; and failures: exit
 * code non-zero, the stable code on stderr, never a stack trace.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { NodeProcess, runCli } from '../scripts/lib/cluster'

// Also when run directly with node (tap's default root timeout is 30 s).
t.setTimeout(300_000)

const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex')
const VERSION = (require('../../package.json') as { version: string }).version

const node = new NodeProcess({ site: 'A', args: ['--shards', '4', '--split-threshold', '1000'] })
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-cli-'))
t.before(async () => { await node.start() })
t.teardown(async () => {
  await node.stop().catch(() => {})
  fs.rmSync(node.dataDir, { recursive: true, force: true })
  fs.rmSync(work, { recursive: true, force: true })
})

interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs the CLI against the node; a CLI that hangs becomes a failed result, not a hung test. */
async function cli (...args: string[]): Promise<CliResult> {
  return await cliWithin(20_000, ...args)
}

async function cliWithin (timeoutMs: number, ...args: string[]): Promise<CliResult> {
  try {
    return await runCli([...args, '--node', node.address], { timeoutMs })
  } catch (err) {
    return { code: -1, stdout: '', stderr: `(test) ${(err as Error).message}` }
  }
}

function ok (t: Test, r: CliResult, what: string): void {
  t.equal(r.code, 0, `${what}: exit 0${r.code !== 0 ? ` (stderr: ${r.stderr.trim()})` : ''}`)
  t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
}

/** Failed with a non-zero exit, the code on stderr, no stack trace. */
function fails (t: Test, r: CliResult, code: string | RegExp, what: string): void {
  t.ok(r.code !== 0 && r.code !== null && r.code !== -1, `${what}: non-zero exit (${r.code})`)
  if (typeof code === 'string') t.ok(r.stderr.includes(code), `${what}: stderr names ${code}: ${JSON.stringify(r.stderr.trim().slice(0, 200))}`)
  else t.match(r.stderr, code, `${what}: stderr`)
  t.notMatch(r.stderr, /\n\s+at |^\s+at /m, `${what}: no stack trace`)
  t.ok(r.stderr.trim().split('\n').length <= 3, `${what}: short error output`)
}

t.test('bucket create, ls, shards', async (t) => {
  const created = await cli('bucket', 'create', 'cli-bucket', '--shards', '2', '--split-threshold', '500')
  ok(t, created, 'bucket create')
  const b = JSON.parse(created.stdout) as Record<string, unknown>
  t.match(b, { name: 'cli-bucket', initialShards: 2, shardCount: 2, splitThreshold: 500, autoSplit: true, objectCount: 0 })
  const manual = await cli('bucket', 'create', 'cli-manual', '--no-auto-split')
  ok(t, manual, 'bucket create --no-auto-split')
  t.match(JSON.parse(manual.stdout), { name: 'cli-manual', initialShards: 4, autoSplit: false }, 'node defaults and --no-auto-split')

  const ls = await cli('bucket', 'ls')
  ok(t, ls, 'bucket ls')
  const lines = ls.stdout.trim().split('\n')
  t.same(lines.map(l => l.split('\t')[0]), ['cli-bucket', 'cli-manual'])
  t.same(lines[0].split('\t'), ['cli-bucket', b.id, 'shards=2', 'objects=0'])

  const shards = await cli('bucket', 'shards', 'cli-bucket')
  ok(t, shards, 'bucket shards')
  const s = JSON.parse(shards.stdout) as { bucketId: string, shards: Array<Record<string, unknown>> }
  t.equal(s.bucketId, b.id)
  t.same(s.shards.map(x => [x.shard, x.state, x.parent, x.indexCount]), [[0, 'SPLIT_STATE_UNSPLIT', -1, 0], [1, 'SPLIT_STATE_UNSPLIT', -1, 0]])
})

t.test('put from a file, get to a file and to stdout, ls, head, rm', async (t) => {
  const files: Array<[string, Buffer]> = [
    ['small.txt', Buffer.from('hello from the cli\n')],
    ['medium.bin', crypto.randomBytes(300 * 1024 + 3)],
    ['large.bin', crypto.randomBytes(1536 * 1024 + 11)],
    ['empty', Buffer.alloc(0)]
  ]
  for (const [name, data] of files) {
    const file = path.join(work, name)
    fs.writeFileSync(file, data)
    const put = await cli('put', 'cli-bucket', `docs/${name}`, file)
    ok(t, put, `put ${name}`)
    t.match(JSON.parse(put.stdout || '{}'), { key: `docs/${name}`, size: data.length, etag: md5(data), originSite: 'A' }, `put ${name}: info`)
    const out = path.join(work, `${name}.out`)
    const get = await cliWithin(8_000, 'get', 'cli-bucket', `docs/${name}`, out)
    ok(t, get, `get ${name}`)
    const back = fs.existsSync(out) ? fs.readFileSync(out) : Buffer.from('(missing)')
    t.ok(back.equals(data), `get ${name} to a file: ${data.length} bytes, content equal (md5 ${md5(back)})`)
  }
  const stdout = await cli('get', 'cli-bucket', 'docs/small.txt')
  ok(t, stdout, 'get to stdout')
  t.equal(stdout.stdout, 'hello from the cli\n', 'content on stdout')
  const dash = await cli('get', 'cli-bucket', 'docs/small.txt', '-')
  t.equal(dash.stdout, 'hello from the cli\n', "'-' means stdout")

  await cli('put', 'cli-bucket', 'other/x', path.join(work, 'small.txt'))
  const ls = await cli('ls', 'cli-bucket')
  ok(t, ls, 'ls')
  const rows = ls.stdout.trim().split('\n').map(l => l.split('\t'))
  t.same(rows.map(r => r[0]), ['docs/empty', 'docs/large.bin', 'docs/medium.bin', 'docs/small.txt', 'other/x'], 'ls: all keys in order')
  const large = rows.find(r => r[0] === 'docs/large.bin')
  t.same(large?.slice(1, 3), [String(files[2][1].length), md5(files[2][1])], 'ls: size and etag')
  t.ok(!Number.isNaN(Date.parse(large?.[3] ?? '')), 'ls: ISO mtime')
  const prefixed = await cli('ls', 'cli-bucket', '--prefix', 'docs/m')
  t.same(prefixed.stdout.trim().split('\n').map(l => l.split('\t')[0]), ['docs/medium.bin'], 'ls --prefix')

  const head = await cli('head', 'cli-bucket', 'docs/medium.bin')
  ok(t, head, 'head')
  t.match(JSON.parse(head.stdout || '{}'), { key: 'docs/medium.bin', size: files[1][1].length, etag: md5(files[1][1]), originSite: 'A' })

  const rm = await cli('rm', 'cli-bucket', 'other/x')
  ok(t, rm, 'rm')
  t.equal(rm.stdout, '')
  fails(t, await cli('head', 'cli-bucket', 'other/x'), 'OBJECT_NOT_FOUND', 'head after rm')
  fails(t, await cli('rm', 'cli-bucket', 'other/x'), 'OBJECT_NOT_FOUND', 'rm twice')
  fails(t, await cliWithin(8_000, 'get', 'cli-bucket', 'other/x', path.join(work, 'gone.out')), 'OBJECT_NOT_FOUND', 'get after rm')
  const after = await cli('ls', 'cli-bucket')
  t.notOk(after.stdout.includes('other/x'), 'ls after rm')
  const bls = await cli('bucket', 'ls')
  t.match(bls.stdout, /cli-bucket\t\S+\tshards=2\tobjects=4\n/, 'bucket ls counts objects')
})

t.test('split and info', async (t) => {
  const load = await cli('load', 'cli-manual', '--count', '30', '--size', '100', '--concurrency', '4', '--prefix', 'm')
  ok(t, load, 'load')
  t.match(load.stdout, /^loaded 30 objects \(3000 bytes\)/, 'load reports what it stored')
  t.equal((await cli('ls', 'cli-manual')).stdout.trim().split('\n').length, 30, 'ls shows the loaded objects')
  const split = await cli('split', 'cli-manual', '3')
  ok(t, split, 'split')
  const r = JSON.parse(split.stdout || '{}') as { shard: number, newShard: number, moved: number }
  t.match(r, { shard: 3, newShard: 4 })
  const shards = JSON.parse((await cli('bucket', 'shards', 'cli-manual')).stdout) as { shards: Array<{ shard: number, children: number[], parent: number, indexCount: number }> }
  t.equal(shards.shards.length, 5)
  t.same(shards.shards[3].children, [4])
  t.equal(shards.shards[4].parent, 3)
  t.equal(shards.shards[4].indexCount, r.moved)
  t.equal(shards.shards.reduce((n, s) => n + s.indexCount, 0), 30)

  const info = await cli('info')
  ok(t, info, 'info')
  const i = JSON.parse(info.stdout || '{}') as { siteId: string, version: string, syncMode: string, buckets: Array<{ name: string, shardCount: number }> }
  t.match(i, { siteId: 'A', version: VERSION, syncMode: 'split-aware' })
  t.same(i.buckets.map(b => [b.name, b.shardCount]), [['cli-bucket', 2], ['cli-manual', 5]])

  fails(t, await cli('split', 'cli-manual', '99'), 'SHARD_NOT_FOUND', 'split of a missing shard')
  fails(t, await cli('split', 'cli-manual', 'abc'), /shard/, 'split with a non-numeric shard')
  fails(t, await cli('split', 'no-such-bucket', '0'), 'BUCKET_NOT_FOUND', 'split in a missing bucket')
})

t.test('failures: non-zero exit, the stable code on stderr, no stack trace', async (t) => {
  const bad = await cli('bucket', 'create', 'Bad_Name')
  fails(t, bad, 'INVALID_BUCKET_NAME', 'bad bucket name')
  t.equal(bad.stdout, '', 'nothing on stdout')
  fails(t, await cli('bucket', 'create', '192.168.0.1'), 'INVALID_BUCKET_NAME', 'IP-like bucket name')
  fails(t, await cli('bucket', 'create', 'cli-bucket'), 'BUCKET_EXISTS', 'existing bucket')
  fails(t, await cli('bucket', 'rm', 'cli-bucket'), 'BUCKET_NOT_EMPTY', 'rm non-empty bucket')
  fails(t, await cli('bucket', 'shards', 'no-such-bucket'), 'BUCKET_NOT_FOUND', 'shards of a missing bucket')
  fails(t, await cli('put', 'cli-bucket', 'k', path.join(work, 'does-not-exist')), /ENOENT|no such file/i, 'put of a missing file')
  fails(t, await cli('put', 'no-such-bucket', 'k', path.join(work, 'small.txt')), 'BUCKET_NOT_FOUND', 'put into a missing bucket')
  fails(t, await cli('head', 'cli-bucket', 'k'.repeat(1025)), 'INVALID_KEY', 'key too long')
  fails(t, await cliWithin(8_000, 'get', 'no-such-bucket', 'k', path.join(work, 'x.out')), 'BUCKET_NOT_FOUND', 'get from a missing bucket')
  const unreachable = await runCli(['info', '--node', '127.0.0.1:1'], { timeoutMs: 20_000 })
  fails(t, unreachable, 'UPSTREAM_UNAVAILABLE', 'unreachable node')
  const unknown = await runCli(['frobnicate'], { timeoutMs: 20_000 })
  t.not(unknown.code, 0, 'unknown command: non-zero exit')
  t.notMatch(unknown.stderr, /\n\s+at /, 'unknown command: no stack trace')
  const tooMany = await runCli(['node', '--data', path.join(work, 'never-opened'), '--listen', '127.0.0.1:0', '--db-max-open-files', '60000'], { timeoutMs: 20_000 })
  fails(t, tooMany, 'INVALID_ARGUMENT', 'node with --db-max-open-files out of range')
  const heapTooBig = await runCli(['node', '--data', path.join(work, 'never-opened'), '--listen', '127.0.0.1:0', '--heap-growth-percent', '500'], { timeoutMs: 20_000 })
  fails(t, heapTooBig, 'INVALID_ARGUMENT', 'node with --heap-growth-percent out of range')
  for (const n of ['0', '257']) {
    const shards = await runCli(['node', '--data', path.join(work, 'never-opened'), '--listen', '127.0.0.1:0', '--sync-shard-concurrency', n], { timeoutMs: 20_000 })
    fails(t, shards, 'INVALID_ARGUMENT', `node with --sync-shard-concurrency ${n}`)
  }
  t.notOk(fs.existsSync(path.join(work, 'never-opened')), 'a node refused at start-up creates no data directory')
  const version = await runCli(['--version'], { timeoutMs: 20_000 })
  t.equal(version.stdout.trim(), VERSION, '--version')

  // Empty the bucket; then it can be removed.
  const keys = (await cli('ls', 'cli-bucket')).stdout.trim().split('\n').map(l => l.split('\t')[0])
  for (const k of keys) ok(t, await cli('rm', 'cli-bucket', k), `rm ${k}`)
  ok(t, await cli('bucket', 'rm', 'cli-bucket'), 'bucket rm of an empty bucket')
  t.notMatch((await cli('bucket', 'ls')).stdout, /cli-bucket/, 'bucket gone')
})
