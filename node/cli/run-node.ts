/**
 * Runs one node process: opens the node, serves it, and shuts it down in
 * order on SIGTERM/SIGINT (stop taking calls, drain for a bounded time,
 * stop sync, close LevelDB last). Called by `shardsync node`.
 */
import fs from 'node:fs'
import pino, { type Logger } from 'pino'
import { ShardsyncError } from '../../storage/errors'
import type { NodeOptions } from '../config'
import { GrpcSourceClient } from '../rpc/grpc-source-client'
import { startServer, type RunningServer } from '../rpc/server'
import { NodeMetrics, serveMetrics } from '../metrics'
import { readCredentialsFile } from '../rpc/credentials'
import { authenticator, channelCredentials, loadSecurity, peerAuthMetadata, serverCredentials } from '../rpc/security'
import { ShardsyncNode } from '../shardsync-node'
import { startS3Server, type RunningS3 } from '../s3/server'
import { DEV_S3_KEY } from '../rpc/credentials'
import { leveldbPatches, leveldbTableReads } from '../../storage/database'

/** JSON lines, or pretty output when stdout is a terminal. Secrets are redacted. */
export function createLogger (level: string): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, redact: ['authorization', '*.authorization', 'token', '*.token', 'authToken', '*.authToken'] }
  if (process.stdout.isTTY === true) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } })
  return pino(options)
}

/** The /metrics token from its file (trimmed); at least 8 characters, no white space. */
function readMetricsToken (file: string | undefined): string | undefined {
  if (file === undefined) return undefined
  let token: string
  try {
    token = fs.readFileSync(file, 'utf8').trim()
  } catch (err) {
    throw ShardsyncError.invalidArgument(`--metrics-token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`)
  }
  if (token.length < 8 || token.length > 4096 || /\s/.test(token)) throw ShardsyncError.invalidArgument('the metrics token must be 8-4096 characters without white space')
  return token
}

export async function runNode (options: NodeOptions, log: Logger = createLogger(options.logLevel)): Promise<{ node: ShardsyncNode, server: RunningServer, stop: () => Promise<void> }> {
  const nodeLog = log.child({ site: options.siteId })
  const security = loadSecurity(options)
  const auth = authenticator(security)
  const node = await ShardsyncNode.open(options, {
    log: nodeLog,
    connectPeer: (peer) => new GrpcSourceClient(peer, {
      localSite: options.siteId,
      deadlineMs: options.peerDeadlineMs,
      credentials: channelCredentials(security),
      metadata: peerAuthMetadata(security)
    })
  })
  const metrics = new NodeMetrics(node)
  let server: RunningServer
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined
  let s3: RunningS3 | undefined
  try {
    await node.start()
    server = await startServer(node, {
      listen: options.listen,
      log: nodeLog,
      observe: (m, c, s) => metrics.observeRpc(m, c, s),
      credentials: serverCredentials(security),
      auth,
      maxMessageBytes: options.maxMessageBytes,
      maxConcurrentStreams: options.maxConcurrentStreams,
      maxInflight: options.maxInflight,
      maxShards: options.maxShards,
      onStreamReset: (p) => metrics.observeStreamReset(p.slice(p.lastIndexOf('/') + 1)),
      streams: { idleMs: options.streamIdleMs, minBytesPerSec: options.streamMinBytesPerSec },
      shares: { maxInflightPerClient: options.maxInflightPerClient, maxBufferedBytes: options.maxBufferedBytes, maxBufferedBytesPerClient: options.maxBufferedBytesPerClient }
    })
    if (options.metrics !== undefined) metricsServer = await serveMetrics(metrics, options.metrics, { token: readMetricsToken(options.metricsTokenFile) })
    if (options.s3 !== undefined) s3 = await startS3Server(node, { listen: options.s3, region: options.s3Region, auth, log: nodeLog, uploadExpiryMs: options.s3UploadExpirySec * 1000, maxInflight: options.maxInflight })
  } catch (err) {
    await metricsServer?.close()
    await node.close()
    throw err
  }
  const tableReads = leveldbTableReads()
  if (tableReads === 'mmap') nodeLog.warn('LevelDB memory-maps its table files (prebuilt binary, or LEVELDB_MMAP_LIMIT set): pages read stay in this process\'s RSS; see README, Install: which LevelDB (npm run build-leveldb)')
  // The "listening" line is printed at any --log-level: scripts wait for it.
  nodeLog.child({}, { level: 'info' }).info({ address: server.address, leveldbTableReads: tableReads, leveldbPatches: leveldbPatches() ?? 'stock', metrics: metricsServer?.address, s3: s3?.address, tls: security.cert !== undefined, mutualTls: security.ca !== undefined, auth: auth.summary(), peerToken: security.peerToken !== undefined || (auth.mode === 'shared'), data: options.dataDir, peers: options.peers.map(p => p.id), syncMode: options.syncMode }, 'listening')
  if (auth.mode === 'shared') nodeLog.warn('deprecated shared token: every holder has every role (client, peer and admin) and peer calls are not bound to a site; use --credentials (see README, Security)')
  if (auth.mode === 'credentials' && security.peerToken === undefined && security.cert === undefined) nodeLog.warn('no --peer-token-file and no certificate: peers that require credentials will refuse this node\'s sync calls')
  if (auth.mode === 'open') nodeLog.info('no credentials configured: every caller has every role; serving loopback only unless --insecure-open')
  // The development key is public (README, docs/s3.md): printed so that a first run can be used at once.
  if (s3 !== undefined) nodeLog.child({}, { level: 'info' }).info({ endpoint: `http://${s3.address}`, region: options.s3Region, ...(auth.mode === 'open' ? { accessKey: DEV_S3_KEY.accessKey, secretKey: DEV_S3_KEY.secret, credentials: 'development key (no --credentials)' } : { credentials: 'the "s3" keys of --credentials' }) }, 's3 listening')
  // SIGHUP re-reads the credentials file (rotation without a restart); a bad file keeps the old one.
  const reload = (): void => {
    if (options.credentialsFile === undefined) return
    try {
      auth.replace(readCredentialsFile(options.credentialsFile))
      nodeLog.info({ auth: auth.summary() }, 'credentials reloaded')
    } catch (err) {
      nodeLog.error({ code: (err as { code?: string }).code, reason: (err as Error).message, kept: 'the previous credentials' }, 'credentials not reloaded')
    }
  }
  process.on('SIGHUP', reload)
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGHUP', reload)
      nodeLog.info('shutting down')
      await s3?.close()
      await server.shutdown(options.shutdownGraceMs)
      await metricsServer?.close()
      await node.close()
      nodeLog.info('stopped')
    })()
    await stopping
  }
  return { node, server, stop }
}
