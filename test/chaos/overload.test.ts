/**
 * Overload: one real node with a small --max-inflight, hit by 64 concurrent
 * writers and a listing storm (ListObjects / ListIndex in tight loops from
 * many clients) for about 10 s. Health keeps answering SERVING throughout,
 * every failed call is RESOURCE_EXHAUSTED with code OVERLOADED (nothing
 * else), the node does not crash and still works afterwards. Reports the
 * node's peak RSS (VmHWM).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { service as healthServiceDefinition } from 'grpc-health-check'
import { createBucket, putObject } from '../../node/cli/object-commands'
import { callUnary, createClients, type Clients } from '../../node/rpc/clients'
import type { ShardsyncError } from '../../storage/errors'
import { fromServiceError } from '../../node/rpc/status-map'
import { NodeProcess } from '../../scripts/lib/cluster'

t.setTimeout(120_000)

const MAX_INFLIGHT = 32
const STORM_MS = Number(process.env.OVERLOAD_MS ?? 10_000)
const BUCKET = 'storm'

type HealthClient = grpc.Client & { Check: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string | number }) => void) => void }

/** PutObject with a deadline, so a call the node never answers shows up as DEADLINE_EXCEEDED instead of hanging. */
async function put (c: Clients, bucket: string, key: string, body: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const call = c.object.PutObject({ deadline: Date.now() + 15_000 }, (err) => err !== null ? reject(fromServiceError(err, 'PutObject')) : resolve())
    call.write({ bucket, key, data: body })
    call.end()
  })
}

function vm (pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1])
}

t.test('64 writers + listing storm against --max-inflight 32', async t => {
  // Every call comes from one address: one client's share is all of
  // --max-inflight here, so it is the node's limit that sheds (per-client
  // shares are test/security/stalled-streams.test.ts).
  const node = new NodeProcess({ site: 'storm', args: ['--shards', '4', '--split-threshold', '2000', '--max-inflight', String(MAX_INFLIGHT), '--max-inflight-per-client', String(MAX_INFLIGHT)] })
  t.teardown(async () => { await node.stop().catch(() => null); fs.rmSync(node.dataDir, { recursive: true, force: true }) })
  await node.start()
  const pid = node.proc?.pid as number
  await createBucket(node.clients, BUCKET, { shards: 4, splitThreshold: 2000, autoSplit: true })
  for (let i = 0; i < 200; i++) await putObject(node.clients, BUCKET, `seed-${String(i).padStart(4, '0')}`, crypto.randomBytes(100))
  const rssBefore = vm(pid, 'VmRSS')

  const Health = grpc.makeGenericClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health')
  const health = new Health(node.address, grpc.credentials.createInsecure()) as unknown as HealthClient
  t.teardown(() => health.close())
  const clients: Clients[] = Array.from({ length: 16 }, () => createClients(node.address))
  t.teardown(() => { for (const c of clients) c.close() })

  const counts = { ok: 0, overloaded: 0, other: 0, health: 0, healthBad: 0, writes: 0, lists: 0 }
  const others: string[] = []
  const record = (err: unknown): void => {
    const e = err as ShardsyncError
    const status = (e.cause as grpc.ServiceError | undefined)?.code
    if (e.code === 'OVERLOADED' && status === grpc.status.RESOURCE_EXHAUSTED) counts.overloaded++
    else { counts.other++; if (others.length < 10) others.push(`${status !== undefined ? grpc.status[status] : '?'}/${e.code}: ${e.message}`) }
  }
  const deadline = Date.now() + STORM_MS
  const writer = async (i: number): Promise<void> => {
    const c = clients[i % clients.length]
    let n = 0
    while (Date.now() < deadline) {
      try { await put(c, BUCKET, `w${i}-${n++}`, crypto.randomBytes(64 + (n % 8) * 512)); counts.ok++; counts.writes++ } catch (err) { record(err) }
    }
  }
  const lister = async (i: number): Promise<void> => {
    const c = clients[(i * 7) % clients.length]
    while (Date.now() < deadline) {
      try {
        if (i % 2 === 0) await callUnary(c.object, 'ListObjects', { bucket: BUCKET, limit: 1000 }, 15_000)
        else await callUnary(c.sync, 'ListIndex', { bucket: BUCKET, shard: i % 4, limit: 1000 }, 15_000)
        counts.ok++
        counts.lists++
      } catch (err) { record(err) }
    }
  }
  const healthLoop = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const st = await new Promise<string>((resolve) => health.Check({ service: '' }, { deadline: Date.now() + 2000 }, (err, res) => resolve(err !== null ? `error ${grpc.status[err.code]}` : String(res?.status))))
      counts.health++
      if (st !== 'SERVING') { counts.healthBad++; if (others.length < 10) others.push(`health: ${st}`) }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
  let peakSampled = 0
  const sampler = setInterval(() => { try { peakSampled = Math.max(peakSampled, vm(pid, 'VmRSS')) } catch {} }, 250)
  const started = Date.now()
  await Promise.all([
    ...Array.from({ length: 64 }, async (_, i) => await writer(i)),
    ...Array.from({ length: 32 }, async (_, i) => await lister(i)),
    healthLoop()
  ])
  clearInterval(sampler)
  const secs = (Date.now() - started) / 1000

  t.equal(node.proc?.exitCode, null, 'node did not crash')
  t.ok(counts.health >= 10, `health was checked ${counts.health} times during the storm`)
  t.equal(counts.healthBad, 0, 'health answered SERVING every time')
  t.equal(counts.other, 0, 'every failure was RESOURCE_EXHAUSTED / OVERLOADED', { others })
  t.ok(counts.overloaded > 0, `load was shed (${counts.overloaded} calls)`)
  t.ok(counts.writes > 0 && counts.lists > 0, 'writes and listings also succeeded')
  // Still works after the storm.
  const info = await putObject(node.clients, BUCKET, 'after-storm', Buffer.from('ok'))
  t.equal(info.key, 'after-storm', 'node takes writes after the storm')
  const h = await new Promise<string>((resolve) => health.Check({ service: '' }, { deadline: Date.now() + 5000 }, (err, res) => resolve(err !== null ? 'error' : String(res?.status))))
  t.equal(h, 'SERVING', 'health SERVING after the storm')
  const hwm = vm(pid, 'VmHWM')
  t.comment(`storm ${secs.toFixed(1)} s: ${counts.ok} ok (${counts.writes} writes, ${counts.lists} listings), ${counts.overloaded} shed, ${counts.other} other errors, ${counts.health} health checks`)
  t.comment(`node RSS: before ${(rssBefore / 1024).toFixed(0)} MiB, peak sampled ${(peakSampled / 1024).toFixed(0)} MiB, VmHWM ${(hwm / 1024).toFixed(0)} MiB`)
  if (others.length > 0) t.comment(`other errors: ${others.join('; ')}`)
})
