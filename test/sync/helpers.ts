/**
 * Shared helpers of the multi-site sync scenario tests (test/sync/*.test.ts).
 *
 * Every scenario runs real node processes on 127.0.0.1 (scripts/lib/cluster.ts)
 * and talks to them over gRPC only. These helpers start the sites with the
 * test's defaults and tear them down, write and delete objects while keeping
 * a ledger of what the source should hold, wait on log lines and on
 * convergence, and do the final checks: `shardsync verify --deep` plus
 * independent counts (ListObjects on both sides, the sum of the source's
 * ListShards index_count, the bucket's object_count, and the test's own
 * ledger of keys).
 *
 * Timing rule: nothing here sleeps to "let things happen"; everything waits
 * for an observable condition (a log line, a count, a listing) with a
 * generous timeout, so CPU contention slows a scenario but does not flake it.
 * Where a scenario must act at a moment (split while the target is listing),
 * it relies on the target's --sync-rate: copying is throttled by wall-clock
 * time, so the target cannot get ahead of the test however busy the CPU is.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { callUnary, type Clients } from '../../node/rpc/clients'
import type { Bucket__Output } from '../../node/rpc/generated/shardsync/v1/Bucket'
import type { ObjectInfo__Output } from '../../node/rpc/generated/shardsync/v1/ObjectInfo'
import type { ShardInfo__Output } from '../../node/rpc/generated/shardsync/v1/ShardInfo'
import { createBucket, listAllObjects, listBuckets, listShards, putObject, splitShard } from '../../node/cli/object-commands'
import { NodeProcess, runCli, waitFor, type LogLine } from '../../scripts/lib/cluster'
import type {} from 'tap'

export { waitFor, type LogLine, NodeProcess }

/** Round interval used by every test node (the default 1 s makes retries slow). */
export const SYNC_INTERVAL_ARGS = ['--sync-interval-ms', '200']

/**
 * Default initial shards of buckets a node creates itself, i.e. those it
 * creates when it finds a peer's bucket. connectOneWay makes each node a
 * peer of the other, so the source also syncs the target's copy of every
 * bucket; the node default (256 shards) would make that cost more than the
 * scenario itself.
 */
export const DEFAULT_SHARDS_ARGS = ['--shards', '2']

/**
 * The full-sync path every test node uses: the node default (stream) unless
 * SHARDSYNC_TEST_FULL_SYNC_PATH says otherwise. The wrappers in
 * test/sync/list-path/ set it to 'list', so each split/sync suite runs on
 * both paths.
 */
export const FULL_SYNC_PATH = process.env.SHARDSYNC_TEST_FULL_SYNC_PATH ?? 'stream'
export const FULL_SYNC_PATH_ARGS = ['--full-sync-path', FULL_SYNC_PATH]

/** A tap test (the global `tap` namespace is declared by the 'tap' module). */
export type TestLike = tap.Test

export interface SiteSpec { site: string, args?: string[] }

/**
 * Starts one node per spec (each with its own data directory and log file
 * under one temporary directory) and stops them when the test ends. The
 * directory is removed if the test passed, kept (and named) if it failed.
 */
export async function startSites (t: TestLike, specs: SiteSpec[]): Promise<NodeProcess[]> {
  t.comment(`full sync path: ${FULL_SYNC_PATH}`)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-sync-test-'))
  const nodes = specs.map(s => new NodeProcess({
    site: s.site,
    dataDir: path.join(root, `${s.site}-data`),
    logFile: path.join(root, `${s.site}.log`),
    args: [...SYNC_INTERVAL_ARGS, ...((s.args ?? []).includes('--shards') ? [] : DEFAULT_SHARDS_ARGS), ...((s.args ?? []).includes('--full-sync-path') ? [] : FULL_SYNC_PATH_ARGS), ...(s.args ?? [])]
  }))
  t.teardown(async () => {
    await Promise.all(nodes.map(async n => await n.stop().catch(() => null)))
    if (t.passing()) fs.rmSync(root, { recursive: true, force: true })
    else t.comment(`node data and logs kept in ${root}`)
  })
  await Promise.all(nodes.map(async n => await n.start(0)))
  return nodes
}

