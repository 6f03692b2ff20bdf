/**
 * Test helper: audits a stopped node's small-object content against its
 * heads (storage/content-store.ts). Chunks live in DIR/content; every chunk
 * must belong to a live head, every live head must have all its chunks, and
 * once the node stopped cleanly no write-ahead intent (main database) may be
 * left.
 */
import path from 'node:path'
import { CONTENT_DIR } from '../storage/content-store'
import { openDatabase } from '../storage/database'
import * as keys from '../storage/keys'
import type { ObjectHead } from '../storage/records'

export interface ContentAudit {
  /** Live heads with content chunks (not blobs). */
  liveHeads: number
  /** Chunk keys in the content database. */
  chunkKeys: number
  /** Chunk keys no live head names (first 10). */
  orphans: string[]
  /** Live heads missing a chunk (first 10). */
  missing: string[]
  /** Write-ahead intents left (main database). */
  intents: number
  /** Chunk keys left in the main database (a former layout). */
  chunksInMain: number
}

export async function auditContent (dataDir: string): Promise<ContentAudit> {
  const db = await openDatabase(dataDir)
  const content = await openDatabase(path.join(dataDir, CONTENT_DIR))
  try {
    const live = new Map<string, { key: string, chunks: number, seen: number }>()
    for await (const [k, v] of db.iterator({ gt: 'h!', lt: 'h"' })) {
      const head = v as ObjectHead
      if (head.deleted !== true && head.blob !== true && head.dataId !== undefined && head.chunks > 0) live.set(head.dataId, { key: k, chunks: head.chunks, seen: 0 })
    }
    let chunkKeys = 0
    const orphans: string[] = []
    for await (const k of content.keys(keys.prefixRange(keys.CHUNKS_PREFIX))) {
      chunkKeys++
      const l = live.get(k.slice(2, k.lastIndexOf('!')))
      if (l === undefined || keys.trailingHex(k) >= l.chunks) {
        if (orphans.length < 10) orphans.push(k)
      } else {
        l.seen++
      }
    }
    const missing = [...live.values()].filter(l => l.seen !== l.chunks).slice(0, 10).map(l => `${l.key}: ${l.seen} of ${l.chunks} chunks`)
    let intents = 0
    for await (const _ of db.keys(keys.prefixRange(keys.INTENTS_PREFIX))) intents++
    let chunksInMain = 0
    for await (const _ of db.keys(keys.prefixRange(keys.CHUNKS_PREFIX))) chunksInMain++
    return { liveHeads: live.size, chunkKeys, orphans, missing, intents, chunksInMain }
  } finally {
    await content.close()
    await db.close()
  }
}
