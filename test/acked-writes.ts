/**
 * Test helper for crash tests: writers that put and delete objects of a
 * node over gRPC until stopped (or until the node dies under them), keeping
 * per key the etag of the last acknowledged write (null: deleted) and the
 * one in flight; and the check after a restart that each key holds the one
 * or the other.
 */
import crypto from 'node:crypto'
import { getObject, putObject } from '../node/cli/object-commands'
import { callUnary } from '../node/rpc/clients'
import type { NodeProcess } from '../scripts/lib/cluster'

const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex')

export class AckedWrites {
  readonly acked = new Map<string, string | null>()
  readonly inFlight = new Map<string, string | null>()
  acks = 0

  /** `body()` makes the content of each put; one write in five of a live key is a delete. */
  constructor (private readonly node: NodeProcess, private readonly bucket: string, private readonly body: () => Buffer) {}

  /** Writes `key` again and again until `stop.now`, or until a call fails (the node was killed). */
  async writer (key: string, stop: { now: boolean }): Promise<void> {
    while (!stop.now) {
      const remove = this.acked.get(key) != null && Math.random() < 0.2
      const body = remove ? undefined : this.body()
      this.inFlight.set(key, body === undefined ? null : md5(body))
      try {
        if (body === undefined) await callUnary(this.node.clients.object, 'DeleteObject', { bucket: this.bucket, key })
        else await putObject(this.node.clients, this.bucket, key, body)
        this.acked.set(key, body === undefined ? null : md5(body))
        this.inFlight.delete(key)
        this.acks++
      } catch {
        return // the node was killed: the write stays in flight
      }
    }
  }

  /** The etag of what the node holds for `key` (null: absent), checked against the content. */
  async etagOf (key: string): Promise<string | null> {
    try {
      const g = await getObject(this.node.clients, this.bucket, key, undefined, 20_000)
      if (g.data === undefined || g.info.etag !== md5(g.data)) throw new Error(`${key}: content does not match its etag`)
      return g.info.etag
    } catch (err) {
      if ((err as { code?: string }).code === 'OBJECT_NOT_FOUND') return null
      throw err
    }
  }

  /**
   * After a restart: the keys that hold neither their acknowledged version
   * nor the one in flight at the kill. What each holds becomes acknowledged.
   */
  async wrongAfterRestart (keys: string[]): Promise<string[]> {
    const wrong: string[] = []
    for (const k of keys) {
      const now = await this.etagOf(k)
      const ok = now === (this.acked.get(k) ?? null) || (this.inFlight.has(k) && now === this.inFlight.get(k))
      if (!ok) wrong.push(`${k}: ${String(now)}`)
      else this.acked.set(k, now)
      this.inFlight.delete(k)
    }
    return wrong
  }
}
