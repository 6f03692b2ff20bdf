/**
 * One shard's index read in key order with ONE iterator, from a marker to
 * the end: what StreamShard walks (node/source-stream.ts). Unlike
 * listIndex, which opens an iterator per page, the scan keeps its iterator
 * (and with it LevelDB's implicit snapshot) open for the whole stream, and
 * hands entries out in runs read by one native call (nextv).
 *
 * The caller owns the scan and must close() it (a cancelled stream too);
 * closing twice is harmless.
 */
import type { Database } from './database'
import * as keys from './keys'
import type { IndexEntry } from './records'

/** Entries read per native call. */
const READ_RUN = 256

export interface ScannedEntry { key: string, entry: IndexEntry }

export class IndexScan {
  private readonly it: ReturnType<Database['iterator']>
  private readonly prefixLength: number
  private buffered: ScannedEntry[] = []
  private ended = false
  private closed = false

  constructor (db: Database, bucketId: string, shard: number, marker: string) {
    const prefix = keys.indexPrefix(bucketId, shard)
    const range = { ...keys.prefixRange(prefix) }
    if (marker !== '') range.gt = prefix + marker
    this.it = db.iterator(range)
    this.prefixLength = prefix.length
  }

  /** Up to `max` next entries; fewer (or none) only at the end of the shard. */
  async take (max: number): Promise<ScannedEntry[]> {
    while (this.buffered.length < max && !this.ended) await this.fill()
    return this.buffered.splice(0, max)
  }

  /** Hands entries taken but not used back: the next take() starts with them. */
  putBack (entries: ScannedEntry[]): void {
    this.buffered = [...entries, ...this.buffered]
  }

  /** True once every entry has been handed out. */
  async exhausted (): Promise<boolean> {
    if (this.buffered.length === 0 && !this.ended) await this.fill()
    return this.buffered.length === 0 && this.ended
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.it.close()
  }

  private async fill (): Promise<void> {
    const run = await this.it.nextv(READ_RUN)
    if (run.length === 0) { this.ended = true; return }
    for (const [k, v] of run) this.buffered.push({ key: (k as string).slice(this.prefixLength), entry: v as IndexEntry })
  }
}
