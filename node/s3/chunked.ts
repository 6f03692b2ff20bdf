/**
 * The aws-chunked body encoding (Content-Encoding: aws-chunked), decoded as
 * it streams: STREAMING-AWS4-HMAC-SHA256-PAYLOAD (each chunk signed, chained
 * from the request's seed signature), its -TRAILER form (trailing checksum
 * headers, signed too) and STREAMING-UNSIGNED-PAYLOAD-TRAILER.
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n <data> \r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n ... [x-amz-trailer-signature:<sig>\r\n]] \r\n
 *
 * Data is handed on as it arrives (no chunk is held whole); a chunk whose
 * signature does not match throws SignatureDoesNotMatch when its last byte
 * is seen, before the caller can commit anything. Used by node/s3/body.ts.
 */
import crypto from 'node:crypto'
import { S3Error } from './errors'
import { chunkSignature, sameSignature, trailerSignature } from './sigv4'

export interface ChunkSigning { key: Buffer, amzDate: string, scope: string, seed: string }

const MAX_LINE = 4096
const MAX_TRAILER_LINES = 16

function incomplete (why: string): S3Error {
  return new S3Error('IncompleteBody', `aws-chunked body: ${why}`)
}

export class ChunkedDecoder {
  /** Trailing headers (lower-case names), once the body ended. */
  readonly trailers = new Map<string, string>()
  private previous: string

  /** signing: verify chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]); undefined: unsigned chunks. */
  constructor (private readonly signing: ChunkSigning | undefined) {
    this.previous = signing?.seed ?? ''
  }

  async * decode (src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let buf: Buffer = Buffer.alloc(0)
    let state: 'header' | 'data' | 'crlf' | 'trailer' | 'done' = 'header'
    let left = 0
    let claimed = ''
    let hash: crypto.Hash | undefined
    const trailerLines: string[] = []
    let trailerSig: string | undefined
    const line = (): string | undefined => {
      const at = buf.indexOf('\r\n')
      if (at < 0) {
        if (buf.length > MAX_LINE) throw incomplete('line too long')
        return undefined
      }
      if (at > MAX_LINE) throw incomplete('line too long')
      const text = buf.subarray(0, at).toString('latin1')
      buf = buf.subarray(at + 2)
      return text
    }
    for await (const piece of src) {
      buf = buf.length === 0 ? piece : Buffer.concat([buf, piece])
      for (;;) {
        if (state === 'header') {
          const l = line()
          if (l === undefined) break
          const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(l)
          if (m === null) throw incomplete('bad chunk header')
          if (this.signing !== undefined && m[2] === undefined) throw new S3Error('SignatureDoesNotMatch', 'chunk without a signature')
          left = parseInt(m[1], 16)
          claimed = m[2] ?? ''
          hash = this.signing !== undefined ? crypto.createHash('sha256') : undefined
          if (left === 0) {
            this.checkChunk(hash, claimed)
            state = 'trailer'
          } else {
            state = 'data'
          }
        } else if (state === 'data') {
          if (buf.length === 0) break
          const take = Math.min(left, buf.length)
          const data = buf.subarray(0, take)
          buf = buf.subarray(take)
          left -= take
          hash?.update(data)
          if (left === 0) this.checkChunk(hash, claimed)
          yield data
          if (left === 0) state = 'crlf'
        } else if (state === 'crlf') {
          if (buf.length < 2) break
          if (buf[0] !== 0x0d || buf[1] !== 0x0a) throw incomplete('chunk not followed by CRLF')
          buf = buf.subarray(2)
          state = 'header'
        } else if (state === 'trailer') {
          const l = line()
          if (l === undefined) break
          if (l === '') { state = 'done'; break }
          const colon = l.indexOf(':')
          if (colon <= 0 || trailerLines.length >= MAX_TRAILER_LINES) throw incomplete('bad trailer')
          const name = l.slice(0, colon).trim().toLowerCase()
          const value = l.slice(colon + 1).trim()
          if (name === 'x-amz-trailer-signature') trailerSig = value
          else { trailerLines.push(`${name}:${value}\n`); this.trailers.set(name, value) }
        } else {
          break
        }
      }
    }
    if ((state as string) === 'trailer' && buf.length === 0 && trailerLines.length === 0) state = 'done'
    if ((state as string) !== 'done') throw incomplete('body ended early')
    if (this.signing !== undefined && trailerLines.length > 0) {
      const s = this.signing
      if (trailerSig === undefined || !sameSignature(trailerSignature(s.key, s.amzDate, s.scope, this.previous, trailerLines.join('')), trailerSig)) {
        throw new S3Error('SignatureDoesNotMatch', 'the trailer signature does not match')
      }
    }
  }

  private checkChunk (hash: crypto.Hash | undefined, claimed: string): void {
    const s = this.signing
    if (s === undefined || hash === undefined) return
    const expected = chunkSignature(s.key, s.amzDate, s.scope, this.previous, hash.digest('hex'))
    if (!sameSignature(expected, claimed)) throw new S3Error('SignatureDoesNotMatch', 'a chunk signature does not match')
    this.previous = expected
  }
}