export interface BucketOpts { shards: number, splitThreshold?: number, autoSplit?: boolean }

/** Creates a bucket; by default it never splits by itself (splits are forced by the test). */
export async function makeBucket (node: NodeProcess, name: string, opts: BucketOpts): Promise<Bucket__Output> {
  return await createBucket(node.clients, name, { shards: opts.shards, splitThreshold: opts.splitThreshold ?? 1_000_000_000, autoSplit: opts.autoSplit ?? false })
}

/** Zero-padded keys: prefix000 .. prefix(n-1). */
export function makeKeys (prefix: string, n: number, from = 0): string[] {
  const width = String(Math.max(from + n - 1, 0)).length
  return Array.from({ length: n }, (_, i) => `${prefix}${String(from + i).padStart(Math.max(width, 4), '0')}`)
}

/**
 * What the test believes a site holds: key -> the newest version it wrote
 * there (as PutObject acknowledged it), and the keys it deleted. Scenarios
 * compare the target against it key by key.
 */
export class Ledger {
  readonly objects = new Map<string, ObjectInfo__Output>()
  readonly deleted = new Set<string>()

  put (info: ObjectInfo__Output): void {
    this.deleted.delete(info.key)
    this.objects.set(info.key, info)
  }

  del (key: string): void {
    this.objects.delete(key)
    this.deleted.add(key)
  }

  get size (): number { return this.objects.size }
}

export function randomBody (size: number): Buffer {
  return crypto.randomBytes(size)
}

/** PUTs many objects, `concurrency` in flight; records each in the ledger. */
export async function putMany (c: Clients, bucket: string, keys: string[], opts: { size?: number | ((i: number) => number), concurrency?: number, ledger?: Ledger } = {}): Promise<ObjectInfo__Output[]> {
  const out: ObjectInfo__Output[] = new Array(keys.length)
  let next = 0
  const sizeOf = (i: number): number => typeof opts.size === 'function' ? opts.size(i) : (opts.size ?? 64 + (i % 7) * 16)
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const i = next++
      const info = await putObject(c, bucket, keys[i], randomBody(sizeOf(i)))
      out[i] = info
      opts.ledger?.put(info)
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 128, keys.length) }, worker))
  return out
}

export async function deleteKey (c: Clients, bucket: string, key: string): Promise<void> {
  await callUnary(c.object, 'DeleteObject', { bucket, key })
}

/** Deletes keys, `concurrency` at a time; records each in the ledger. */
export async function deleteMany (c: Clients, bucket: string, keys: string[], opts: { concurrency?: number, ledger?: Ledger } = {}): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]
      await deleteKey(c, bucket, key)
      opts.ledger?.del(key)
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 64, keys.length) }, worker))
}

// ---- reading a site ---------------------------------------------------------

export async function bucketInfo (node: NodeProcess, bucket: string): Promise<Bucket__Output | undefined> {
  return (await listBuckets(node.clients)).find(b => b.name === bucket)
}

/** object_count of the bucket (0 if the site does not have it yet). */
export async function objectCount (node: NodeProcess, bucket: string): Promise<number> {
  return Number((await bucketInfo(node, bucket))?.objectCount ?? 0)
}

/** key -> info, from ListObjects. */
export async function listing (node: NodeProcess, bucket: string): Promise<Map<string, ObjectInfo__Output>> {
  const out = new Map<string, ObjectInfo__Output>()
  for await (const o of listAllObjects(node.clients, bucket)) out.set(o.key, o)
  return out
}

export async function shardList (node: NodeProcess, bucket: string): Promise<ShardInfo__Output[]> {
  return (await listShards(node.clients, bucket)).shards
}

export async function indexTotal (node: NodeProcess, bucket: string): Promise<number> {
  return (await shardList(node, bucket)).reduce((sum, s) => sum + Number(s.indexCount), 0)
}

export async function split (node: NodeProcess, bucket: string, shard: number): Promise<{ shard: number, newShard: number, moved: number }> {
  const r = await splitShard(node.clients, bucket, shard)
  return { shard: r.shard, newShard: r.newShard, moved: Number(r.moved) }
}

