/**
 * `shardsync verify`: compares two sites bucket by bucket, by key, size and
 * etag, and with --deep by content (MD5 of the bytes actually read from each
 * site). Both listings are streamed page by page and merged in the servers'
 * key order (UTF-8 bytes), so memory stays flat on any bucket size.
 */
import crypto from 'node:crypto'
import type { Clients } from '../rpc/clients'
import type { ObjectInfo__Output } from '../rpc/generated/shardsync/v1/ObjectInfo'
import { getObject, listAllObjects, listBuckets } from './object-commands'
import { Progress } from './progress'

export interface Difference { bucket: string, key: string, kind: 'missing-on-target' | 'extra-on-target' | 'size' | 'etag' | 'content' | 'bucket-missing-on-target' }

export interface VerifyReport { buckets: number, objects: number, differences: number }

export async function verifySites (source: Clients, target: Clients, opts: { bucket?: string, deep: boolean, onDifference: (d: Difference) => void, quiet?: boolean }): Promise<VerifyReport> {
  const report: VerifyReport = { buckets: 0, objects: 0, differences: 0 }
  const diff = (d: Difference): void => { report.differences++; opts.onDifference(d) }
  const srcBuckets = (await listBuckets(source)).filter(b => opts.bucket === undefined || b.name === opts.bucket)
  const tgtNames = new Set((await listBuckets(target)).map(b => b.name))
  if (opts.bucket !== undefined && srcBuckets.length === 0) throw new Error(`bucket ${opts.bucket} not found on source`)
  for (const b of srcBuckets) {
    report.buckets++
    if (!tgtNames.has(b.name)) { diff({ bucket: b.name, key: '', kind: 'bucket-missing-on-target' }); continue }
    const progress = new Progress(`verify ${b.name}`, Number(b.objectCount), opts.quiet === true)
    await compareBucket(source, target, b.name, opts.deep, diff, () => { report.objects++; progress.tick(1) })
    progress.stop()
  }
  return report
}

async function compareBucket (source: Clients, target: Clients, bucket: string, deep: boolean, diff: (d: Difference) => void, counted: () => void): Promise<void> {
  const a = listAllObjects(source, bucket)
  const b = listAllObjects(target, bucket)
  let x = await a.next()
  let y = await b.next()
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : compareKeys(x.value.key, y.value.key)
    if (order < 0) {
      counted()
      diff({ bucket, key: (x.value as ObjectInfo__Output).key, kind: 'missing-on-target' })
      x = await a.next()
    } else if (order > 0) {
      diff({ bucket, key: (y.value as ObjectInfo__Output).key, kind: 'extra-on-target' })
      y = await b.next()
    } else {
      counted()
      const s = x.value as ObjectInfo__Output
      const t = y.value as ObjectInfo__Output
      if (Number(s.size) !== Number(t.size)) diff({ bucket, key: s.key, kind: 'size' })
      else if (s.etag !== t.etag) diff({ bucket, key: s.key, kind: 'etag' })
      else if (deep && (await contentMd5(source, bucket, s.key)) !== (await contentMd5(target, bucket, t.key))) diff({ bucket, key: s.key, kind: 'content' })
      x = await a.next()
      y = await b.next()
    }
  }
}

/** Servers list in UTF-8 byte order; JS strings compare by UTF-16 units. */
export function compareKeys (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

async function contentMd5 (c: Clients, bucket: string, key: string): Promise<string> {
  const hash = crypto.createHash('md5')
  const sink = { write: (chunk: Buffer) => { hash.update(chunk); return true }, once: () => sink } as unknown as NodeJS.WritableStream
  await getObject(c, bucket, key, sink)
  return hash.digest('hex')
}
