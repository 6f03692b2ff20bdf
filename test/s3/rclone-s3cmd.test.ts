/**
 * rclone and s3cmd against a real pair of sites (issue 29).
 * - rclone: copy, lsf, check and sync of a tree with nested prefixes, a
 *   space and non-ASCII in names, and a 7 MB file over the multipart
 *   threshold (upload_cutoff 5M); each checked on the other site after
 *   wait-synced (check compares MD5s, the multipart file's through the
 *   metadata rclone stores, which must replicate too, and --download
 *   compares bytes), in both directions.
 * - s3cmd: mb, put (one part and multipart), ls, get, del; checked on the
 *   other site after wait-synced.
 *
 * Shown to fail on the broken behaviour: with XML entities left undecoded
 * (xml.ts without htmlEntities) rclone's CompleteMultipartUpload is refused
 * with InvalidPart and copy fails.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { clientEnv, DEV_S3_KEY, needClient, run, s3Endpoint, startS3Pair, tempDir, waitSynced, which } from './helpers'
import type { NodeProcess } from '../sync/helpers'

function writeTree (root: string, files: Record<string, Buffer>): void {
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), data)
  }
}

function rcloneConfig (dir: string, nodes: Record<string, NodeProcess>): string {
  const file = path.join(dir, 'rclone.conf')
  fs.writeFileSync(file, Object.entries(nodes).map(([name, n]) => `[${name}]
type = s3
provider = Other
access_key_id = ${DEV_S3_KEY.accessKey}
secret_access_key = ${DEV_S3_KEY.secret}
endpoint = ${s3Endpoint(n)}
region = us-east-1
force_path_style = true
upload_cutoff = 5M
chunk_size = 5M
`).join('\n'))
  return file
}

t.test('rclone copy, lsf, check and sync across a pair', async t => {
  const rclone = which('rclone')
  if (!needClient(t, 'rclone', rclone !== undefined, 'apt-get install rclone')) return
  const [a, b] = await startS3Pair(t)
  const dir = tempDir(t, 'rclone')
  const env = clientEnv(dir)
  const conf = rcloneConfig(dir, { siteA: a, siteB: b })
  const rc = async (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => await run(rclone as string, ['--config', conf, '--retries', '1', '--low-level-retries', '1', ...args], { env })
  const tree = path.join(dir, 'tree')
  writeTree(tree, {
    'top.txt': Buffer.from('top'),
    'a/one.txt': Buffer.from('one'),
    'a/b/c/deep.txt': Buffer.from('deep'),
    'a/b/with space.txt': Buffer.from('space'),
    'ünï/cödé.txt': Buffer.from('utf-8 names'),
    'media/big.bin': crypto.randomBytes(7 * 1024 * 1024 + 123)
  })
  const want = ['a/', 'a/b/', 'a/b/c/', 'a/b/c/deep.txt', 'a/b/with space.txt', 'a/one.txt', 'media/', 'media/big.bin', 'top.txt', 'ünï/', 'ünï/cödé.txt']
  const lsf = async (remote: string): Promise<string[]> => (await rc('lsf', '-R', remote)).stdout.split('\n').filter(l => l !== '').sort()

  const copy = await rc('copy', tree, 'siteA:rcl')
  t.equal(copy.code, 0, 'rclone copy to A', { stderr: copy.stderr.slice(-2000) })
  t.same(await lsf('siteA:rcl'), want.sort(), 'lsf on A lists the nested tree')
  const checkA = await rc('check', tree, 'siteA:rcl')
  t.equal(checkA.code, 0, 'rclone check against A', { stderr: checkA.stderr.slice(-2000) })

  await waitSynced(t, b)
  t.same(await lsf('siteB:rcl'), want.sort(), 'lsf on B after wait-synced')
  const checkB = await rc('check', tree, 'siteB:rcl')
  t.equal(checkB.code, 0, 'rclone check (MD5s, the multipart file\'s from its metadata) against B', { stderr: checkB.stderr.slice(-2000) })
  const bytesB = await rc('check', '--download', tree, 'siteB:rcl')
  t.equal(bytesB.code, 0, 'rclone check --download (bytes) against B', { stderr: bytesB.stderr.slice(-2000) })

  // The other way: change the tree, sync it to B, read it on A.
  fs.rmSync(path.join(tree, 'a/one.txt'))
  fs.writeFileSync(path.join(tree, 'top.txt'), 'top, changed')
  writeTree(tree, { 'new/file.txt': Buffer.from('new') })
  const sync = await rc('sync', tree, 'siteB:rcl')
  t.equal(sync.code, 0, 'rclone sync to B', { stderr: sync.stderr.slice(-2000) })
  await waitSynced(t, a)
  const after = want.filter(k => k !== 'a/one.txt').concat(['new/', 'new/file.txt']).sort()
  t.same(await lsf('siteA:rcl'), after, 'lsf on A shows the sync made on B')
  const checkA2 = await rc('check', '--download', tree, 'siteA:rcl')
  t.equal(checkA2.code, 0, 'rclone check --download against A after the sync on B', { stderr: checkA2.stderr.slice(-2000) })
})

t.test('s3cmd put, ls, get and del across a pair', async t => {
  const s3cmd = which('s3cmd')
  if (!needClient(t, 's3cmd', s3cmd !== undefined, 'apt-get install s3cmd')) return
  const [a, b] = await startS3Pair(t)
  const dir = tempDir(t, 's3cmd')
  const env = clientEnv(dir)
  const cfg = (n: NodeProcess, name: string): string => {
    const host = new URL(s3Endpoint(n)).host
    const file = path.join(dir, name)
    fs.writeFileSync(file, `[default]\naccess_key = ${DEV_S3_KEY.accessKey}\nsecret_key = ${DEV_S3_KEY.secret}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nbucket_location = us-east-1\nsignature_v2 = False\nmultipart_chunk_size_mb = 5\n`)
    return file
  }
  const onA = cfg(a, 'a.cfg')
  const onB = cfg(b, 'b.cfg')
  const s3c = async (conf: string, ...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => await run(s3cmd as string, ['-c', conf, ...args], { env })
  const small = path.join(dir, 'small.txt')
  const big = path.join(dir, 'big.bin')
  fs.writeFileSync(small, 'small file')
  fs.writeFileSync(big, crypto.randomBytes(6 * 1024 * 1024 + 7))
  t.equal((await s3c(onB, 'mb', 's3://s3cmd-bkt')).code, 0, 'mb on B')
  const put1 = await s3c(onB, 'put', small, 's3://s3cmd-bkt/dir/small.txt')
  t.equal(put1.code, 0, 'put on B', { stderr: put1.stderr })
  const put2 = await s3c(onB, 'put', big, 's3://s3cmd-bkt/big.bin')
  t.equal(put2.code, 0, 'multipart put on B', { stderr: put2.stderr })
  const lsB = await s3c(onB, 'ls', '-r', 's3://s3cmd-bkt')
  t.match(lsB.stdout, /s3:\/\/s3cmd-bkt\/big\.bin/, 'ls on B')
  t.match(lsB.stdout, /s3:\/\/s3cmd-bkt\/dir\/small\.txt/)

  await waitSynced(t, a)
  const lsA = await s3c(onA, 'ls', 's3://s3cmd-bkt')
  t.match(lsA.stdout, /DIR\s+s3:\/\/s3cmd-bkt\/dir\//, 'ls on A after wait-synced shows the prefix')
  t.match(lsA.stdout, /6291463\s+s3:\/\/s3cmd-bkt\/big\.bin/, 'and the multipart object with its size')
  for (const [key, local] of [['dir/small.txt', small], ['big.bin', big]]) {
    const out = path.join(dir, `got-${path.basename(local)}`)
    const get = await s3c(onA, 'get', '--force', `s3://s3cmd-bkt/${key}`, out)
    t.equal(get.code, 0, `get ${key} on A`, { stderr: get.stderr })
    t.ok(fs.readFileSync(out).equals(fs.readFileSync(local)), `${key}: the same bytes on A`)
  }
  const del = await s3c(onA, 'del', 's3://s3cmd-bkt/dir/small.txt')
  t.equal(del.code, 0, 'del on A', { stderr: del.stderr })
  await waitSynced(t, b)
  const lsB2 = await s3c(onB, 'ls', '-r', 's3://s3cmd-bkt')
  t.notMatch(lsB2.stdout, /small\.txt/, 'the delete reached B')
  t.match(lsB2.stdout, /big\.bin/)
})
