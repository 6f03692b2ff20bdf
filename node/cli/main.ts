#!/usr/bin/env node
/**
 * The `shardsync` command line. Parses flags once, then calls the node
 * runner or a client command. Errors print one clear line (with the stable
 * code) and exit non-zero; no stack traces for expected failures.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import v8 from 'node:v8'
import { Command, Option, InvalidArgumentError } from 'commander'
import { isShardsyncError, ShardsyncError } from '../../storage/errors'
import { type Durability, DEFAULT_NODE_OPTIONS, type FullSyncPath, parsePeerFlag, resolveNodeOptions, type PeerAddress, type SyncMode } from '../config'
import { callUnary } from '../rpc/clients'
import type { ListPeersResponse__Output } from '../rpc/generated/shardsync/v1/ListPeersResponse'
import type { NodeInfoResponse__Output } from '../rpc/generated/shardsync/v1/NodeInfoResponse'
import { VERSION } from '../shardsync-node'
import { setClientSecurity, createBucket, listAllObjects, listBuckets, listShards, load, putObject, readInput, splitShard, withClients, writeOutput } from './object-commands'
import { loadSecurity, type SecurityConfig } from '../rpc/security'
import { tokenSha256 } from '../rpc/credentials'
import { ROLES } from '../rpc/method-roles'
import { validateSiteId } from '../../storage/validate'
import { gcPacing } from '../gc-pacing'
import { runNode } from './run-node'
import { showStatus, waitSynced } from './status-commands'
import { verifySites } from './verify'

const DEFAULT_NODE = DEFAULT_NODE_OPTIONS.listen

function int (name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`)
    return n
  }
}

function collectPeers (value: string, previous: PeerAddress[]): PeerAddress[] {
  try {
    return [...previous, parsePeerFlag(value)]
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

const nodeOption = (): Option => new Option('--node <addr>', 'node address HOST:PORT').default(DEFAULT_NODE)

function readSecretFile (file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    throw ShardsyncError.invalidArgument(`${flag}: cannot read ${file}`)
  }
}

/**
 * Global security flags, with environment fallbacks. Secrets come from a
 * file or the environment, never from argv (the process list shows argv);
 * the token never goes to a log.
 */
function securityConfig (o: Record<string, string | undefined>): SecurityConfig {
  if (o.authToken !== undefined) throw ShardsyncError.invalidArgument('--auth-token puts the secret in the process list and is no longer accepted; use --auth-token-file FILE or the environment variable SHARDSYNC_AUTH_TOKEN')
  let authToken = process.env.SHARDSYNC_AUTH_TOKEN
  if (o.authTokenFile !== undefined) authToken = readSecretFile(o.authTokenFile, '--auth-token-file')
  return {
    authToken: authToken === '' ? undefined : authToken,
    tlsCert: o.tlsCert ?? process.env.SHARDSYNC_TLS_CERT,
    tlsKey: o.tlsKey ?? process.env.SHARDSYNC_TLS_KEY,
    tlsCa: o.tlsCa ?? process.env.SHARDSYNC_TLS_CA
  }
}

/** A node's own credentials: incoming (--credentials) and outgoing (--peer-token-file or SHARDSYNC_PEER_TOKEN). */
function nodeSecurityConfig (global: Record<string, string | undefined>, o: Record<string, string | undefined>): SecurityConfig {
  const sec = securityConfig(global)
  const credentialsFile = o.credentials ?? process.env.SHARDSYNC_CREDENTIALS
  let peerToken = process.env.SHARDSYNC_PEER_TOKEN
  if (o.peerTokenFile !== undefined) peerToken = readSecretFile(o.peerTokenFile, '--peer-token-file')
  if (credentialsFile !== undefined && credentialsFile !== '') {
    if (global.authTokenFile !== undefined) throw ShardsyncError.invalidArgument('--auth-token-file is the deprecated shared token; with --credentials give the node\'s own peer token with --peer-token-file')
    // SHARDSYNC_AUTH_TOKEN in the environment is a CLI's token, not the node's.
    return { ...sec, authToken: undefined, credentialsFile, peerToken: peerToken === '' ? undefined : peerToken }
  }
  return { ...sec, peerToken: peerToken === '' ? undefined : peerToken }
}