// ---- logs -------------------------------------------------------------------

/** Log lines with this msg whose fields include `fields`. */
export function logs (node: NodeProcess, msg: string, fields: Record<string, unknown> = {}, since?: LogLine): LogLine[] {
  const from = since === undefined ? 0 : Math.max(node.lines.indexOf(since), 0)
  return node.lines.slice(from).filter(l => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v))
}

export async function waitLog (node: NodeProcess, msg: string, fields: Record<string, unknown> = {}, opts: { timeoutMs?: number, since?: LogLine } = {}): Promise<LogLine> {
  return await waitFor(() => logs(node, msg, fields, opts.since)[0], { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 50, what: `${node.spec.site} to log "${msg}" ${JSON.stringify(fields)}` })
}

/**
 * Puts a marker into a node's in-memory log, so that later checks can look
 * only at lines logged after it (e.g. by the restarted process).
 */
export function markLog (node: NodeProcess, label: string): LogLine {
  const line: LogLine = { level: 0, msg: `--- test mark: ${label} ---` }
  node.lines.push(line)
  return line
}

/** Shards (of `bucket`) for which the target has logged 'shard entering incremental sync'. */
export function incrementalShards (target: NodeProcess, bucket: string, since?: LogLine): Set<number> {
  return new Set(logs(target, 'shard entering incremental sync', { bucket }, since).map(l => Number(l.shard)))
}

/** Waits until the target has finished full sync of every shard the source has now. */
export async function waitAllIncremental (source: NodeProcess, target: NodeProcess, bucket: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  await waitFor(async () => {
    const shards = await shardList(source, bucket)
    const done = incrementalShards(target, bucket)
    return shards.every(s => done.has(s.shard))
  }, { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 100, what: `${target.spec.site} to finish full sync of every shard of ${bucket}` })
}

// ---- convergence ---------------------------------------------------------------

export interface Difference { missing: string[], extra: string[], changed: string[] }

/** Keys the target lacks, has in excess, or holds in another version (etag/size/mtime/origin). */
export function diffListings (src: Map<string, ObjectInfo__Output>, tgt: Map<string, ObjectInfo__Output>): Difference {
  const d: Difference = { missing: [], extra: [], changed: [] }
  for (const [k, s] of src) {
    const x = tgt.get(k)
    if (x === undefined) d.missing.push(k)
    else if (x.etag !== s.etag || Number(x.size) !== Number(s.size) || Number(x.mtime) !== Number(s.mtime) || x.originSite !== s.originSite) d.changed.push(k)
  }
  for (const k of tgt.keys()) if (!src.has(k)) d.extra.push(k)
  return d
}

export function isEmptyDiff (d: Difference): boolean {
  return d.missing.length === 0 && d.extra.length === 0 && d.changed.length === 0
}

/** Polls both listings until the target holds exactly the source's versions. */
export async function waitConverged (source: NodeProcess, target: NodeProcess, bucket: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  let last: Difference | undefined
  try {
    await waitFor(async () => {
      if (await bucketInfo(target, bucket) === undefined) return false
      const [s, x] = await Promise.all([listing(source, bucket), listing(target, bucket)])
      last = diffListings(s, x)
      return isEmptyDiff(last)
    }, { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 250, what: `${target.spec.site} to converge with ${source.spec.site} on ${bucket}` })
  } catch (err) {
    const summary = last === undefined ? '' : ` (missing ${last.missing.length}, extra ${last.extra.length}, changed ${last.changed.length}; e.g. ${[...last.missing, ...last.extra, ...last.changed].slice(0, 5).join(', ')})`
    throw new Error(`${(err as Error).message}${summary}`)
  }
}

/** `shardsync verify [--deep]` from source to target; returns exit code and output. */
export async function verifyDeep (source: NodeProcess, target: NodeProcess, bucket?: string, opts: { deep?: boolean } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const args = ['verify', '--source', source.address, '--target', target.address]
  if (opts.deep !== false) args.push('--deep')
  if (bucket !== undefined) args.push('--bucket', bucket)
  return await runCli(args, { timeoutMs: 120_000 })
}

