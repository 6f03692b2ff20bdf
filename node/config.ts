/**
 * Node options: defaults, and validation done once at start-up (CLI flags,
 * environment, and programmatic use all come through resolveNodeOptions).
 */
import { excerpt, ShardsyncError } from '../storage/errors'
import { validateSiteId } from '../storage/validate'

export type SyncMode = 'split-aware' | 'related-art'

/** How full sync reads a source shard: one StreamShard stream (the default), or ListIndex pages + FetchObjects (kept for one release; docs/performance.md compares them). */
export type FullSyncPath = 'stream' | 'list'
export const FULL_SYNC_PATHS: readonly FullSyncPath[] = ['stream', 'list']

export interface PeerAddress { id: string, address: string }

export interface NodeOptions {
  siteId: string
  listen: string
  dataDir: string
  peers: PeerAddress[]
  /** Bucket defaults. */
  initialShards: number
  splitThreshold: number
  autoSplit: boolean
  maxObjectBytes: number
  /** Full-sync throttle for operators and tests (objects/s, 0 = none). */
  syncRate: number
  /**
   * 'related-art' is the plain per-shard sync of the related art, with no
   * split handling and no notices. It exists only for the negative-control
   * test and must never be used in production.
   */
  syncMode: SyncMode
  /**
   * --full-sync-path: 'stream' reads each source shard over one StreamShard
   * call (a source without it is read listed, automatically); 'list' always
   * pages ListIndex and fetches with FetchObjects (node/sync/shard-sync.ts).
   */
  fullSyncPath: FullSyncPath
  /** Testing fault switch: never send split notices (outbox kept). */
  dropNotices: boolean
  /** Testing fault switch: pause after each split migration page (ms). */
  splitPauseMs: number
  /** How often a target re-checks its peers' buckets and shards (ms). */
  syncIntervalMs: number
  /** Deadline of unary calls to peers (ms). */
  peerDeadlineMs: number
  /** Bounded drain of in-flight calls on shutdown (ms). */
  shutdownGraceMs: number
  logLevel: string
  /** HOST:PORT for Prometheus /metrics; undefined = off. */
  metrics?: string
  /**
   * Deprecated shared bearer token (every holder has every role), used only
   * without credentialsFile; undefined = off. Never logged.
   */
  authToken?: string
  /** JSON file of the tokens and certificate identities allowed in, each with an identity and a role (node/rpc/credentials.ts). */
  credentialsFile?: string
  /** The token this node presents when it dials a peer. Never logged. */
  peerToken?: string
  /** Serve a non-loopback address with no credentials at all (every caller has every role). */
  insecureOpen: boolean
  /** PEM files: TLS certificate and key; with a CA, client certificates are required (mutual TLS). */
  tlsCert?: string
  tlsKey?: string
  tlsCa?: string
  /** Largest gRPC message, in and out. */
  maxMessageBytes: number
  /** Concurrent streams per client connection (HTTP/2). */
  maxConcurrentStreams: number
  /** Calls in flight at once before the node sheds load with RESOURCE_EXHAUSTED. */
  maxInflight: number
  /**
   * Source shards of one bucket fully synced at once, per peer. More keeps
   * both nodes busier (full sync of 100,000 x 1 KiB: 16.7k obj/s at 4,
   * 18.7-19.6k at 8) for more target memory in flight (peak RSS +30-50 MiB
   * at 8); the data fetched but not committed stays bounded per peer.
   */
  syncShardConcurrency: number
  /** LevelDB table files kept open (and memory-mapped); bounds file-backed RSS. */
  dbMaxOpenFiles: number
  /** LevelDB block cache, MiB. */
  dbCacheMiB: number
  /**
   * V8 heap growing factor, percent over the live heap (--heap-growing-percent),
   * set by the node CLI for its process; 0 leaves V8 its own (up to 4x).
   * Widened to 300 while large objects move (node/gc-pacing.ts).
   */
  heapGrowthPercent: number
  // ---- abuse limits (issue 27) ----
  /** Most shards per bucket, splits included (CreateBucket and splits honour it). */
  maxShards: number
  /** At most this many splits of one bucket begin per splitRateIntervalMs. */
  splitRateLimit: number
  splitRateIntervalMs: number
  /** File holding the bearer token /metrics requires; undefined = /metrics is open (the default). */
  metricsTokenFile?: string
  /** A stream waiting this long for its client (a message in, a read out) ends: DEADLINE_EXCEEDED / STREAM_IDLE. */
  streamIdleMs: number
  /** Over each --stream-idle-ms of waiting for its client a stream must move this many bytes per second: else STREAM_TOO_SLOW. */
  streamMinBytesPerSec: number
  /** One caller's share of --max-inflight; 0 = half of it (the bench loads with 256 calls from one client). */
  maxInflightPerClient: number
  /** Bytes all unfinished uploads may hold in memory together; 0 = 256 MiB or 4 shares, the more. */
  maxBufferedBytes: number
  /** One caller's share of --max-buffered-bytes; 0 = 64 MiB or one message + 1 MiB, the more. */
  maxBufferedBytesPerClient: number
  /**
   * 'default': LevelDB batches are not fsynced (a power cut can lose the last
   * acknowledged writes; a process crash cannot). 'fsync': every batch is
   * written with sync: true and a new blob file's directory entry is fsynced
   * before its commit: acknowledged means on disk.
   */
  durability: Durability
  // ---- log trimming (issue 26, node/log-trimmer.ts) ----
  /** How often the source trims its logs and collects tombstones (ms); 0 = never. */
  logTrimIntervalMs: number
  /** A peer whose last report is older than this stops holding the logs (ms); 0 = never by age. */
  logRetentionAgeMs: number
  /** A peer more than this many entries behind a shard's head stops holding its log; 0 = no bound. */
  logRetentionEntries: number
  /** How often a target reports its positions to each source (ms). */
  positionReportMs: number
  // ---- S3 front door (issue 29, node/s3/) ----
  /** HOST:PORT of the S3-compatible HTTP endpoint; undefined = off. */
  s3?: string
  /** The region S3 clients must sign for. */
  s3Region: string
  /** Multipart uploads not completed within this many seconds are dropped. */
  s3UploadExpirySec: number
}

