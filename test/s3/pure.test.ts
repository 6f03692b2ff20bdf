/**
 * The pure parts of the S3 front door, without a server: Range parsing and
 * slicing, the listing (prefix, delimiter, pages, resume points) over a fake
 * ordered source, routing, the multipart ETag and part checks, XML bodies,
 * and metadata validation.
 */
import t from 'tap'
import { listPage, pastPrefix, type PageSource } from '../../node/s3/listing'
import { choosePart, multipartEtag } from '../../node/s3/multipart'
import { parseRange, sliceChunks } from '../../node/s3/range'
import { route, splitPath } from '../../node/s3/router'
import { parseCompleteRequest, parseDeleteRequest } from '../../node/s3/xml'
import type { ListedObject } from '../../storage/object-store'
import { validateObjectMeta } from '../../storage/object-meta'
import crypto from 'node:crypto'
import { Authenticator, DEV_S3_KEY, parseCredentials } from '../../node/rpc/credentials'

t.test('Range', async t => {
  t.same(parseRange(undefined, 10), { kind: 'whole' })
  t.same(parseRange('bytes=0-4', 10), { kind: 'part', start: 0, end: 4 })
  t.same(parseRange('bytes=5-', 10), { kind: 'part', start: 5, end: 9 })
  t.same(parseRange('bytes=-3', 10), { kind: 'part', start: 7, end: 9 })
  t.same(parseRange('bytes=-30', 10), { kind: 'part', start: 0, end: 9 })
  t.same(parseRange('bytes=8-100', 10), { kind: 'part', start: 8, end: 9 })
  t.same(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' })
  t.same(parseRange('bytes=-0', 10), { kind: 'unsatisfiable' })
  t.same(parseRange('bytes=0-0', 0), { kind: 'unsatisfiable' })
  t.same(parseRange('bytes=5-2', 10), { kind: 'whole' }, 'a reversed range is ignored')
  t.same(parseRange('bytes=0-1,3-4', 10), { kind: 'whole' }, 'several ranges are ignored')
  t.same(parseRange('items=0-1', 10), { kind: 'whole' })
  const data = crypto.randomBytes(1000)
  async function * chunks (): AsyncGenerator<Buffer> { for (let i = 0; i < data.length; i += 64) yield data.subarray(i, i + 64) }
  for (const [s, e] of [[0, 999], [0, 0], [63, 64], [100, 900], [999, 999]]) {
    const out: Buffer[] = []
    for await (const c of sliceChunks(chunks(), s, e)) out.push(c)
    t.same(Buffer.concat(out), data.subarray(s, e + 1), `slice ${s}-${e}`)
  }
})

/** A sorted key set as the store lists it (after is exclusive, pages of `limit`). */
function fakeSource (keys: string[], calls: string[] = []): (prefix: string) => PageSource {
  const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  return (prefix) => async (after, limit) => {
    calls.push(after)
    const from = Buffer.from(after > prefix ? after : prefix)
    const rest = sorted.filter(k => Buffer.compare(Buffer.from(k), from) >= 0 && k !== after)
    const inPrefix: ListedObject[] = []
    for (const k of rest) {
      if (!k.startsWith(prefix)) break
      inPrefix.push({ key: k, size: 1, etag: 'e', mtime: 0, site: 's' })
      if (inPrefix.length >= limit) return { objects: inPrefix, nextStartAfter: k }
    }
    return { objects: inPrefix, nextStartAfter: '' }
  }
}

/** Every key and prefix of a listing, page by page (resuming as S3 clients do). */
async function listAll (src: (p: string) => PageSource, prefix: string, delimiter: string, maxKeys: number): Promise<{ items: string[], pages: number }> {
  const items: string[] = []
  let after = ''
  let pages = 0
  for (;;) {
    const p = await listPage(src(prefix), { prefix, delimiter, maxKeys, after })
    pages++
    for (const o of p.contents) items.push(o.key)
    for (const cp of p.prefixes) items.push(cp + '/')
    if (!p.truncated) return { items, pages }
    after = p.nextAfter
  }
}

t.test('listing: prefix, delimiter, pages', async t => {
  const keys = ['a', 'b/1', 'b/2', 'b/3/x', 'c', 'd/e/f', 'd/g', 'e', 'é', '\u{1F600}', 'z']
  const src = fakeSource(keys)
  t.same((await listAll(src, '', '', 1000)).items, [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), 'UTF-8 byte order')
  const top = await listPage(src(''), { prefix: '', delimiter: '/', maxKeys: 1000, after: '' })
  t.same(top.contents.map(o => o.key), ['a', 'c', 'e', 'z', 'é', '\u{1F600}'])
  t.same(top.prefixes, ['b/', 'd/'])
  const inB = await listPage(src('b/'), { prefix: 'b/', delimiter: '/', maxKeys: 1000, after: '' })
  t.same(inB.contents.map(o => o.key), ['b/1', 'b/2'])
  t.same(inB.prefixes, ['b/3/'])
  // Paged one at a time, a common prefix is returned once and resumed past.
  for (const max of [1, 2, 3]) {
    const r = await listAll(src, '', '/', max)
    t.same(r.items.sort(), ['a', 'b//', 'c', 'd//', 'e', 'z', 'é', '\u{1F600}'].sort(), `max-keys ${max}: every item once`)
  }
  const one = await listPage(src(''), { prefix: '', delimiter: '/', maxKeys: 2, after: '' })
  t.same([one.contents.map(o => o.key), one.prefixes, one.truncated], [['a'], ['b/'], true])
  t.equal(one.nextAfter, pastPrefix('b/'))
  const zero = await listPage(src(''), { prefix: '', delimiter: '', maxKeys: 0, after: '' })
  t.same([zero.contents.length, zero.truncated], [0, false])
  const resumeAtPrefix = await listPage(src(''), { prefix: '', delimiter: '/', maxKeys: 1000, after: 'b/' })
  t.same(resumeAtPrefix.prefixes, ['d/'], 'a v1 marker that is a common prefix skips it')
})

t.test('listing: a prefix of 5,000 keys costs one seek, not a scan', async t => {
  const keys = ['a', ...Array.from({ length: 5000 }, (_, i) => `big/${String(i).padStart(5, '0')}`), 'c']
  const calls: string[] = []
  const p = await listPage(fakeSource(keys, calls)(''), { prefix: '', delimiter: '/', maxKeys: 1000, after: '' })
  t.same(p.contents.map(o => o.key), ['a', 'c'])
  t.same(p.prefixes, ['big/'])
  t.ok(calls.length <= 3, `${calls.length} page reads`)
  const r = await listAll(fakeSource(keys), 'big/', '', 1000)
  t.equal(r.items.length, 5000)
  t.equal(r.pages, 5)
})

t.test('routing', async t => {
  const q = (s: string): Map<string, string> => new Map(new URLSearchParams(s))
  t.same(route('GET', '', '', q(''), {}), { op: 'ListBuckets' })
  t.same(route('GET', 'b', '', q('list-type=2'), {}), { op: 'ListObjectsV2' })
  t.same(route('GET', 'b', '', q(''), {}), { op: 'ListObjects' })
  t.same(route('POST', 'b', '', q('delete'), {}), { op: 'DeleteObjects' })
  t.same(route('PUT', 'b', 'k', q(''), { 'x-amz-copy-source': '/b/j' }), { op: 'CopyObject' })
  t.same(route('PUT', 'b', 'k', q('partNumber=1&uploadId=u'), {}), { op: 'UploadPart' })
  t.same(route('POST', 'b', 'k', q('uploads'), {}), { op: 'CreateMultipartUpload' })
  t.same(route('POST', 'b', 'k', q('uploadId=u'), {}), { op: 'CompleteMultipartUpload' })
  t.same(route('DELETE', 'b', 'k', q('uploadId=u'), {}), { op: 'AbortMultipartUpload' })
  t.same(route('GET', 'b', 'k', q('uploadId=u'), {}), { op: 'ListParts' })
  t.match(route('GET', 'b', 'k', q('acl'), {}), { error: 'NotImplemented' })
  t.same(splitPath('/b/a//c/'), { bucket: 'b', key: 'a//c/' })
  t.same(splitPath('/b'), { bucket: 'b', key: '' })
})

t.test('multipart ETag and part checks', async t => {
  const md5 = (s: string): string => crypto.createHash('md5').update(s).digest('hex')
  const parts = [md5('a'), md5('b')]
  const want = crypto.createHash('md5').update(Buffer.concat(parts.map(p => Buffer.from(p, 'hex')))).digest('hex') + '-2'
  t.equal(multipartEtag(parts), want)
  const stored = [{ part: 1, dataId: 'x', size: 10, etag: parts[0], mtime: 0 }, { part: 2, dataId: 'y', size: 3, etag: parts[1], mtime: 0 }]
  t.same(choosePart([{ partNumber: 1, etag: parts[0] }, { partNumber: 2, etag: parts[1] }], stored, 10).map(p => p.part), [1, 2])
  t.throws(() => choosePart([{ partNumber: 2, etag: parts[1] }, { partNumber: 1, etag: parts[0] }], stored, 10), { code: 'InvalidPartOrder' })
  t.throws(() => choosePart([{ partNumber: 1, etag: parts[1] }], stored, 10), { code: 'InvalidPart' }, 'wrong etag')
  t.throws(() => choosePart([{ partNumber: 3, etag: parts[1] }], stored, 10), { code: 'InvalidPart' }, 'no such part')
  t.throws(() => choosePart([{ partNumber: 1, etag: parts[0] }, { partNumber: 2, etag: parts[1] }], stored, 11), { code: 'EntityTooSmall' })
})

t.test('XML bodies', async t => {
  t.same(parseDeleteRequest('<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key> c </Key></Object></Delete>'), { keys: ['a&b', ' c '], quiet: true })
  t.throws(() => parseDeleteRequest('<Delete><Object><Key>a</Key>'), { code: 'MalformedXML' })
  t.throws(() => parseDeleteRequest('<Delete></Delete>'), { code: 'MalformedXML' })
  t.same(parseCompleteRequest('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;abc&#34;</ETag></Part><Part><ETag>"def"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>'), [{ partNumber: 1, etag: 'abc' }, { partNumber: 2, etag: 'def' }])
  t.throws(() => parseCompleteRequest('<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>'), { code: 'InvalidPart' })
})

t.test('object metadata limits', async t => {
  t.same(validateObjectMeta({ type: 'text/plain', user: { a: 'b' } }), { type: 'text/plain', user: { a: 'b' } })
  t.throws(() => validateObjectMeta({ user: { a: 'x'.repeat(2100) } }), { code: 'INVALID_ARGUMENT' })
  t.throws(() => validateObjectMeta({ user: { 'A B': 'x' } }), { code: 'INVALID_ARGUMENT' })
  t.throws(() => validateObjectMeta({ etag: 'nope' }), { code: 'INVALID_ARGUMENT' })
  t.throws(() => validateObjectMeta({ other: 1 }), { code: 'INVALID_ARGUMENT' })
})

t.test('S3 keys in the credentials file', async t => {
  const ok = parseCredentials(JSON.stringify({ s3: [{ accessKey: 'AK1', secretKey: 'secret-1234', identity: 'app', role: 'client' }] }))
  t.same(ok.s3Keys.get('AK1'), { accessKey: 'AK1', secret: 'secret-1234', identity: 'app', role: 'client' })
  for (const bad of [
    { s3: {} },
    { s3: [{ accessKey: 'AK1', secretKey: 'short', identity: 'app', role: 'client' }] },
    { s3: [{ accessKey: 'A', secretKey: 'secret-1234', identity: 'app', role: 'client' }] },
    { s3: [{ accessKey: 'AK1', secretKey: 'secret 1234', identity: 'app', role: 'client' }] },
    { s3: [{ accessKey: 'AK1', secretKey: 'secret-1234', identity: 'app', role: 'root' }] },
    { s3: [{ accessKey: 'AK1', secretKey: 'secret-1234', identity: 'a b', role: 'client' }] },
    { s3: [{ accessKey: 'AK1', secretKey: 'secret-1234', identity: 'app', role: 'client', extra: 1 }] },
    { s3: [{ accessKey: 'AK1', secretKey: 'secret-1234', identity: 'app', role: 'client' }, { accessKey: 'AK1', secretKey: 'secret-5678', identity: 'b', role: 'client' }] }
  ]) t.throws(() => parseCredentials(JSON.stringify(bad)), { code: 'INVALID_ARGUMENT' }, JSON.stringify(bad).slice(0, 80))
  const open = new Authenticator({ mutualTls: false })
  t.equal(open.s3Key(DEV_S3_KEY.accessKey)?.role, 'admin', 'the development key on a node without credentials')
  const closed = new Authenticator({ credentials: ok, mutualTls: false })
  t.equal(closed.s3Key(DEV_S3_KEY.accessKey), undefined, 'and not on one with credentials')
  t.equal(closed.s3Key('AK1')?.identity, 'app')
})
