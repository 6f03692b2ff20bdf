/**
 * S3 bucket operations over ObjectStore: ListBuckets, CreateBucket,
 * HeadBucket, DeleteBucket, GetBucketLocation/Versioning, and the listings
 * (ListObjectsV2, ListObjects v1) through node/s3/listing.ts.
 */
import type { ListedObject } from '../../storage/object-store'
import { drainBody, readSmallBody } from './body'
import { S3Error } from './errors'
import { listPage, pastPrefix, type ListPage, type PageSource } from './listing'
import type { Handler, S3Context } from './server'
import { sendXml } from './server'
import { uriEncode } from './sigv4'
import { xmlDocument } from './xml'

const OWNER = { ID: 'shardsync', DisplayName: 'shardsync' }

export function isoDate (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '.000Z')
}

/** The ETag S3 reports for a version: the multipart form where the metadata has one, else the MD5. */
export function etagOf (o: { etag: string, meta?: { etag?: string } }): string {
  return `"${o.meta?.etag ?? o.etag}"`
}

function source (ctx: S3Context, prefix: string): PageSource {
  return async (after, limit) => await ctx.store.listObjects(ctx.bucket, { prefix, startAfter: after, limit })
}

function maxKeysOf (q: Map<string, string>, name: string): number {
  const raw = q.get(name)
  if (raw === undefined) return 1000
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) throw new S3Error('InvalidArgument', `${name} must be a non-negative integer`)
  return Math.min(n, 1000)
}

function encodingOf (q: Map<string, string>): ((s: string) => string) {
  const e = q.get('encoding-type')
  if (e === undefined) return (s) => s
  if (e !== 'url') throw new S3Error('InvalidArgument', 'encoding-type must be url')
  return (s) => uriEncode(s, false)
}

function contentsXml (objects: ListedObject[], enc: (s: string) => string): Array<Record<string, unknown>> {
  return objects.map(o => ({ Key: enc(o.key), LastModified: isoDate(o.mtime), ETag: etagOf(o), Size: o.size, StorageClass: 'STANDARD' }))
}

function tokenOf (after: string): string {
  return Buffer.from(after, 'utf8').toString('base64url')
}

function fromToken (token: string): string {
  const after = Buffer.from(token, 'base64url').toString('utf8')
  if (tokenOf(after) !== token) throw new S3Error('InvalidArgument', 'the continuation token provided is incorrect')
  return after
}

/** The parameters both listings share, and one page from the resume point `after` gives. */
async function listing (ctx: S3Context, after: (q: Map<string, string>) => string): Promise<{ prefix: string, delimiter: string, maxKeys: number, enc: (s: string) => string, page: ListPage }> {
  await drainBody(ctx.req)
  const q = ctx.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') ?? ''
  const maxKeys = maxKeysOf(q, 'max-keys')
  const enc = encodingOf(q)
  const from = after(q)
  ctx.store.bucketState(ctx.bucket)
  return { prefix, delimiter, maxKeys, enc, page: await listPage(source(ctx, prefix), { prefix, delimiter, maxKeys, after: from }) }
}

export const bucketHandlers: Record<'ListBuckets' | 'CreateBucket' | 'HeadBucket' | 'DeleteBucket' | 'GetBucketLocation' | 'GetBucketVersioning' | 'ListObjects' | 'ListObjectsV2', Handler> = {
  ListBuckets: async (ctx) => {
    await drainBody(ctx.req)
    const buckets = ctx.store.listBuckets().map(b => ({ Name: b.name, CreationDate: isoDate(b.gen?.createdMs ?? b.createdMs) }))
    sendXml(ctx.res, 200, xmlDocument('ListAllMyBucketsResult', { Owner: OWNER, Buckets: { Bucket: buckets } }))
  },

  CreateBucket: async (ctx) => {
    // The body may name a LocationConstraint; this node has one region.
    await readSmallBody(ctx.req, ctx.payload, 64 * 1024)
    if (ctx.store.getBucket(ctx.bucket) !== undefined) throw new S3Error('BucketAlreadyOwnedByYou', 'your previous request to create the named bucket succeeded and you already own it')
    await ctx.store.createBucket({ name: ctx.bucket })
    ctx.res.writeHead(200, { Location: `/${ctx.bucket}`, 'Content-Length': 0 })
    ctx.res.end()
  },

  HeadBucket: async (ctx) => {
    await drainBody(ctx.req)
    ctx.store.bucketState(ctx.bucket)
    ctx.res.writeHead(200, { 'x-amz-bucket-region': ctx.options.region, 'Content-Length': 0 })
    ctx.res.end()
  },

  DeleteBucket: async (ctx) => {
    await drainBody(ctx.req)
    await ctx.store.deleteBucket(ctx.bucket)
    ctx.res.writeHead(204)
    ctx.res.end()
  },

  GetBucketLocation: async (ctx) => {
    await drainBody(ctx.req)
    ctx.store.bucketState(ctx.bucket)
    const region = ctx.options.region === 'us-east-1' ? '' : ctx.options.region
    sendXml(ctx.res, 200, xmlDocument('LocationConstraint', region === '' ? {} : { '#text': region }))
  },

  GetBucketVersioning: async (ctx) => {
    await drainBody(ctx.req)
    ctx.store.bucketState(ctx.bucket)
    sendXml(ctx.res, 200, xmlDocument('VersioningConfiguration', {}))
  },

  ListObjectsV2: async (ctx) => {
    const q = ctx.query
    const token = q.get('continuation-token')
    const startAfter = q.get('start-after') ?? ''
    const { prefix, delimiter, maxKeys, enc, page } = await listing(ctx, () => token !== undefined ? fromToken(token) : startAfter)
    const body: Record<string, unknown> = { Name: ctx.bucket, Prefix: enc(prefix) }
    if (delimiter !== '') body.Delimiter = enc(delimiter)
    body.MaxKeys = maxKeys
    body.KeyCount = page.contents.length + page.prefixes.length
    body.IsTruncated = page.truncated
    if (token !== undefined) body.ContinuationToken = token
    if (page.truncated) body.NextContinuationToken = tokenOf(page.nextAfter)
    if (startAfter !== '') body.StartAfter = enc(startAfter)
    if (q.has('encoding-type')) body.EncodingType = 'url'
    body.Contents = contentsXml(page.contents, enc)
    body.CommonPrefixes = page.prefixes.map(p => ({ Prefix: enc(p) }))
    sendXml(ctx.res, 200, xmlDocument('ListBucketResult', body))
  },

  ListObjects: async (ctx) => {
    const q = ctx.query
    const marker = q.get('marker') ?? ''
    const { prefix, delimiter, maxKeys, enc, page } = await listing(ctx, () => marker)
    const body: Record<string, unknown> = { Name: ctx.bucket, Prefix: enc(prefix), Marker: enc(marker) }
    if (page.truncated && delimiter !== '') body.NextMarker = enc(page.lastReturned)
    body.MaxKeys = maxKeys
    if (delimiter !== '') body.Delimiter = enc(delimiter)
    body.IsTruncated = page.truncated
    if (q.has('encoding-type')) body.EncodingType = 'url'
    body.Contents = contentsXml(page.contents, enc)
    body.CommonPrefixes = page.prefixes.map(p => ({ Prefix: enc(p) }))
    sendXml(ctx.res, 200, xmlDocument('ListBucketResult', body))
  }
}

export { pastPrefix }