export type Durability = 'default' | 'fsync'

export const DEFAULT_NODE_OPTIONS: NodeOptions = Object.freeze({
  siteId: 'local',
  listen: '127.0.0.1:7070',
  dataDir: './data',
  peers: [],
  initialShards: 256,
  splitThreshold: 100_000,
  autoSplit: true,
  maxObjectBytes: 1024 * 1024 * 1024,
  syncRate: 0,
  syncMode: 'split-aware',
  fullSyncPath: 'stream',
  dropNotices: false,
  splitPauseMs: 0,
  syncIntervalMs: 1000,
  syncShardConcurrency: 4,
  peerDeadlineMs: 30_000,
  shutdownGraceMs: 5000,
  logLevel: 'info',
  maxMessageBytes: 8 * 1024 * 1024,
  maxConcurrentStreams: 128,
  maxInflight: 512,
  dbMaxOpenFiles: 1000,
  dbCacheMiB: 8,
  heapGrowthPercent: 100,
  maxShards: 65536,
  splitRateLimit: 100,
  splitRateIntervalMs: 10_000,
  streamIdleMs: 60_000,
  streamMinBytesPerSec: 1024,
  maxInflightPerClient: 0,
  maxBufferedBytes: 0,
  maxBufferedBytesPerClient: 0,
  durability: 'default',
  logTrimIntervalMs: 60_000,
  logRetentionAgeMs: 7 * 86_400_000,
  logRetentionEntries: 0,
  positionReportMs: 10_000,
  s3Region: 'us-east-1',
  s3UploadExpirySec: 86_400,
  insecureOpen: false
}) as NodeOptions

