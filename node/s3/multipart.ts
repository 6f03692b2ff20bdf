/**
 * S3 multipart uploads over storage/multipart-store.ts: Create, UploadPart
 * (streamed to a part file), Complete (the parts streamed, in order, into an
 * ordinary upload that commits and replicates like PutObject; ETag
 * "md5-of-part-md5s-N" kept in the metadata), Abort, ListParts,
 * ListMultipartUploads. Uploads left unfinished are dropped after
 * --s3-upload-expiry-s (server.ts runs the sweep).
 */
import crypto from 'node:crypto'
import { isEmptyMeta, type ObjectMeta } from '../../storage/object-meta'
import type { MultipartUpload, PartRecord } from '../../storage/multipart-store'
import { validateObjectKey } from '../../storage/validate'
import { drainBody, readSmallBody, requestBody } from './body'
import { isoDate } from './buckets'
import { S3Error, toS3Error } from './errors'
import { metaFromHeaders, storeStream } from './objects'
import type { Handler, S3Context } from './server'
import { sendXml } from './server'
import { errorDocument, MAX_XML_BYTES, parseCompleteRequest, xmlDocument } from './xml'

export const MIN_PART_BYTES = 5 * 1024 * 1024
const OWNER = { ID: 'shardsync', DisplayName: 'shardsync' }

/** The upload named by ?uploadId, of this bucket and key; NoSuchUpload otherwise. */
async function uploadOf (ctx: S3Context): Promise<MultipartUpload> {
  const state = ctx.store.bucketState(ctx.bucket)
  const u = await ctx.multipart.get(ctx.query.get('uploadId') ?? '')
  if (u === undefined || u.bucketId !== state.record.id || u.key !== ctx.key) throw new S3Error('NoSuchUpload', 'the specified upload does not exist: it may have been aborted or completed')
  return u
}

function partNumberOf (ctx: S3Context): number {
  const raw = ctx.query.get('partNumber') ?? ''
  const n = Number(raw)
  if (!/^\d{1,5}$/.test(raw) || n < 1 || n > 10000) throw new S3Error('InvalidArgument', 'part number must be an integer between 1 and 10000, inclusive')
  return n
}

/** The S3 ETag of a multipart object: MD5 of the parts' binary MD5s, then "-N". */
export function multipartEtag (partEtags: string[]): string {
  const h = crypto.createHash('md5')
  for (const e of partEtags) h.update(Buffer.from(e, 'hex'))
  return `${h.digest('hex')}-${partEtags.length}`
}

/** Checks a CompleteMultipartUpload list against the stored parts; returns them in order. */
export function choosePart (listed: Array<{ partNumber: number, etag: string }>, stored: PartRecord[], minPartBytes: number): PartRecord[] {
  const byNumber = new Map(stored.map(p => [p.part, p]))
  const out: PartRecord[] = []
  for (let i = 0; i < listed.length; i++) {
    const l = listed[i]
    if (i > 0 && l.partNumber <= listed[i - 1].partNumber) throw new S3Error('InvalidPartOrder', 'the list of parts was not in ascending order: parts must be ordered by part number')
    const p = byNumber.get(l.partNumber)
    if (p === undefined || p.etag !== l.etag.toLowerCase()) throw new S3Error('InvalidPart', `part ${l.partNumber} was not found, or its ETag does not match`)
    out.push(p)
  }
  for (let i = 0; i < out.length - 1; i++) {
    if (out[i].size < minPartBytes) throw new S3Error('EntityTooSmall', `part ${out[i].part} is smaller than the minimum allowed size (${minPartBytes} bytes)`)
  }
  return out
}

const completing = new Set<string>()

