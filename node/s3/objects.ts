/**
 * S3 object operations over ObjectStore: PutObject (streamed into an
 * Upload), GetObject (streamed out with back-pressure, one Range), HeadObject,
 * DeleteObject, DeleteObjects (batch XML) and CopyObject within the site.
 * Content-Type and x-amz-meta-* go into the head's metadata
 * (storage/object-meta.ts) and replicate with the version.
 */
import type http from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { isShardsyncError } from '../../storage/errors'
import { isEmptyMeta, validateObjectMeta, type ObjectMeta } from '../../storage/object-meta'
import type { Upload } from '../../storage/object-store'
import type { ObjectHead } from '../../storage/records'
import { firstHeader } from './auth'
import { drainBody, readSmallBody, requestBody } from './body'
import { etagOf, isoDate } from './buckets'
import { S3Error } from './errors'
import { parseRange, sliceChunks } from './range'
import type { Handler, S3Context } from './server'
import { sendXml } from './server'
import { percentDecode } from './sigv4'
import { MAX_XML_BYTES, parseDeleteRequest, xmlDocument } from './xml'

const DEFAULT_TYPE = 'binary/octet-stream'

/** Content-Type and x-amz-meta-* of a request, checked (InvalidArgument past S3's limits). */
export function metaFromHeaders (headers: http.IncomingHttpHeaders): ObjectMeta | undefined {
  const meta: ObjectMeta = {}
  const type = firstHeader(headers['content-type'])
  if (type !== undefined && type !== '') meta.type = type
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue
    meta.user ??= {}
    meta.user[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value
  }
  return isEmptyMeta(meta) ? undefined : validateObjectMeta(meta)
}

/** Headers of a GET or HEAD answer for a head. */
function objectHeaders (head: ObjectHead): Record<string, string | number> {
  const h: Record<string, string | number> = {
    ETag: etagOf(head),
    'Last-Modified': new Date(head.mtime).toUTCString(),
    'Content-Type': head.meta?.type ?? DEFAULT_TYPE,
    'Accept-Ranges': 'bytes'
  }
  for (const [k, v] of Object.entries(head.meta?.user ?? {})) h[`x-amz-meta-${k}`] = v
  return h
}

/** Streams `data` into an upload and commits it with `meta`; aborts (nothing stored) on any error. */
export async function storeStream (upload: Upload, data: AsyncIterable<Buffer>, meta: ObjectMeta | undefined): Promise<{ etag: string, mtime: number }> {
  try {
    for await (const piece of data) await upload.write(piece)
    const r = await upload.finish(meta)
    return { etag: meta?.etag ?? r.version.etag, mtime: r.version.mtime }
  } catch (err) {
    await upload.abort().catch(() => {})
    throw err
  }
}

/** Reads a head, or NoSuchKey. */
async function liveHead (ctx: S3Context, bucket: string, key: string): Promise<ObjectHead> {
  return await ctx.store.headObject(bucket, key)
}

/** "/bucket/key" or "bucket/key" of x-amz-copy-source (URL-encoded, maybe with ?versionId). */
function copySource (raw: string): { bucket: string, key: string } {
  const noVersion = raw.includes('?') ? raw.slice(0, raw.indexOf('?')) : raw
  const decoded = percentDecode(noVersion)
  if (decoded === undefined) throw new S3Error('InvalidArgument', 'x-amz-copy-source is not valid percent-encoded UTF-8')
  const p = decoded.startsWith('/') ? decoded.slice(1) : decoded
  const slash = p.indexOf('/')
  if (slash <= 0 || slash === p.length - 1) throw new S3Error('InvalidArgument', 'x-amz-copy-source must be /bucket/key')
  return { bucket: p.slice(0, slash), key: p.slice(slash + 1) }
}

