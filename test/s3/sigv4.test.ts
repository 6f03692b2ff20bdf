/**
 * SigV4 as the S3 front door checks it (node/s3/sigv4.ts, auth.ts,
 * chunked.ts), against the worked examples of the Amazon S3 API reference
 * ("Signature Calculations for the Authorization Header", "Authenticating
 * Requests: Using Query Parameters", "Signature Calculations for the
 * Authorization Header: Transferring Payload in Multiple Chunks"): the
 * signatures there were computed by AWS, not by this code.
 */
import t from 'tap'
import { authenticate } from '../../node/s3/auth'
import { ChunkedDecoder } from '../../node/s3/chunked'
import { S3Error } from '../../node/s3/errors'
import { canonicalRequest, chunkSignature, EMPTY_SHA256, trailerSignature, expectedSignature, parseAuthorizationHeader, parsePresignedQuery, parseQuery, sha256Hex, signingKey, uriEncode, type RequestParts } from '../../node/s3/sigv4'

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const AK = 'AKIAIOSFODNN7EXAMPLE'
const DATE = '20130524T000000Z'
const NOW = Date.UTC(2013, 4, 24, 0, 5, 0)
const lookup = (k: string): { accessKey: string, secret: string, identity: string, role: 'client' } | undefined => k === AK ? { accessKey: AK, secret: SECRET, identity: 'docs', role: 'client' } : undefined

function header (signed: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${signature}`
}

t.test('GET Object with Range (header auth)', async t => {
  const sig = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'
  const r: RequestParts = { method: 'GET', path: '/test.txt', query: [], headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': DATE, authorization: header('host;range;x-amz-content-sha256;x-amz-date', sig) } }
  const claim = parseAuthorizationHeader(r.headers.authorization as string, DATE)
  t.equal(expectedSignature(r, claim, SECRET, EMPTY_SHA256).signature, sig)
  const ok = authenticate(r, { region: 'us-east-1', lookup, now: NOW })
  t.same(ok.caller, { identity: 'docs', role: 'client', accessKey: AK })
  t.same(ok.payload, { kind: 'sha256', hex: EMPTY_SHA256 })
  const codeOf = (f: () => unknown): string | undefined => { try { f(); return undefined } catch (e) { return (e as S3Error).code } }
  t.equal(codeOf(() => authenticate({ ...r, headers: { ...r.headers, range: 'bytes=0-10' } }, { region: 'us-east-1', lookup, now: NOW })), 'SignatureDoesNotMatch', 'a changed signed header')
  t.equal(codeOf(() => authenticate(r, { region: 'us-east-1', lookup: () => ({ accessKey: AK, secret: SECRET + 'x', identity: 'docs', role: 'client' }), now: NOW })), 'SignatureDoesNotMatch', 'another secret')
  t.equal(codeOf(() => authenticate(r, { region: 'us-east-1', lookup: () => undefined, now: NOW })), 'InvalidAccessKeyId', 'unknown key')
  t.equal(codeOf(() => authenticate(r, { region: 'eu-west-1', lookup, now: NOW })), 'AuthorizationHeaderMalformed', 'another region')
  t.equal(codeOf(() => authenticate(r, { region: 'us-east-1', lookup, now: NOW + 16 * 60 * 1000 })), 'RequestTimeTooSkewed', '16 minutes later')
  t.equal(codeOf(() => authenticate({ ...r, headers: { ...r.headers, authorization: undefined } }, { region: 'us-east-1', lookup, now: NOW })), 'AccessDenied', 'anonymous')
})

t.test('PUT Object (signed payload) and GET with sub-resource queries', async t => {
  const body = 'Welcome to Amazon S3.'
  const hash = sha256Hex(body)
  t.equal(hash, '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072')
  const put: RequestParts = { method: 'PUT', path: '/test$file.text', query: [], headers: { host: 'examplebucket.s3.amazonaws.com', date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-date': DATE, 'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'x-amz-content-sha256': hash } }
  const claim = { accessKey: AK, scopeDate: '20130524', region: 'us-east-1', service: 's3', signedHeaders: ['date', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-storage-class'], signature: '', amzDate: DATE, presigned: false }
  t.equal(expectedSignature(put, claim, SECRET, hash).signature, '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd')
  const base = { host: 'examplebucket.s3.amazonaws.com', 'x-amz-date': DATE, 'x-amz-content-sha256': EMPTY_SHA256 }
  const signed = ['host', 'x-amz-content-sha256', 'x-amz-date']
  const lifecycle: RequestParts = { method: 'GET', path: '/', query: parseQuery('lifecycle') as Array<[string, string]>, headers: base }
  t.equal(expectedSignature(lifecycle, { ...claim, signedHeaders: signed }, SECRET, EMPTY_SHA256).signature, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543')
  const list: RequestParts = { method: 'GET', path: '/', query: parseQuery('max-keys=2&prefix=J') as Array<[string, string]>, headers: base }
  t.equal(expectedSignature(list, { ...claim, signedHeaders: signed }, SECRET, EMPTY_SHA256).signature, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7')
})

t.test('presigned GET', async t => {
  const raw = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${AK}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${DATE}&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404`
  const r: RequestParts = { method: 'GET', path: '/test.txt', query: parseQuery(raw) as Array<[string, string]>, headers: { host: 'examplebucket.s3.amazonaws.com' } }
  const claim = parsePresignedQuery(r.query)
  t.ok(claim?.presigned)
  t.same(authenticate(r, { region: 'us-east-1', lookup, now: NOW }).payload, { kind: 'unsigned' })
  t.throws(() => authenticate(r, { region: 'us-east-1', lookup, now: NOW + 86401 * 1000 }), { code: 'AccessDenied' }, 'expired')
  const tampered = { ...r, query: r.query.map(([k, v]) => [k, k === 'X-Amz-Expires' ? '604800' : v] as [string, string]) }
  t.throws(() => authenticate(tampered, { region: 'us-east-1', lookup, now: NOW }), { code: 'SignatureDoesNotMatch' }, 'a longer expiry than signed')
})