function print (value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

export function buildProgram (): Command {
  const program = new Command('shardsync')
  program.version(VERSION).description('Storage nodes with auto-splitting bucket shards and split-aware multi-site sync')
    .addOption(new Option('--auth-token <token>', 'refused: a token on the command line shows in the process list').hideHelp())
    .option('--auth-token-file <file>', 'the bearer token to present (or env SHARDSYNC_AUTH_TOKEN); on a node without --credentials, the deprecated shared token that grants every role')
    .option('--tls-cert <pem>', 'TLS certificate (node: serve with it and present it to peers; client: present it)')
    .option('--tls-key <pem>', 'TLS private key')
    .option('--tls-ca <pem>', 'CA that signs peer/client certificates; on a node this turns on mutual TLS')
    .hook('preAction', (_cmd, action) => { if (action.name() !== 'node') setClientSecurity(loadSecurity(securityConfig(program.opts()))) })
    // Usage errors found by the flag parser (a bad value, an unknown flag)
    // carry the same stable code as those found later by config validation.
    .configureOutput({ outputError: (text, write) => { write(`shardsync: INVALID_ARGUMENT: ${text.replace(/^error: /, '')}`) } })

  program.command('node')
    .description('run a storage node')
    .option('--site <id>', 'this site\'s id', DEFAULT_NODE_OPTIONS.siteId)
    .option('--listen <host:port>', 'gRPC listen address (port 0 picks a free port)', DEFAULT_NODE_OPTIONS.listen)
    .option('--data <dir>', 'LevelDB directory', DEFAULT_NODE_OPTIONS.dataDir)
    .option('--peer <id=host:port>', 'a peer to sync with (repeatable)', collectPeers, [])
    .option('--shards <n>', 'default initial shards of new buckets', int('--shards', 1), DEFAULT_NODE_OPTIONS.initialShards)
    .option('--split-threshold <n>', 'default index entries at which a shard splits', int('--split-threshold', 2), DEFAULT_NODE_OPTIONS.splitThreshold)
    .option('--no-auto-split', 'new buckets do not split by themselves')
    .option('--max-object-bytes <n>', 'largest object accepted', int('--max-object-bytes', 1), DEFAULT_NODE_OPTIONS.maxObjectBytes)
    .option('--sync-rate <objects/s>', 'throttle full sync (0 = unlimited)', int('--sync-rate'), 0)
    .option('--sync-interval-ms <ms>', 'how often sync rounds run', int('--sync-interval-ms', 10), DEFAULT_NODE_OPTIONS.syncIntervalMs)
    .option('--sync-shard-concurrency <n>', 'source shards of one bucket fully synced at once, per peer (more: faster full sync, more memory)', int('--sync-shard-concurrency', 1), DEFAULT_NODE_OPTIONS.syncShardConcurrency)
    .option('--full-sync-path <path>', 'full sync reads a source shard as one stream (stream: StreamShard; a source without it is read listed) or page by page (list: ListIndex + FetchObjects)', DEFAULT_NODE_OPTIONS.fullSyncPath)
    .addOption(new Option('--sync-mode <mode>', 'split-aware, or related-art (negative-control tests only: loses objects on splits)').choices(['split-aware', 'related-art']).default('split-aware'))
    .option('--fault-drop-notices', 'testing only: drop split notices instead of sending them', false)
    .option('--fault-split-pause-ms <ms>', 'testing only: pause after each split migration page', int('--fault-split-pause-ms'), 0)
    .option('--log-level <level>', 'pino log level', DEFAULT_NODE_OPTIONS.logLevel)
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics')
    .option('--metrics-token-file <file>', '/metrics requires "Authorization: Bearer <token>" with the token in this file (default: open)')
    .option('--max-message-bytes <n>', 'largest gRPC message', int('--max-message-bytes', 1), DEFAULT_NODE_OPTIONS.maxMessageBytes)
    .option('--max-concurrent-streams <n>', 'concurrent streams per client connection', int('--max-concurrent-streams', 1), DEFAULT_NODE_OPTIONS.maxConcurrentStreams)
    .option('--max-inflight <n>', 'calls in flight before the node sheds load (RESOURCE_EXHAUSTED)', int('--max-inflight', 1), DEFAULT_NODE_OPTIONS.maxInflight)
    .option('--db-max-open-files <n>', 'LevelDB table files kept open by each of the node\'s two LevelDBs (file descriptors and their index blocks)', int('--db-max-open-files', 74), DEFAULT_NODE_OPTIONS.dbMaxOpenFiles)
    .option('--db-cache-mib <n>', 'main LevelDB block cache in MiB (the content LevelDB gets an eighth, at least 1)', int('--db-cache-mib', 1), DEFAULT_NODE_OPTIONS.dbCacheMiB)
    .option('--heap-growth-percent <n>', 'V8 heap headroom over live data between major collections, percent (0: V8 decides, up to 300); widened to 300 while large objects move unless set higher; at most 400; lower trades CPU for memory, higher the reverse', int('--heap-growth-percent', 0), DEFAULT_NODE_OPTIONS.heapGrowthPercent)
    .option('--credentials <file>', 'JSON file of the tokens (by SHA-256) and certificate identities allowed in, each with an identity and a role client, peer or admin (or env SHARDSYNC_CREDENTIALS; reloaded on SIGHUP)')
    .option('--peer-token-file <file>', 'the token this node presents to its peers (or env SHARDSYNC_PEER_TOKEN)')
    .option('--insecure-open', 'serve a non-loopback address with no credentials: every caller has every role', false)
    .option('--peer-deadline-ms <ms>', 'deadline of calls to peers', int('--peer-deadline-ms', 100), DEFAULT_NODE_OPTIONS.peerDeadlineMs)
    .option('--max-shards <n>', 'most shards per bucket, splits included (at most 1048576)', int('--max-shards', 1), DEFAULT_NODE_OPTIONS.maxShards)
    .option('--split-rate-limit <n>', 'at most this many splits of one bucket begin per --split-rate-interval-ms', int('--split-rate-limit', 1), DEFAULT_NODE_OPTIONS.splitRateLimit)
    .option('--split-rate-interval-ms <ms>', 'window of --split-rate-limit', int('--split-rate-interval-ms', 1), DEFAULT_NODE_OPTIONS.splitRateIntervalMs)
    .option('--durability <mode>', 'default (batches not fsynced) or fsync (acknowledged means on disk: LevelDB batches with sync, blob directory entries fsynced)', DEFAULT_NODE_OPTIONS.durability)
    .option('--stream-idle-ms <ms>', 'a stream waiting this long for its client (next message in, a read out) ends with DEADLINE_EXCEEDED', int('--stream-idle-ms', 100), DEFAULT_NODE_OPTIONS.streamIdleMs)
    .option('--stream-min-bytes-per-sec <n>', 'least bytes/s a stream must move over each --stream-idle-ms of waiting for its client', int('--stream-min-bytes-per-sec', 0), DEFAULT_NODE_OPTIONS.streamMinBytesPerSec)
    .option('--max-inflight-per-client <n>', 'one caller\'s share of --max-inflight (default half)', int('--max-inflight-per-client', 1))
    .option('--max-buffered-bytes <n>', 'bytes all unfinished uploads may hold in memory (default 256 MiB or four shares)', int('--max-buffered-bytes', 1))
    .option('--max-buffered-bytes-per-client <n>', 'one caller\'s share of --max-buffered-bytes (default 64 MiB, at least --max-message-bytes + 1 MiB)', int('--max-buffered-bytes-per-client', 1))
    .option('--log-trim-interval-ms <ms>', 'how often sync logs are trimmed and tombstones collected (0 = never)', int('--log-trim-interval-ms', 0), DEFAULT_NODE_OPTIONS.logTrimIntervalMs)
    .option('--log-retention-age-ms <ms>', 'a peer silent this long stops holding the logs; it resyncs when back (0 = never)', int('--log-retention-age-ms', 0), DEFAULT_NODE_OPTIONS.logRetentionAgeMs)
    .option('--log-retention-entries <n>', 'a peer this many entries behind a shard\'s head stops holding its log (0 = no bound)', int('--log-retention-entries', 0), DEFAULT_NODE_OPTIONS.logRetentionEntries)
    .option('--position-report-ms <ms>', 'how often this node reports its sync positions to each source', int('--position-report-ms', 50), DEFAULT_NODE_OPTIONS.positionReportMs)
    .option('--s3 <host:port>', 'serve the S3-compatible HTTP API there (port 0 picks a free port; docs/s3.md)')
    .option('--s3-region <region>', 'the region S3 clients sign for', DEFAULT_NODE_OPTIONS.s3Region)
    .option('--s3-upload-expiry-s <seconds>', 'S3 multipart uploads not completed within this are dropped', int('--s3-upload-expiry-s', 1), DEFAULT_NODE_OPTIONS.s3UploadExpirySec)
    .action(async (o) => {
      const sec = nodeSecurityConfig(program.opts(), o)
      const options = resolveNodeOptions({
        ...sec,
        insecureOpen: o.insecureOpen,
        maxMessageBytes: o.maxMessageBytes,
        maxConcurrentStreams: o.maxConcurrentStreams,
        maxInflight: o.maxInflight,
        dbMaxOpenFiles: o.dbMaxOpenFiles,
        dbCacheMiB: o.dbCacheMiB,
        heapGrowthPercent: o.heapGrowthPercent,
        peerDeadlineMs: o.peerDeadlineMs,
        siteId: o.site,
        listen: o.listen,
        dataDir: o.data,
        peers: o.peer,
        initialShards: o.shards,
        splitThreshold: o.splitThreshold,
        autoSplit: o.autoSplit,
        maxObjectBytes: o.maxObjectBytes,
        syncRate: o.syncRate,
        syncIntervalMs: o.syncIntervalMs,
        syncShardConcurrency: o.syncShardConcurrency,
        syncMode: o.syncMode as SyncMode,
        fullSyncPath: o.fullSyncPath as FullSyncPath,
        dropNotices: o.faultDropNotices,
        splitPauseMs: o.faultSplitPauseMs,
        logLevel: o.logLevel,
        metrics: o.metrics,
        maxShards: o.maxShards,
        splitRateLimit: o.splitRateLimit,
        splitRateIntervalMs: o.splitRateIntervalMs,
        metricsTokenFile: o.metricsTokenFile,
        streamIdleMs: o.streamIdleMs,
        streamMinBytesPerSec: o.streamMinBytesPerSec,
        maxInflightPerClient: o.maxInflightPerClient,
        maxBufferedBytes: o.maxBufferedBytes,
        maxBufferedBytesPerClient: o.maxBufferedBytesPerClient,
        durability: o.durability as Durability,
        logTrimIntervalMs: o.logTrimIntervalMs,
        logRetentionAgeMs: o.logRetentionAgeMs,
        logRetentionEntries: o.logRetentionEntries,
        positionReportMs: o.positionReportMs,
        s3: o.s3,
        s3Region: o.s3Region,
        s3UploadExpirySec: o.s3UploadExpiryS
      })
      // A node allocates many short-lived objects per synced object (messages,
      // records, keys); a 32 MiB young generation halves the scavenges of the
      // 16 MiB default (bench: ~10 % more full-sync objects/s). NODE_OPTIONS
      // can still override it.
      if (!(process.env.NODE_OPTIONS ?? '').includes('semi-space')) v8.setFlagsFromString('--max-semi-space-size=32')
      // V8 lets the old generation grow to up to 4x the live heap between
      // major collections; a sync keeps ~15-30 MiB alive, so that pacing was
      // most of what grew from a 100,000- to a 1,000,000-object sync. The
      // node holds it at --heap-growth-percent (100 by default; 0: V8
      // decides) and widens it while large objects move (node/gc-pacing.ts).
      gcPacing().setBase(options.heapGrowthPercent)
      const { stop } = await runNode(options)
      const onSignal = (): void => { stop().then(() => process.exit(0), () => process.exit(1)) }
      process.once('SIGTERM', onSignal)
      process.once('SIGINT', onSignal)
    })

  const bucket = program.command('bucket').description('manage buckets')
  bucket.command('create <name>')
    .addOption(nodeOption())
    .option('--shards <n>', 'initial shards (node default 256)', int('--shards', 1))
    .option('--split-threshold <n>', 'split a shard at this many entries', int('--split-threshold', 2))
    .option('--no-auto-split', 'do not split automatically')
    .action(async (name: string, o) => {
      print(await withClients(o.node, async c => await createBucket(c, name, { shards: o.shards, splitThreshold: o.splitThreshold, autoSplit: o.autoSplit })))
    })
  bucket.command('ls').addOption(nodeOption()).action(async (o) => {
    for (const b of await withClients(o.node, listBuckets)) process.stdout.write(`${b.name}\t${b.id}\tshards=${b.shardCount}\tobjects=${b.objectCount}\n`)
  })
  bucket.command('rm <name>').addOption(nodeOption()).action(async (name: string, o) => {
    await withClients(o.node, async c => await callUnary(c.object, 'DeleteBucket', { name }))
  })
  bucket.command('shards <name>').description('list a bucket\'s shards').addOption(nodeOption()).action(async (name: string, o) => {
    print(await withClients(o.node, async c => await listShards(c, name)))
  })

  program.command('put <bucket> <key> [file]').description('store an object from a file or stdin (-)').addOption(nodeOption())
    .action(async (b: string, key: string, file: string | undefined, o) => {
      print(await withClients(o.node, async c => await putObject(c, b, key, await readInput(file))))
    })
  program.command('get <bucket> <key> [file]').description('read an object to a file or stdout (-)').addOption(nodeOption())
    .action(async (b: string, key: string, file: string | undefined, o) => {
      await withClients(o.node, async c => await writeOutput(c, b, key, file))
    })
  program.command('head <bucket> <key>').addOption(nodeOption()).action(async (b: string, key: string, o) => {
    print(await withClients(o.node, async c => await callUnary(c.object, 'HeadObject', { bucket: b, key })))
  })
  program.command('rm <bucket> <key>').addOption(nodeOption()).action(async (b: string, key: string, o) => {
    await withClients(o.node, async c => await callUnary(c.object, 'DeleteObject', { bucket: b, key }))
  })
  program.command('ls <bucket>').addOption(nodeOption()).option('--prefix <p>', 'only keys with this prefix', '')
    .action(async (b: string, o) => {
      await withClients(o.node, async (c) => {
        for await (const obj of listAllObjects(c, b, o.prefix)) process.stdout.write(`${obj.key}\t${obj.size}\t${obj.etag}\t${new Date(Number(obj.mtime)).toISOString()}\n`)
      })
    })
  program.command('load <bucket>').description('bulk-load random objects').addOption(nodeOption())
    .requiredOption('--count <n>', 'number of objects', int('--count', 1))
    .option('--size <bytes>', 'object size', int('--size'), 1024)
    .option('--concurrency <n>', 'PUTs in flight', int('--concurrency', 1), 32)
    .option('--prefix <p>', 'key prefix', 'obj-')
    .action(async (b: string, o) => {
      const r = await withClients(o.node, async c => await load(c, b, { count: o.count, size: o.size, concurrency: o.concurrency, prefix: o.prefix }))
      process.stdout.write(`loaded ${r.count} objects (${r.bytes} bytes) in ${r.seconds.toFixed(1)}s: ${Math.round(r.count / r.seconds)} objects/s\n`)
    })
  program.command('split <bucket> <shard>').description('force a split of one shard').addOption(nodeOption())
    .action(async (b: string, shard: string, o) => {
      print(await withClients(o.node, async c => await splitShard(c, b, int('shard')(shard))))
    })
  program.command('info').description('node information').addOption(nodeOption()).action(async (o) => {
    print(await withClients(o.node, async c => await callUnary<object, NodeInfoResponse__Output>(c.admin, 'NodeInfo', {})))
  })

  const peer = program.command('peer').description('manage peers')
  peer.command('add <id> <address>').addOption(nodeOption()).action(async (id: string, address: string, o) => {
    print(await withClients(o.node, async c => await callUnary(c.admin, 'AddPeer', { id, address })))
  })
  peer.command('rm <id>').addOption(nodeOption()).action(async (id: string, o) => {
    await withClients(o.node, async c => await callUnary(c.admin, 'RemovePeer', { id }))
  })
  peer.command('ls').addOption(nodeOption()).action(async (o) => {
    for (const p of (await withClients(o.node, async c => await callUnary<object, ListPeersResponse__Output>(c.admin, 'ListPeers', {}))).peers) process.stdout.write(`${p.id}\t${p.address}\n`)
  })

  program.command('status').description('sync state per peer, bucket and source shard').addOption(nodeOption())
    .option('--json', 'machine-readable output', false)
    .option('--watch [seconds]', 'refresh every few seconds')
    .action(async (o) => {
      const watchSeconds = o.watch === undefined ? undefined : o.watch === true ? 2 : int('--watch', 1)(o.watch)
      await withClients(o.node, async c => await showStatus(c, { json: o.json, watchSeconds }))
    })
  program.command('wait-synced').description('exit 0 once every peer is caught up, 1 on timeout').addOption(nodeOption())
    .option('--timeout <seconds>', 'give up after this long', int('--timeout', 1), 600)
    .action(async (o) => {
      const ok = await withClients(o.node, async c => await waitSynced(c, o.timeout))
      process.stderr.write(ok ? 'synced: every peer is caught up\n' : `not synced after ${o.timeout}s\n`)
      process.exitCode = ok ? 0 : 1
    })

  const token = program.command('token').description('make credentials for --credentials files')
  token.command('new')
    .description('write a new random token to a file (mode 0600) and print its --credentials entry')
    .requiredOption('--identity <id>', 'site id of a peer, or user name of a client or admin')
    .addOption(new Option('--role <role>', 'what the token may do').choices([...ROLES]).makeOptionMandatory())
    .requiredOption('--out <file>', 'where to write the token (must not exist)')
    .option('--expires <iso-date>', 'the token stops working at this time')
    .action((o) => {
      validateSiteId(o.identity, '--identity')
      if (o.expires !== undefined && !Number.isFinite(Date.parse(o.expires))) throw ShardsyncError.invalidArgument('--expires must be an ISO 8601 date')
      const secret = crypto.randomBytes(32).toString('base64url')
      try {
        fs.writeFileSync(o.out, secret + '\n', { mode: 0o600, flag: 'wx' })
      } catch {
        throw ShardsyncError.invalidArgument(`--out: cannot create ${o.out} (it must not exist)`)
      }
      print({ identity: o.identity, role: o.role, sha256: tokenSha256(secret).toString('hex'), ...(o.expires !== undefined ? { expires: new Date(o.expires).toISOString() } : {}) })
    })

  program.command('verify').description('compare two sites; exits 1 if they differ')
    .requiredOption('--source <addr>', 'source node')
    .requiredOption('--target <addr>', 'target node')
    .option('--bucket <name>', 'only this bucket')
    .option('--deep', 'compare content too', false)
    .option('--json', 'print the report as JSON', false)
    .action(async (o) => {
      const report = await withClients(o.source, async s => await withClients(o.target, async t => await verifySites(s, t, {
        bucket: o.bucket,
        deep: o.deep,
        onDifference: (d) => process.stdout.write(`${d.kind}\t${d.bucket}\t${d.key}\n`)
      })))
      if (o.json === true) print(report)
      process.stdout.write(report.differences === 0
        ? `identical: ${report.buckets} buckets, ${report.objects} objects${o.deep === true ? ' (deep)' : ''}\n`
        : `DIFFERENT: ${report.differences} differences in ${report.buckets} buckets, ${report.objects} objects\n`)
      process.exitCode = report.differences === 0 ? 0 : 1
    })
  return program
}

async function main (): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv)
  } catch (err) {
    if (isShardsyncError(err)) {
      process.stderr.write(`shardsync: ${err.code}: ${err.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`shardsync: ${(err as Error).message ?? String(err)}\n`)
    process.exit(1)
  }
}

if (require.main === module) void main()
