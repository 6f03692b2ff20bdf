/**
 * storage/database.ts hands classic-level only the tuning that is set.
 * Its binding reads a present option with napi_get_value_uint32 without
 * checking the result, so `{ writeBufferSize: undefined }` gave LevelDB
 * whatever was on the stack: in one measurement no memtable flush at all in
 * 12 MB of writes, where the 4 MiB default flushes three times. Passing the
 * tuning through as it came fails here.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { levelOptions, openDatabase, type DatabaseTuning } from '../storage/database'

async function flushesFor (tuning: DatabaseTuning | undefined): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-options-'))
  try {
    const db = await openDatabase(dir, tuning)
    const value = Buffer.alloc(1000, 7)
    for (let i = 0; i < 12_000; i++) await db.put(`k${String(i).padStart(8, '0')}`, value, { valueEncoding: 'buffer' })
    await db.close()
    return (fs.readFileSync(path.join(dir, 'LOG'), 'utf8').match(/Level-0 table #\d+: started/g) ?? []).length
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

t.test('options that are not set are left out', async (t) => {
  t.same(levelOptions({}), {})
  t.same(levelOptions({ maxOpenFiles: undefined, cacheBytes: undefined, writeBufferBytes: undefined }), {})
  t.same(levelOptions({ maxOpenFiles: 100, cacheBytes: 1 << 20, writeBufferBytes: 1 << 21 }), { maxOpenFiles: 100, cacheSize: 1 << 20, writeBufferSize: 1 << 21 })
})

t.test('an unset write buffer is LevelDB\'s 4 MiB default; a set one is used', async (t) => {
  const unset = await flushesFor({ writeBufferBytes: undefined })
  const none = await flushesFor(undefined)
  const small = await flushesFor({ writeBufferBytes: 1 << 20 })
  t.ok(unset >= 2 && unset <= 4, `12 MB with the write buffer unset: ${unset} flushes (4 MiB default)`)
  t.equal(unset, none, 'the same as no tuning at all')
  t.ok(small >= 9, `with 1 MiB: ${small} flushes`)
})