export const multipartHandlers: Record<'CreateMultipartUpload' | 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload' | 'AbortMultipartUpload' | 'ListParts' | 'ListMultipartUploads', Handler> = {
  CreateMultipartUpload: async (ctx) => {
    await drainBody(ctx.req)
    const state = ctx.store.bucketState(ctx.bucket)
    validateObjectKey(ctx.key)
    const u = await ctx.multipart.create(state.record.id, ctx.key, metaFromHeaders(ctx.req.headers))
    sendXml(ctx.res, 200, xmlDocument('InitiateMultipartUploadResult', { Bucket: ctx.bucket, Key: ctx.key, UploadId: u.uploadId }))
  },

  UploadPart: async (ctx) => {
    const part = partNumberOf(ctx)
    const u = await uploadOf(ctx)
    const max = ctx.store.options.maxObjectBytes
    const r = await ctx.multipart.putPart(u.uploadId, part, requestBody(ctx.req, ctx.payload), max)
    ctx.res.writeHead(200, { ETag: `"${r.etag}"`, 'Content-Length': 0 })
    ctx.res.end()
  },

  UploadPartCopy: async () => {
    throw new S3Error('NotImplemented', 'UploadPartCopy is not supported')
  },

  CompleteMultipartUpload: async (ctx) => {
    const listed = parseCompleteRequest((await readSmallBody(ctx.req, ctx.payload, MAX_XML_BYTES)).toString('utf8'))
    const u = await uploadOf(ctx)
    if (completing.has(u.uploadId)) throw new S3Error('NoSuchUpload', 'the upload is being completed by another request')
    completing.add(u.uploadId)
    try {
      const parts = choosePart(listed, await ctx.multipart.parts(u.uploadId), ctx.options.minPartBytes ?? MIN_PART_BYTES)
      const etag = multipartEtag(parts.map(p => p.etag))
      const meta: ObjectMeta = { ...(u.meta ?? {}), etag }
      const multipart = ctx.multipart
      async function * content (): AsyncGenerator<Buffer> {
        for (const p of parts) yield * multipart.read(p)
      }
      const upload = ctx.store.beginUpload(ctx.bucket, ctx.key)
      // Headers go out now and white space follows while parts are copied
      // (S3 does the same), so that clients do not time out on large objects.
      ctx.res.writeHead(200, { 'Content-Type': 'application/xml' })
      const keepAlive = setInterval(() => ctx.res.write(' '), 10_000)
      let r
      try {
        r = await storeStream(upload, content(), isEmptyMeta(meta) ? undefined : meta)
      } catch (err) {
        // The 200 is out: the error goes in the body, as S3 does (clients look for <Error>).
        clearInterval(keepAlive)
        const e = toS3Error(err) ?? new S3Error('InternalError', 'we encountered an internal error; please try again')
        ctx.res.end(errorDocument(e.code, e.message, `/${ctx.bucket}/${ctx.key}`, ctx.requestId))
        return
      }
      clearInterval(keepAlive)
      await ctx.multipart.drop(u.uploadId)
      ctx.res.end(xmlDocument('CompleteMultipartUploadResult', { Location: `/${ctx.bucket}/${ctx.key}`, Bucket: ctx.bucket, Key: ctx.key, ETag: `"${r.etag}"` }))
    } finally {
      completing.delete(u.uploadId)
    }
  },

  AbortMultipartUpload: async (ctx) => {
    await drainBody(ctx.req)
    const u = await uploadOf(ctx)
    await ctx.multipart.drop(u.uploadId)
    ctx.res.writeHead(204)
    ctx.res.end()
  },

  ListParts: async (ctx) => {
    await drainBody(ctx.req)
    const u = await uploadOf(ctx)
    const marker = Number(ctx.query.get('part-number-marker') ?? '0')
    const max = Math.min(Number(ctx.query.get('max-parts') ?? '1000'), 1000)
    if (!Number.isInteger(marker) || marker < 0 || !Number.isInteger(max) || max < 0) throw new S3Error('InvalidArgument', 'part-number-marker and max-parts must be non-negative integers')
    const all = (await ctx.multipart.parts(u.uploadId)).filter(p => p.part > marker)
    const page = all.slice(0, max)
    const truncated = all.length > page.length
    sendXml(ctx.res, 200, xmlDocument('ListPartsResult', {
      Bucket: ctx.bucket,
      Key: ctx.key,
      UploadId: u.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: 'STANDARD',
      PartNumberMarker: marker,
      ...(truncated ? { NextPartNumberMarker: page[page.length - 1].part } : {}),
      MaxParts: max,
      IsTruncated: truncated,
      Part: page.map(p => ({ PartNumber: p.part, LastModified: isoDate(p.mtime), ETag: `"${p.etag}"`, Size: p.size }))
    }))
  },

  ListMultipartUploads: async (ctx) => {
    await drainBody(ctx.req)
    const state = ctx.store.bucketState(ctx.bucket)
    const prefix = ctx.query.get('prefix') ?? ''
    const keyMarker = ctx.query.get('key-marker') ?? ''
    const idMarker = ctx.query.get('upload-id-marker') ?? ''
    const max = Math.min(Number(ctx.query.get('max-uploads') ?? '1000'), 1000)
    if (!Number.isInteger(max) || max < 0) throw new S3Error('InvalidArgument', 'max-uploads must be a non-negative integer')
    const all = (await ctx.multipart.listAll())
      .filter(u => u.bucketId === state.record.id && u.key.startsWith(prefix))
      .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiatedMs - b.initiatedMs)
      .filter(u => u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker))
    const page = all.slice(0, max)
    const truncated = all.length > page.length
    const last = page[page.length - 1]
    sendXml(ctx.res, 200, xmlDocument('ListMultipartUploadsResult', {
      Bucket: ctx.bucket,
      KeyMarker: keyMarker,
      UploadIdMarker: idMarker,
      ...(truncated ? { NextKeyMarker: last.key, NextUploadIdMarker: last.uploadId } : {}),
      Prefix: prefix,
      MaxUploads: max,
      IsTruncated: truncated,
      Upload: page.map(u => ({ Key: u.key, UploadId: u.uploadId, Initiator: OWNER, Owner: OWNER, StorageClass: 'STANDARD', Initiated: isoDate(u.initiatedMs) }))
    }))
  }
}
