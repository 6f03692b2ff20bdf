/**
 * shardsync_leveldb_size_bytes counts both of a node's LevelDBs: the main
 * one's files in the data directory and the content database's in
 * DIR/content (storage/content-store.ts), where most bytes of small objects
 * are. Counting the top level alone fails here.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { leveldbBytes } from '../../node/metrics'
import { CONTENT_DIR } from '../../storage/content-store'

t.test('both databases\' files count, and nothing else', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-size-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, '000005.ldb'), Buffer.alloc(1000))
  fs.writeFileSync(path.join(dir, 'MANIFEST-000002'), Buffer.alloc(24))
  fs.mkdirSync(path.join(dir, CONTENT_DIR))
  fs.writeFileSync(path.join(dir, CONTENT_DIR, '000007.ldb'), Buffer.alloc(50_000))
  fs.writeFileSync(path.join(dir, CONTENT_DIR, '000008.log'), Buffer.alloc(300))
  t.equal(leveldbBytes(dir) - fs.statSync(path.join(dir, CONTENT_DIR)).size, 1000 + 24 + 50_000 + 300)
  t.equal(leveldbBytes(path.join(dir, 'missing')), 0, 'a missing directory is 0, not an error')
})