export interface ConvergenceCounts { ledger?: number, sourceListed: number, sourceIndex: number, sourceObjectCount: number, targetListed: number, targetIndex: number, targetObjectCount: number }

/**
 * The end of every scenario: wait until the target holds the source's
 * versions and has finished full sync of every source shard, then assert `verify --deep` says identical and that independent
 * counts agree: ListObjects on both sides, the source's and target's sums of
 * ListShards index_count, both object_counts, and (when given) the test's
 * ledger, key by key.
 */
export async function assertConverged (t: TestLike, source: NodeProcess, target: NodeProcess, bucket: string, opts: { ledger?: Ledger, timeoutMs?: number } = {}): Promise<ConvergenceCounts> {
  const lap = stopwatch(t)
  await waitConverged(source, target, bucket, { timeoutMs: opts.timeoutMs })
  // Copies can be complete a moment before the last shard is marked done.
  await waitAllIncremental(source, target, bucket, { timeoutMs: 30_000 })
  lap(`${target.spec.site} converged with ${source.spec.site} on ${bucket}, every shard in incremental sync`)
  const v = await verifyDeep(source, target, bucket)
  lap('verify --deep done')
  t.equal(v.code, 0, `verify --deep ${source.spec.site} -> ${target.spec.site} (${bucket}) exits 0`, { stdout: v.stdout.slice(0, 2000), stderr: v.stderr })
  t.match(v.stdout, /^identical: 1 buckets, \d+ objects \(deep\)$/m, 'verify reports identical (deep)')
  const [src, tgt] = await Promise.all([listing(source, bucket), listing(target, bucket)])
  const counts: ConvergenceCounts = {
    sourceListed: src.size,
    sourceIndex: await indexTotal(source, bucket),
    sourceObjectCount: await objectCount(source, bucket),
    targetListed: tgt.size,
    targetIndex: await indexTotal(target, bucket),
    targetObjectCount: await objectCount(target, bucket)
  }
  const verified = Number(/^identical: 1 buckets, (\d+) objects/m.exec(v.stdout)?.[1] ?? -1)
  t.equal(verified, src.size, 'verify compared as many objects as the source lists')
  t.equal(counts.targetListed, counts.sourceListed, 'ListObjects count: target = source')
  t.equal(counts.sourceIndex, counts.sourceListed, 'source: sum of ListShards index_count = ListObjects count')
  t.equal(counts.targetIndex, counts.targetListed, 'target: sum of ListShards index_count = ListObjects count')
  t.equal(counts.sourceObjectCount, counts.sourceListed, 'source object_count = ListObjects count')
  t.equal(counts.targetObjectCount, counts.targetListed, 'target object_count = ListObjects count')
  if (opts.ledger !== undefined) {
    counts.ledger = opts.ledger.size
    const wrong: string[] = []
    for (const [k, info] of opts.ledger.objects) if (tgt.get(k)?.etag !== info.etag) wrong.push(k)
    const resurrected = [...opts.ledger.deleted].filter(k => tgt.has(k))
    t.equal(tgt.size, opts.ledger.size, 'target holds exactly as many objects as the test wrote and kept')
    t.same(wrong.slice(0, 20), [], 'every key the test wrote is on the target with the etag it wrote')
    t.same(resurrected.slice(0, 20), [], 'no key the test deleted is on the target')
  }
  const states = (await shardList(source, bucket)).filter(s => s.state === 'SPLIT_STATE_SPLITTING').map(s => s.shard)
  t.same(states, [], 'no source shard is left SPLITTING')
  return counts
}

/** Phase timer: `lap('label')` comments the time since the start and since the last lap. */
export function stopwatch (t: TestLike): (label: string) => void {
  const start = Date.now()
  let last = start
  return (label) => {
    const now = Date.now()
    t.comment(`[${((now - start) / 1000).toFixed(1)}s, +${((now - last) / 1000).toFixed(1)}s] ${label}`)
    last = now
  }
}
