/**
 * Disk-full guard of a node: knows whether writes can go to disk now, and
 * brings them back on its own once space is freed. Made and owned by
 * ShardsyncNode; the rpc layer turns its 'change' events into the health
 * status of "shardsync.v1.Writes" (node/rpc/health.ts).
 *
 * - A batch that fails because the disk is full (storage/database.ts,
 *   onNoSpace) turns writes off: 'change' (false). The failed write itself
 *   answers RESOURCE_EXHAUSTED / NO_SPACE and stored nothing (one batch).
 * - While off, every PROBE_MS it looks at the free space of the data
 *   directory; with at least RESUME_FREE_BYTES free it writes a probe (put
 *   and delete of keys.probeKey(), one batch) to each database. When every
 *   probe succeeds writes are on again: 'change' (true).
 * - A database whose log write failed is closed and reopened before its
 *   probe (storage/database.ts refuses writes to it until then: what
 *   LevelDB appends after a torn log record can be lost at the next open).
 * - LevelDB keeps refusing writes after a failed background compaction
 *   (its sticky background error) even with space free. A probe that fails
 *   so while the space is there makes the guard close and reopen that
 *   database (the same instance: every holder's reference stays valid;
 *   abstract-level queues calls made while it opens). Reads go on between
 *   (iterators open at that moment end with an error and are retried by
 *   their callers, as after any failed read).
 * Nothing acknowledged is touched: a failed batch wrote nothing, and a
 * reopen replays LevelDB's log like a restart does.
 */
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import type { Logger } from 'pino'
import { isNoSpace, needsReopen, onNoSpace, reopenAfterNoSpace, writeBatch, type Database } from '../storage/database'
import * as keys from '../storage/keys'

const PROBE_MS = 1000
/** Free bytes needed before a probe: a LevelDB memtable flush (4 MiB) and some. */
export const RESUME_FREE_BYTES = 8 * 1024 * 1024

export class SpaceGuard extends EventEmitter {
  private ok = true
  private timer: NodeJS.Timeout | undefined
  private probing = false
  private closed = false
  /** Times writes went off, and databases reopened, since start (metrics). */
  readonly counts = { full: 0, reopened: 0 }

  constructor (private readonly dbs: Database[], private readonly dataDir: string, private readonly log: Logger) {
    super()
    for (const db of dbs) onNoSpace(db, () => this.full())
  }

  /** Whether writes can go to disk now (as far as the node knows). */
  get writable (): boolean { return this.ok }

  close (): void {
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private full (): void {
    if (this.closed || !this.ok) return
    this.ok = false
    this.counts.full++
    this.log.error({ dataDir: this.dataDir }, 'disk full: writes refused (NO_SPACE) until space is freed; reads go on')
    this.emit('change', false)
    this.timer = setInterval(() => { void this.probe() }, PROBE_MS)
    this.timer.unref()
  }

  private freeBytes (): number {
    try {
      const s = fs.statfsSync(this.dataDir)
      return s.bavail * s.bsize
    } catch {
      return 0
    }
  }

  private async probe (): Promise<void> {
    if (this.probing || this.closed || this.ok) return
    this.probing = true
    try {
      if (this.freeBytes() < RESUME_FREE_BYTES) return
      for (const db of this.dbs) {
        // A database whose log write failed is reopened first (storage/database.ts, needsReopen).
        if (needsReopen(db)) { await reopenAfterNoSpace(db); this.counts.reopened++ }
        if (await this.tryWrite(db)) continue
        // Space is there, LevelDB still refuses: its sticky background error.
        this.log.warn({ dataDir: this.dataDir }, 'disk has space again but LevelDB still refuses writes: reopening it')
        await reopenAfterNoSpace(db)
        this.counts.reopened++
        if (!await this.tryWrite(db)) return
      }
      if (this.closed) return
      this.ok = true
      if (this.timer !== undefined) clearInterval(this.timer)
      this.timer = undefined
      this.log.info({ dataDir: this.dataDir }, 'disk has space again: writes resume')
      this.emit('change', true)
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'disk-space probe failed; retrying')
    } finally {
      this.probing = false
    }
  }

  /** True if a probe batch could be written; false if the disk (still) refuses it. */
  private async tryWrite (db: Database): Promise<boolean> {
    try {
      await writeBatch(db, [{ type: 'put', key: keys.probeKey(), value: Date.now() }, { type: 'del', key: keys.probeKey() }])
      return true
    } catch (err) {
      if (isNoSpace(err) || (err as { code?: string }).code === 'NO_SPACE') return false
      throw err
    }
  }
}
