/**
 * A node killed (kill -9) while an S3 part is being streamed in: after the
 * restart the half-written part's file is gone (its upload marker told
 * start-up), the parts that were complete are still listed, and the
 * upload completes with them. Real process, real LevelDB.
 *
 * Shown to fail on the broken behaviour: with putPart writing no upload
 * marker before the file, the half part's file is left on disk after the
 * restart ("no file of the half part is left" fails).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import t from 'tap'
import { amzDate, s3Endpoint, s3Request } from './helpers'
import { startSites, waitFor, type NodeProcess } from '../sync/helpers'
import { DEV_S3_KEY } from '../../node/rpc/credentials'
import { canonicalRequest, scopeOf, signatureOf, signingKey, stringToSign } from '../../node/s3/sigv4'

function files (node: NodeProcess): string[] {
  const dir = path.join(node.dataDir, 'blobs')
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir).flatMap(d => fs.readdirSync(path.join(dir, d)))
}

t.test('kill -9 during UploadPart leaves no half part', async t => {
  const [n] = await startSites(t, [{ site: 'K', args: ['--s3', '127.0.0.1:0'] }])
  let ep = s3Endpoint(n)
  t.equal((await s3Request(ep, { method: 'PUT', url: '/crash' })).status, 200)
  const init = await s3Request(ep, { method: 'POST', url: '/crash/big?uploads' })
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body.toString())?.[1] as string
  const part1 = crypto.randomBytes(5 * 1024 * 1024)
  const p1 = await s3Request(ep, { method: 'PUT', url: `/crash/big?partNumber=1&uploadId=${uploadId}`, body: part1 })
  t.equal(p1.status, 200, 'part 1 stored')
  t.equal(files(n).length, 1, 'one part file')

  // Part 2: 8 MiB announced, 3 MiB sent, then the node is killed.
  const u = new URL(ep)
  const date = amzDate(new Date())
  const urlPath = `/crash/big?partNumber=2&uploadId=${uploadId}`
  const headers: Record<string, string> = { host: u.host, 'x-amz-date': date, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(8 * 1024 * 1024) }
  const signed = Object.keys(headers).sort()
  const scope = { scopeDate: date.slice(0, 8), region: 'us-east-1', service: 's3' }
  const canonical = canonicalRequest({ method: 'PUT', path: '/crash/big', query: [['partNumber', '2'], ['uploadId', uploadId]], headers }, signed, 'UNSIGNED-PAYLOAD')
  const sig = signatureOf(signingKey(DEV_S3_KEY.secret, scope.scopeDate, 'us-east-1', 's3'), stringToSign(date, scopeOf(scope), canonical))
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${DEV_S3_KEY.accessKey}/${scopeOf(scope)}, SignedHeaders=${signed.join(';')}, Signature=${sig}`
  const req = http.request({ host: u.hostname, port: u.port, method: 'PUT', path: urlPath, headers })
  req.on('error', () => {})
  req.write(crypto.randomBytes(3 * 1024 * 1024))
  await waitFor(() => files(n).length === 2 ? true : undefined, { what: 'the half part\'s file to appear' })
  await n.kill9()
  req.destroy()
  t.equal(files(n).length, 2, 'the half part\'s file is on disk at the crash')

  await n.restart()
  ep = s3Endpoint(n)
  t.equal(files(n).length, 1, 'no file of the half part is left after the restart')
  const parts = await s3Request(ep, { method: 'GET', url: `/crash/big?uploadId=${uploadId}` })
  t.equal((parts.body.toString().match(/<PartNumber>/g) ?? []).length, 1, 'ListParts: only the complete part')
  const tail = Buffer.from('the end')
  const p2 = await s3Request(ep, { method: 'PUT', url: `/crash/big?partNumber=2&uploadId=${uploadId}`, body: tail })
  const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${String(p1.headers.etag)}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${String(p2.headers.etag)}</ETag></Part></CompleteMultipartUpload>`
  t.equal((await s3Request(ep, { method: 'POST', url: `/crash/big?uploadId=${uploadId}`, body })).status, 200, 'the upload completes after the restart')
  const got = await s3Request(ep, { method: 'GET', url: '/crash/big' })
  t.ok(got.body.equals(Buffer.concat([part1, tail])), 'with the content of its parts')
  await waitFor(() => files(n).length === 1 ? true : undefined, { what: 'only the object\'s file to remain' })
  t.pass('only the object\'s file remains')
})