export function resolveNodeOptions (input: Partial<NodeOptions>): NodeOptions {
  const o: NodeOptions = { ...DEFAULT_NODE_OPTIONS, ...stripUndefined(input) }
  validateSiteId(o.siteId)
  parseHostPort(o.listen, '--listen')
  requireInt(o.initialShards, 1, 65536, '--shards')
  requireInt(o.splitThreshold, 2, 1e9, '--split-threshold')
  requireInt(o.maxObjectBytes, 1, 2 ** 50, '--max-object-bytes')
  requireInt(o.syncRate, 0, 1e9, '--sync-rate')
  requireInt(o.splitPauseMs, 0, 600_000, '--fault-split-pause-ms')
  requireInt(o.syncIntervalMs, 10, 3_600_000, '--sync-interval-ms')
  requireInt(o.syncShardConcurrency, 1, 256, '--sync-shard-concurrency')
  requireInt(o.peerDeadlineMs, 100, 3_600_000, '--peer-deadline-ms')
  if (o.metrics !== undefined) parseHostPort(o.metrics, '--metrics')
  requireInt(o.maxMessageBytes, 64 * 1024, 1024 * 1024 * 1024, '--max-message-bytes')
  requireInt(o.maxConcurrentStreams, 1, 100_000, '--max-concurrent-streams')
  requireInt(o.maxInflight, 1, 1_000_000, '--max-inflight')
  requireInt(o.dbMaxOpenFiles, 74, 50_000, '--db-max-open-files')
  requireInt(o.dbCacheMiB, 1, 65536, '--db-cache-mib')
  requireInt(o.heapGrowthPercent, 0, 400, '--heap-growth-percent')
  validateLimits(o)
  for (const [token, what] of [[o.authToken, 'the auth token'], [o.peerToken, 'the peer token']] as const) {
    if (token !== undefined && (token.length < 8 || token.length > 4096 || /[\s]/.test(token))) throw ShardsyncError.invalidArgument(`${what} must be 8-4096 characters without white space`)
  }
  const hasCredentials = o.authToken !== undefined || o.credentialsFile !== undefined || o.tlsCa !== undefined
  if (!hasCredentials && !o.insecureOpen && !isLoopback(parseHostPort(o.listen, '--listen').host)) {
    throw ShardsyncError.invalidArgument(`--listen ${o.listen}: a node without credentials (--credentials, --tls-ca, or a token) serves loopback only; give credentials, or --insecure-open to serve every caller every role`)
  }
  validateS3(o, hasCredentials)
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(o.logLevel)) throw ShardsyncError.invalidArgument('--log-level must be one of fatal, error, warn, info, debug, trace, silent')
  if (o.syncMode !== 'split-aware' && o.syncMode !== 'related-art') throw ShardsyncError.invalidArgument('--sync-mode must be split-aware or related-art')
  if (!FULL_SYNC_PATHS.includes(o.fullSyncPath)) throw ShardsyncError.invalidArgument('--full-sync-path must be stream or list')
  const seen = new Set<string>()
  for (const p of o.peers) {
    validateSiteId(p.id, 'peer id')
    parseHostPort(p.address, `--peer ${p.id}`)
    if (p.id === o.siteId) throw ShardsyncError.invalidArgument(`peer ${p.id} has this node's own site id`)
    if (seen.has(p.id)) throw ShardsyncError.invalidArgument(`peer ${p.id} given twice`)
    seen.add(p.id)
  }
  return o
}

/** "ID=HOST:PORT" as given to --peer. */
export function parsePeerFlag (flag: string): PeerAddress {
  const eq = flag.indexOf('=')
  if (eq <= 0) throw ShardsyncError.invalidArgument(`--peer ${flag}: expected ID=HOST:PORT`)
  const peer = { id: flag.slice(0, eq), address: flag.slice(eq + 1) }
  validateSiteId(peer.id, 'peer id')
  parseHostPort(peer.address, `--peer ${flag}`)
  return peer
}

