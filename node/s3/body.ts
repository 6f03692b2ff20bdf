/**
 * A request body as the handlers read it: decoded (aws-chunked) and checked
 * as it streams, so that the last piece is handed over only once every check
 * passed: x-amz-content-sha256 (XAmzContentSHA256Mismatch), chunk and
 * trailer signatures (SignatureDoesNotMatch), Content-MD5 and the
 * x-amz-checksum-crc32/sha1/sha256 headers or trailers (BadDigest), the
 * decoded length. A handler that stores what it reads commits only after
 * the iterator is done, so a refused body stores nothing.
 *
 * Reading pauses the socket while the consumer awaits (back-pressure).
 */
import crypto from 'node:crypto'
import type http from 'node:http'
import zlib from 'node:zlib'
import type { Payload } from './auth'
import { firstHeader } from './auth'
import { ChunkedDecoder } from './chunked'
import { S3Error } from './errors'

const CHECKSUMS = ['crc32', 'sha1', 'sha256'] as const

/** The body's pieces, checked (see above); fails with IncompleteBody when shorter than declared. */
export async function * requestBody (req: http.IncomingMessage, payload: Payload): AsyncGenerator<Buffer> {
  const h = req.headers
  const decodedLength = firstHeader(h['x-amz-decoded-content-length'])
  const expectLength = payload.kind === 'chunked' ? (decodedLength !== undefined ? Number(decodedLength) : undefined) : (h['content-length'] !== undefined ? Number(h['content-length']) : undefined)
  const sha256 = payload.kind === 'sha256' ? crypto.createHash('sha256') : undefined
  const md5Want = firstHeader(h['content-md5'])
  const md5 = md5Want !== undefined ? crypto.createHash('md5') : undefined
  const sums: Array<{ name: string, want?: string, update: (b: Buffer) => void, digest: () => string }> = CHECKSUMS.map(name => checksum(name, firstHeader(h[`x-amz-checksum-${name}`])))
  const decoder = payload.kind === 'chunked' ? new ChunkedDecoder(payload.signing) : undefined
  // A trailing checksum is computed only when the request announces it.
  const trailer = firstHeader(h['x-amz-trailer'])?.trim().toLowerCase()
  // An early end (a refused body) must not destroy the request: the answer
  // goes out and the rest is drained (server.ts), so the connection lives on.
  const raw = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>
  const source: AsyncIterable<Buffer> = decoder !== undefined ? decoder.decode(raw) : raw
  let size = 0
  let held: Buffer | undefined
  for await (const piece of source) {
    size += piece.length
    sha256?.update(piece)
    md5?.update(piece)
    for (const s of sums) if (s.want !== undefined || trailer === `x-amz-checksum-${s.name}`) s.update(piece)
    // Each piece is handed on one step late: the last waits for the checks.
    if (held !== undefined) yield held
    held = piece
  }
  if (req.readableAborted || (expectLength !== undefined && size !== expectLength)) throw new S3Error('IncompleteBody', 'you did not provide the number of bytes specified by the Content-Length HTTP header')
  if (sha256 !== undefined && payload.kind === 'sha256' && sha256.digest('hex') !== payload.hex) throw new S3Error('XAmzContentSHA256Mismatch', 'the provided x-amz-content-sha256 header does not match what was computed')
  if (md5 !== undefined && md5.digest('base64') !== md5Want) throw new S3Error('BadDigest', 'the Content-MD5 you specified did not match what we received')
  for (const s of sums) {
    const want = s.want ?? (trailer === `x-amz-checksum-${s.name}` ? decoder?.trailers.get(trailer) : undefined)
    if (want !== undefined && s.digest() !== want) throw new S3Error('BadDigest', `the x-amz-checksum-${s.name} you specified did not match what we received`)
  }
  if (held !== undefined) yield held
}

function checksum (name: typeof CHECKSUMS[number], want: string | undefined): { name: string, want?: string, update: (b: Buffer) => void, digest: () => string } {
  if (name === 'crc32') {
    let crc = 0
    return { name, want, update: (b) => { crc = zlib.crc32(b, crc) }, digest: () => { const out = Buffer.alloc(4); out.writeUInt32BE(crc >>> 0); return out.toString('base64') } }
  }
  const hash = crypto.createHash(name)
  return { name, want, update: (b) => hash.update(b), digest: () => hash.digest('base64') }
}

/** A small body read whole (XML), at most `max` bytes (else MalformedXML / EntityTooLarge). */
export async function readSmallBody (req: http.IncomingMessage, payload: Payload, max: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  for await (const p of requestBody(req, payload)) {
    n += p.length
    if (n > max) throw new S3Error('EntityTooLarge', `request body over ${max} bytes`)
    parts.push(p)
  }
  return Buffer.concat(parts)
}

/** Reads and drops a body (requests that take none). */
export async function drainBody (req: http.IncomingMessage): Promise<void> {
  for await (const _ of req.iterator({ destroyOnReturn: false })) { /* dropped */ }
}
