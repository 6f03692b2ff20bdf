/**
 * storage/md5-worker.ts: the MD5 of large replicated contents, computed on a
 * worker thread with the pieces' memory handed over and back. Checked
 * against node:crypto on every way a piece can hold its memory.
 */
import crypto from 'node:crypto'
import { markAsUntransferable } from 'node:worker_threads'
import t from 'tap'
import { Md5Worker } from '../storage/md5-worker'

const MiB = 1024 * 1024
const md5 = (pieces: Buffer[]): string => {
  const h = crypto.createHash('md5')
  for (const p of pieces) h.update(p)
  return h.digest('hex')
}
const joined = (pieces: Buffer[]): Buffer => Buffer.concat(pieces)

t.test('the MD5 and the content, however the pieces hold their memory', async t => {
  const hasher = new Md5Worker()
  t.teardown(async () => { await hasher.close() })

  // Buffers of their own: handed over without a copy (the caller's are emptied).
  const own = [crypto.randomBytes(MiB), crypto.randomBytes(3 * MiB + 17)]
  const ownCopy = own.map(b => Buffer.from(b))
  const a = await hasher.hash(own)
  t.equal(a.etag, md5(ownCopy), 'own buffers: the MD5')
  t.ok(joined(a.content).equals(joined(ownCopy)), 'own buffers: the content, in order')
  t.same(own.map(b => b.length), [0, 0], 'own buffers: handed over, not copied')

  // Most of a buffer (a gRPC message after its header): handed over as well.
  const framed = crypto.randomBytes(MiB + 9)
  const body = framed.subarray(9)
  const bodyCopy = Buffer.from(body)
  const b = await hasher.hash([body])
  t.equal(b.etag, md5([bodyCopy]), 'a message body: the MD5')
  t.ok(joined(b.content).equals(bodyCopy), 'a message body: the content')

  // Small slices of one larger buffer: copied, so the buffer stays whole.
  const big = crypto.randomBytes(4 * MiB)
  const bigCopy = Buffer.from(big)
  const slices = [big.subarray(0, MiB), big.subarray(MiB, 2 * MiB), big.subarray(3 * MiB)]
  const c = await hasher.hash(slices)
  t.equal(c.etag, md5([bigCopy.subarray(0, MiB), bigCopy.subarray(MiB, 2 * MiB), bigCopy.subarray(3 * MiB)]), 'slices: the MD5')
  t.ok(big.equals(bigCopy), 'slices: the buffer they share is left whole')

  // Small pieces of Node's buffer pool: copied out of it.
  const pooled = [Buffer.from('abc'), Buffer.from('defgh')]
  const d = await hasher.hash(pooled)
  t.equal(d.etag, md5([Buffer.from('abcdefgh')]), 'pooled buffers: the MD5')
  t.equal(joined(d.content).toString(), 'abcdefgh', 'pooled buffers: the content')

  // Memory that cannot be handed over (as Node's pool is marked): hashed here, left intact.
  const fixed = crypto.randomBytes(2 * MiB)
  markAsUntransferable(fixed.buffer)
  const fixedCopy = Buffer.from(fixed)
  const f = await hasher.hash([fixed])
  t.equal(f.etag, md5([fixedCopy]), 'untransferable: the MD5')
  t.ok(fixed.equals(fixedCopy), 'untransferable: left intact')
  t.ok(joined(f.content).equals(fixedCopy), 'untransferable: the content')

  // Nothing, and empty pieces.
  t.equal((await hasher.hash([])).etag, md5([]), 'no pieces')
  const e = await hasher.hash([Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.alloc(0)])
  t.equal(e.etag, md5([Buffer.from([1, 2, 3])]), 'empty pieces between')
})

t.test('many at once each get their own answer', async t => {
  const hasher = new Md5Worker()
  t.teardown(async () => { await hasher.close() })
  const inputs = Array.from({ length: 24 }, (_, i) => [crypto.randomBytes(64 * 1024 + i), crypto.randomBytes(1000 * i + 1)])
  const want = inputs.map(pieces => md5(pieces.map(p => Buffer.from(p))))
  const got = await Promise.all(inputs.map(async pieces => (await hasher.hash(pieces)).etag))
  t.same(got, want, 'every MD5 matches its own input')
})

t.test('a closed hasher refuses', async t => {
  const hasher = new Md5Worker()
  await hasher.hash([crypto.randomBytes(1024)])
  await hasher.close()
  await t.rejects(hasher.hash([crypto.randomBytes(1024)]), 'hash after close')
})