export const objectHandlers: Record<'PutObject' | 'CopyObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'DeleteObjects', Handler> = {
  PutObject: async (ctx) => {
    const meta = metaFromHeaders(ctx.req.headers)
    // Bucket and key are checked before a byte of the body is read.
    const upload = ctx.store.beginUpload(ctx.bucket, ctx.key)
    const r = await storeStream(upload, requestBody(ctx.req, ctx.payload), meta)
    ctx.res.writeHead(200, { ETag: `"${r.etag}"`, 'Content-Length': 0 })
    ctx.res.end()
  },

  CopyObject: async (ctx) => {
    await drainBody(ctx.req)
    const src = copySource(String(firstHeader(ctx.req.headers['x-amz-copy-source'])))
    const head = await liveHead(ctx, src.bucket, src.key)
    const directive = firstHeader(ctx.req.headers['x-amz-metadata-directive']) ?? 'COPY'
    if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 'x-amz-metadata-directive must be COPY or REPLACE')
    if (directive === 'COPY' && src.bucket === ctx.bucket && src.key === ctx.key) throw new S3Error('InvalidRequest', 'this copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata')
    let meta: ObjectMeta | undefined
    if (directive === 'REPLACE') {
      meta = metaFromHeaders(ctx.req.headers)
    } else if (head.meta !== undefined) {
      // The copy is one part: its ETag is the MD5 of the content.
      meta = { ...head.meta }
      delete meta.etag
      if (isEmptyMeta(meta)) meta = undefined
    }
    const upload = ctx.store.beginUpload(ctx.bucket, ctx.key)
    const r = await storeStream(upload, ctx.store.readChunks(head), meta)
    sendXml(ctx.res, 200, xmlDocument('CopyObjectResult', { LastModified: isoDate(r.mtime), ETag: `"${r.etag}"` }))
  },

  GetObject: async (ctx) => {
    await drainBody(ctx.req)
    const head = await liveHead(ctx, ctx.bucket, ctx.key)
    const headers = objectHeaders(head)
    for (const [q, h] of [['response-content-type', 'Content-Type'], ['response-content-disposition', 'Content-Disposition'], ['response-cache-control', 'Cache-Control'], ['response-content-encoding', 'Content-Encoding'], ['response-content-language', 'Content-Language'], ['response-expires', 'Expires']]) {
      const v = ctx.query.get(q)
      if (v !== undefined) headers[h] = v
    }
    const range = parseRange(firstHeader(ctx.req.headers.range), head.size)
    if (range.kind === 'unsatisfiable') throw new S3Error('InvalidRange', 'the requested range is not satisfiable', { ActualObjectSize: String(head.size) })
    let chunks: AsyncIterable<Buffer> = ctx.store.readChunks(head)
    if (range.kind === 'part') {
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${head.size}`
      headers['Content-Length'] = range.end - range.start + 1
      // A file is read from the range's first byte; chunks are sliced.
      chunks = head.blob === true && head.dataId !== undefined ? ctx.store.blobs.read(head.dataId, range.end + 1, 0, range.start) : sliceChunks(chunks, range.start, range.end)
      ctx.res.writeHead(206, headers)
    } else {
      headers['Content-Length'] = head.size
      ctx.res.writeHead(200, headers)
    }
    // Back-pressure both ways: the next piece is read once the socket took the last.
    await pipeline(Readable.from(chunks, { objectMode: false }), ctx.res)
  },

  HeadObject: async (ctx) => {
    await drainBody(ctx.req)
    const head = await liveHead(ctx, ctx.bucket, ctx.key)
    const headers = objectHeaders(head)
    const range = parseRange(firstHeader(ctx.req.headers.range), head.size)
    if (range.kind === 'part') {
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${head.size}`
      headers['Content-Length'] = range.end - range.start + 1
      ctx.res.writeHead(206, headers)
    } else {
      headers['Content-Length'] = head.size
      ctx.res.writeHead(200, headers)
    }
    ctx.res.end()
  },

  DeleteObject: async (ctx) => {
    await drainBody(ctx.req)
    try {
      await ctx.store.deleteObject(ctx.bucket, ctx.key)
    } catch (err) {
      // S3 answers 204 for a key that is not there.
      if (!isShardsyncError(err, 'OBJECT_NOT_FOUND')) throw err
    }
    ctx.res.writeHead(204)
    ctx.res.end()
  },

  DeleteObjects: async (ctx) => {
    const { keys, quiet } = parseDeleteRequest((await readSmallBody(ctx.req, ctx.payload, MAX_XML_BYTES)).toString('utf8'))
    ctx.store.bucketState(ctx.bucket)
    const deleted: Array<{ Key: string }> = []
    const errors: Array<{ Key: string, Code: string, Message: string }> = []
    await Promise.all(keys.map(async (key) => {
      try {
        await ctx.store.deleteObject(ctx.bucket, key)
        deleted.push({ Key: key })
      } catch (err) {
        if (isShardsyncError(err, 'OBJECT_NOT_FOUND')) { deleted.push({ Key: key }); return }
        const code = isShardsyncError(err, 'INVALID_KEY') ? 'InvalidArgument' : 'InternalError'
        errors.push({ Key: key, Code: code, Message: code === 'InternalError' ? 'internal error' : (err as Error).message })
      }
    }))
    const order = new Map(keys.map((k, i) => [k, i]))
    const byKey = (a: { Key: string }, b: { Key: string }): number => (order.get(a.Key) ?? 0) - (order.get(b.Key) ?? 0)
    sendXml(ctx.res, 200, xmlDocument('DeleteResult', { Deleted: quiet ? [] : deleted.sort(byKey), Error: errors.sort(byKey) }))
  }
}