t.test('aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', async t => {
  const r: RequestParts = {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: [],
    headers: { host: 's3.amazonaws.com', 'x-amz-date': DATE, 'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'content-encoding': 'aws-chunked', 'content-length': '66824', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '66560' }
  }
  const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9'
  r.headers = { ...r.headers, authorization: header('content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class', seed) }
  const auth = authenticate(r, { region: 'us-east-1', lookup, now: NOW })
  t.equal(auth.payload.kind, 'chunked')
  const signing = (auth.payload as { signing: { key: Buffer, scope: string } }).signing
  const key = signingKey(SECRET, '20130524', 'us-east-1', 's3')
  const c1 = chunkSignature(key, DATE, signing.scope, seed, sha256Hex(Buffer.alloc(65536, 'a')))
  t.equal(c1, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648', 'first chunk')
  const c2 = chunkSignature(key, DATE, signing.scope, c1, sha256Hex(Buffer.alloc(1024, 'a')))
  t.equal(c2, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497', 'second chunk')
  const c3 = chunkSignature(key, DATE, signing.scope, c2, EMPTY_SHA256)
  t.equal(c3, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9', 'final chunk')
  const bodyOf = (sigs: string[]): Buffer => Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`), Buffer.alloc(65536, 'a'), Buffer.from('\r\n'),
    Buffer.from(`400;chunk-signature=${sigs[1]}\r\n`), Buffer.alloc(1024, 'a'), Buffer.from('\r\n'),
    Buffer.from(`0;chunk-signature=${sigs[2]}\r\n\r\n`)])
  const good = bodyOf([c1, c2, c3])
  t.equal(good.length, 66824, 'the body is as long as the example says')
  const decode = async (body: Buffer, pieceSize: number): Promise<Buffer> => {
    const d = new ChunkedDecoder((auth.payload as unknown as { signing: never }).signing)
    async function * pieces (): AsyncGenerator<Buffer> { for (let i = 0; i < body.length; i += pieceSize) yield body.subarray(i, i + pieceSize) }
    const out: Buffer[] = []
    for await (const p of d.decode(pieces())) out.push(p)
    return Buffer.concat(out)
  }
  for (const size of [1, 7, 1000, 70000]) t.same(await decode(good, size), Buffer.alloc(66560, 'a'), `decoded in pieces of ${size}`)
  await t.rejects(decode(bodyOf([c1, c1, c3]), 4096), { code: 'SignatureDoesNotMatch' }, 'a chunk with a wrong signature')
  const flipped = Buffer.from(good)
  flipped[100] = 0x62
  await t.rejects(decode(flipped, 4096), { code: 'SignatureDoesNotMatch' }, 'a changed byte')
  await t.rejects(decode(good.subarray(0, 66000), 4096), { code: 'IncompleteBody' }, 'a short body')
})

t.test('aws-chunked with a signed trailer (…-PAYLOAD-TRAILER) and with an unsigned one', async t => {
  const key = signingKey(SECRET, '20130524', 'us-east-1', 's3')
  const scope = '20130524/us-east-1/s3/aws4_request'
  const seed = 'ab'.repeat(32)
  const data = Buffer.alloc(1000, 'z')
  const c1 = chunkSignature(key, DATE, scope, seed, sha256Hex(data))
  const c2 = chunkSignature(key, DATE, scope, c1, EMPTY_SHA256)
  const trailer = 'x-amz-checksum-crc32:sOO8/Q==\n'
  const ts = trailerSignature(key, DATE, scope, c2, trailer)
  const body = (tsig: string): Buffer => Buffer.concat([Buffer.from(`3e8;chunk-signature=${c1}\r\n`), data, Buffer.from(`\r\n0;chunk-signature=${c2}\r\nx-amz-checksum-crc32:sOO8/Q==\r\nx-amz-trailer-signature:${tsig}\r\n\r\n`)])
  const run = async (b: Buffer, signed: boolean): Promise<{ data: Buffer, trailers: Map<string, string> }> => {
    const d = new ChunkedDecoder(signed ? { key, amzDate: DATE, scope, seed } : undefined)
    const out: Buffer[] = []
    for await (const p of d.decode((async function * () { yield b })())) out.push(p)
    return { data: Buffer.concat(out), trailers: d.trailers }
  }
  const ok = await run(body(ts), true)
  t.ok(ok.data.equals(data))
  t.equal(ok.trailers.get('x-amz-checksum-crc32'), 'sOO8/Q==')
  await t.rejects(run(body('0'.repeat(64)), true), { code: 'SignatureDoesNotMatch' }, 'a wrong trailer signature')
  const unsigned = Buffer.concat([Buffer.from('3e8\r\n'), data, Buffer.from('\r\n0\r\nx-amz-checksum-crc32:sOO8/Q==\r\n\r\n')])
  t.equal((await run(unsigned, false)).trailers.get('x-amz-checksum-crc32'), 'sOO8/Q==', 'unsigned chunks with a trailer')
  await t.rejects(run(unsigned, true), { code: 'SignatureDoesNotMatch' }, 'unsigned chunks where signed ones are due')
})

t.test('canonical forms', async t => {
  t.equal(uriEncode('a b/c~d*é', false), 'a%20b/c~d%2A%C3%A9')
  t.equal(uriEncode('a/b'), 'a%2Fb')
  t.same(parseQuery('b=2&a=1&a=0&c'), [['b', '2'], ['a', '1'], ['a', '0'], ['c', '']])
  t.equal(parseQuery('x=%ZZ'), undefined, 'a bad escape')
  t.equal(parseQuery('x=%C3'), undefined, 'not UTF-8')
  const r: RequestParts = { method: 'GET', path: '/b/k', query: [['b', '2'], ['a', '1'], ['a', '0']], headers: { host: 'h', 'x-amz-date': '  a   b  ' } }
  t.equal(canonicalRequest(r, ['host', 'x-amz-date'], 'UNSIGNED-PAYLOAD'), 'GET\n/b/k\na=0&a=1&b=2\nhost:h\nx-amz-date:a b\n\nhost;x-amz-date\nUNSIGNED-PAYLOAD')
})
