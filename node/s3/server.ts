/**
 * The S3-compatible HTTP front door of a node (--s3 HOST:PORT), beside the
 * gRPC server and over the same ShardsyncNode: what is written here is
 * stored, logged and replicated exactly as a gRPC PutObject is.
 *
 * Started by node/cli/run-node.ts (and tests); owns the http.Server, the
 * multipart store and its expiry timer. Per request: parse the path-style
 * address, authenticate (node/s3/auth.ts, before any body byte is read),
 * check the role against node/rpc/method-roles.ts, route (router.ts) and run
 * one handler (buckets.ts, objects.ts, multipart.ts). Every error is an S3
 * XML error document (errors.ts); an error that is not ours is logged and
 * answered InternalError with no detail.
 */
import crypto from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { MultipartStore } from '../../storage/multipart-store'
import type { ObjectStore } from '../../storage/object-store'
import type { Authenticator } from '../rpc/credentials'
import { rolesFor } from '../rpc/method-roles'
import type { ShardsyncNode } from '../shardsync-node'
import { parseHostPort } from '../config'
import { authenticate, type Payload, type S3Caller } from './auth'
import { bucketHandlers } from './buckets'
import { S3Error, toS3Error } from './errors'
import { multipartHandlers } from './multipart'
import { objectHandlers } from './objects'
import { route, ROLE_METHOD, splitPath, type S3Op } from './router'
import { parseQuery, percentDecode } from './sigv4'
import { errorDocument } from './xml'

export interface S3Options {
  listen: string
  region: string
  auth: Authenticator
  log: Logger
  /** Multipart uploads not completed within this are dropped (ms). */
  uploadExpiryMs: number
  /** Least size of every part but the last (S3: 5 MiB). */
  minPartBytes?: number
  /** Requests served at once before SlowDown (the node's --max-inflight). */
  maxInflight?: number
}

export interface S3Context {
  node: ShardsyncNode
  store: ObjectStore
  multipart: MultipartStore
  options: S3Options
  req: http.IncomingMessage
  res: http.ServerResponse
  bucket: string
  key: string
  query: Map<string, string>
  payload: Payload
  caller: S3Caller
  requestId: string
}

export type Handler = (ctx: S3Context) => Promise<void>

const HANDLERS: Readonly<Record<S3Op, Handler>> = Object.freeze({ ...bucketHandlers, ...objectHandlers, ...multipartHandlers })

export interface RunningS3 {
  address: string
  multipart: MultipartStore
  /** Drops expired multipart uploads now; returns how many. */
  expireUploads: () => Promise<number>
  close: () => Promise<void>
}

export async function startS3Server (node: ShardsyncNode, options: S3Options): Promise<RunningS3> {
  const { host, port } = parseHostPort(options.listen, '--s3')
  const multipart = new MultipartStore(node.store.db, node.store.blobs)
  const log = options.log.child({ component: 's3' })
  let inflight = 0
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => {
    if (inflight >= (options.maxInflight ?? Infinity)) {
      sendError(req, res, new S3Error('SlowDown', 'please reduce your request rate'), req.url ?? '/', 'SHED', log)
      return
    }
    inflight++
    res.once('close', () => { inflight-- })
    void serve(node, multipart, options, log, req, res)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => { server.off('error', reject); resolve() })
  })
  const a = server.address() as AddressInfo
  const address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
  const expireUploads = async (): Promise<number> => await multipart.dropExpired(Date.now() - options.uploadExpiryMs, (id) => node.store.getBucketById(id) !== undefined)
  const every = Math.max(1000, Math.min(options.uploadExpiryMs / 4, 10 * 60 * 1000))
  const timer = setInterval(() => {
    expireUploads().then((n) => { if (n > 0) log.info({ dropped: n }, 'expired multipart uploads dropped') }, (err) => log.warn({ err: (err as Error).message }, 'could not drop expired multipart uploads'))
  }, every)
  timer.unref()
  return {
    address,
    multipart,
    expireUploads,
    close: async () => {
      clearInterval(timer)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        setTimeout(() => server.closeAllConnections(), 2000).unref()
      })
    }
  }
}

async function serve (node: ShardsyncNode, multipart: MultipartStore, options: S3Options, log: Logger, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const requestId = crypto.randomBytes(8).toString('hex').toUpperCase()
  res.setHeader('x-amz-request-id', requestId)
  res.setHeader('Server', 'shardsync')
  const url = req.url ?? '/'
  const qAt = url.indexOf('?')
  const rawPath = qAt < 0 ? url : url.slice(0, qAt)
  let resource = rawPath
  try {
    const path = percentDecode(rawPath)
    const queryPairs = parseQuery(qAt < 0 ? '' : url.slice(qAt + 1))
    if (path === undefined || queryPairs === undefined) throw new S3Error('InvalidArgument', 'the request path or query is not valid percent-encoded UTF-8')
    resource = path
    const method = req.method ?? 'GET'
    const auth = authenticate({ method, path, query: queryPairs, headers: req.headers }, { region: options.region, lookup: (k) => options.auth.s3Key(k) })
    const { bucket, key } = splitPath(path)
    const query = new Map(queryPairs)
    const r = route(method, bucket, key, query, req.headers)
    if ('error' in r) throw new S3Error(r.error, `${r.what} is not supported`)
    if (!rolesFor(ROLE_METHOD[r.op]).includes(auth.caller.role)) throw new S3Error('AccessDenied', `the role ${auth.caller.role} of ${auth.caller.identity} may not call ${r.op}`)
    log.debug({ op: r.op, bucket, key, payload: auth.payload.kind, chunkSigned: auth.payload.kind === 'chunked' ? auth.payload.signing !== undefined : undefined, identity: auth.caller.identity }, 's3 request')
    await HANDLERS[r.op]({ node, store: node.store, multipart, options, req, res, bucket, key, query, payload: auth.payload, caller: auth.caller, requestId })
  } catch (err) {
    sendError(req, res, err, resource, requestId, log)
  }
}

function sendError (req: http.IncomingMessage, res: http.ServerResponse, err: unknown, resource: string, requestId: string, log: Logger): void {
  if (res.headersSent) {
    // Too late for an error document (the client went away, or a read
    // failed mid-body): cut the connection, so the client sees a short body.
    log.debug({ err: (err as Error)?.message, method: req.method, resource }, 'S3 answer cut short')
    res.destroy()
    return
  }
  let e = toS3Error(err)
  if (e === undefined) {
    log.error({ err, method: req.method, resource }, 'S3 request failed')
    e = new S3Error('InternalError', 'we encountered an internal error; please try again')
  } else if (e.status >= 500) {
    log.warn({ code: e.code, reason: e.message, method: req.method, resource }, 'S3 request failed')
  }
  const body = req.method === 'HEAD' ? '' : errorDocument(e.code, e.message, resource, requestId, e.extra)
  res.writeHead(e.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
  // The rest of a refused body is read and dropped, so the connection stays usable.
  if (!req.complete) req.resume()
}

/** Sends an XML answer. */
export function sendXml (res: http.ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml), ...headers })
  res.end(xml)
}