export function parseHostPort (value: string, what: string): { host: string, port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value)
  const port = m === null ? NaN : Number(m[2])
  if (m === null || port > 65535) throw ShardsyncError.invalidArgument(`${what}: expected HOST:PORT, got ${JSON.stringify(excerpt(value, 80))}`)
  return { host: m[1], port }
}

/** The abuse limits of issue 27, checked at start. */
function validateLimits (o: NodeOptions): void {
  requireInt(o.maxShards, 1, 1_048_576, '--max-shards')
  if (o.initialShards > o.maxShards) throw ShardsyncError.invalidArgument('--shards must not exceed --max-shards')
  requireInt(o.splitRateLimit, 1, 1_000_000, '--split-rate-limit')
  requireInt(o.splitRateIntervalMs, 1, 86_400_000, '--split-rate-interval-ms')
  requireInt(o.logTrimIntervalMs, 0, 86_400_000, '--log-trim-interval-ms')
  requireInt(o.logRetentionAgeMs, 0, 10 * 365 * 86_400_000, '--log-retention-age-ms')
  requireInt(o.logRetentionEntries, 0, 2 ** 48, '--log-retention-entries')
  requireInt(o.positionReportMs, 50, 86_400_000, '--position-report-ms')
  if (o.durability !== 'default' && o.durability !== 'fsync') throw ShardsyncError.invalidArgument('--durability must be default or fsync')
  requireInt(o.streamIdleMs, 100, 3_600_000, '--stream-idle-ms')
  requireInt(o.streamMinBytesPerSec, 0, 1024 * 1024 * 1024, '--stream-min-bytes-per-sec')
  if (o.maxInflightPerClient === 0) o.maxInflightPerClient = Math.max(1, Math.floor(o.maxInflight / 2))
  requireInt(o.maxInflightPerClient, 1, o.maxInflight, '--max-inflight-per-client (at most --max-inflight)')
  // A share must hold one whole message plus what an upload gathers before a file write (1 MiB).
  const least = o.maxMessageBytes + 1024 * 1024
  if (o.maxBufferedBytesPerClient === 0) o.maxBufferedBytesPerClient = Math.max(64 * 1024 * 1024, least)
  if (o.maxBufferedBytes === 0) o.maxBufferedBytes = Math.max(256 * 1024 * 1024, 4 * o.maxBufferedBytesPerClient)
  requireInt(o.maxBufferedBytesPerClient, least, 2 ** 40, '--max-buffered-bytes-per-client (at least --max-message-bytes + 1 MiB)')
  requireInt(o.maxBufferedBytes, o.maxBufferedBytesPerClient, 2 ** 42, '--max-buffered-bytes (at least --max-buffered-bytes-per-client)')
}

/** The S3 flags: a valid address, and loopback only on a node without credentials (its development key is public). */
function validateS3 (o: NodeOptions, hasCredentials: boolean): void {
  if (!/^[a-z0-9-]{1,32}$/.test(o.s3Region)) throw ShardsyncError.invalidArgument('--s3-region must be 1-32 characters of a-z, 0-9 and \'-\'')
  requireInt(o.s3UploadExpirySec, 1, 365 * 86_400, '--s3-upload-expiry-s')
  if (o.s3 === undefined) return
  const { host } = parseHostPort(o.s3, '--s3')
  if (!hasCredentials && !o.insecureOpen && !isLoopback(host)) {
    throw ShardsyncError.invalidArgument(`--s3 ${o.s3}: a node without credentials serves S3 on loopback only (its development key is public); give --credentials with "s3" keys, or --insecure-open`)
  }
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopback (host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]' || host.toLowerCase() === 'localhost'
}

function requireInt (v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw ShardsyncError.invalidArgument(`${what} must be an integer from ${min} to ${max}`)
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
