/**
 * Source side of log trimming: the newest position report of each peer on
 * each bucket (q!<bucketId>!<peerId>, one record, replaced whole by each
 * report). Written by SourceApi.reportPositions (a peer's ReportPositions
 * call), read by the trimmer (node/log-trimmer.ts), released by RemovePeer
 * and by a bucket's drop job (storage/bucket-drop.ts).
 */
import { writeBatch, type Database } from './database'
import * as keys from './keys'
import type { PositionReportRecord } from './records'

export class PositionStore {
  constructor (private readonly db: Database) {}

  async put (bucketId: string, peerId: string, report: PositionReportRecord): Promise<void> {
    await this.db.put(keys.positionReportKey(bucketId, peerId), report)
  }

  /** Reports on one bucket, by peer. */
  async list (bucketId: string): Promise<Map<string, PositionReportRecord>> {
    const prefix = keys.bucketPositionsPrefix(bucketId)
    const out = new Map<string, PositionReportRecord>()
    for await (const [k, v] of this.db.iterator(keys.prefixRange(prefix))) out.set(k.slice(prefix.length), v as PositionReportRecord)
    return out
  }

  /** Every report of one peer, on every bucket (RemovePeer), in one batch. */
  async removePeer (peerId: string): Promise<number> {
    const gone: string[] = []
    for await (const k of this.db.keys(keys.prefixRange(keys.POSITIONS_PREFIX))) {
      if (k.slice(k.lastIndexOf('!') + 1) === peerId) gone.push(k)
    }
    if (gone.length > 0) await writeBatch(this.db, gone.map(key => ({ type: 'del' as const, key })))
    return gone.length
  }
}
