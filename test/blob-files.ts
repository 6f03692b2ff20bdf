/**
 * Test helper: the blob files a node's data directory holds
 * (DIR/blobs/<xx>/<dataId>, storage/blob-store.ts), by data id, with their sizes.
 */
import fs from 'node:fs'
import path from 'node:path'

export function blobFiles (dataDir: string): Map<string, number> {
  const files = new Map<string, number>()
  const blobDir = path.join(dataDir, 'blobs')
  for (const sub of fs.existsSync(blobDir) ? fs.readdirSync(blobDir) : []) {
    for (const f of fs.readdirSync(path.join(blobDir, sub))) files.set(f, fs.statSync(path.join(blobDir, sub, f)).size)
  }
  return files
}
