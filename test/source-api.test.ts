/**
 * SourceApi (node/source-api.ts) on a real LevelDB, without gRPC: the parts
 * of PullChanges that save a target work.
 *
 * - Inline content: small puts carry their content, only while the entry
 *   is still the object's current version, within the byte budget, never
 *   for big objects or deletes. Shown to fail: attaching data without the
 *   version check hands a target old content under a new entry (the
 *   overwrite case below), and ignoring the budget overfills answers.
 * - exclude_origin with the origin-run cache: a requester's own changes are
 *   skipped, others are returned, positions cover both. A poll that waits
 *   looks again only at the shards appended to; shown to fail: with no look
 *   after the first, the other origin's change is never answered.
 * - One look over many shards reads their entries in one LevelDB read (by
 *   key, no iterator), and still keeps the answer's rules: at most `limit`
 *   entries read, each shard's entries contiguous from its cursor,
 *   positions where the reading stopped, own runs skipped. Shown to fail:
 *   the shard-by-shard reads of before, and reading the ranges at once
 *   with one iterator each, open 8 iterators.
 * - StreamShard's reference_origin_site: the requester's own writes come as
 *   references built from the index entries (no head or content of theirs
 *   is read), the rest as before; what the stream covers is the same.
 *   Shown to fail: sending them inline (the rule ignored) fails the
 *   objects/references split, and building the references from heads read
 *   first (readInline) fails the no-read check.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import zlib from 'node:zlib'
import t, { type Test } from 'tap'
import { openDatabase, type Database } from '../storage/database'
import { ObjectStore } from '../storage/object-store'
import { SourceApi } from '../node/source-api'

async function open (t: Test): Promise<{ store: ObjectStore, api: SourceApi, db: Database }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardsync-source-api-'))
  const db = await openDatabase(dir)
  const store = await ObjectStore.open(db, { siteId: 'A', maxObjectBytes: 16 * 1024 * 1024, defaults: { initialShards: 1, splitThreshold: 1_000_000, autoSplit: false } })
  t.teardown(async () => {
    store.close()
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { store, api: new SourceApi(store), db }
}

const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex')

t.test('PullChanges inlines small current content within the budget', async t => {
  const { store, api } = await open(t)
  await store.createBucket({ name: 'bkt' })
  const a1 = Buffer.from('a, first version')
  const b1 = crypto.randomBytes(1000)
  const big = crypto.randomBytes(100 * 1024)
  await store.putObject('bkt', 'a', a1)
  await store.putObject('bkt', 'small', b1)
  await store.putObject('bkt', 'big', big)
  await store.putObject('bkt', 'gone', Buffer.from('x'))
  await store.deleteObject('bkt', 'gone')

  const none = await api.pullChanges('bkt', [{ shard: 0, afterSeq: 0 }], { limit: 100, waitMs: 0, excludeOrigin: '' })
  t.equal(none.entries.filter(e => e.data !== undefined).length, 0, 'no content unless asked for')

  const all = await api.pullChanges('bkt', [{ shard: 0, afterSeq: 0 }], { limit: 100, waitMs: 0, excludeOrigin: '', maxInlineBytes: 1 << 20 })
  const byKey = new Map(all.entries.filter(e => !e.deleted).map(e => [e.info.key, e]))
  t.same(byKey.get('a')?.data, a1, 'small put: content inline')
  t.equal(byKey.get('a')?.info.crc32, zlib.crc32(a1), 'with its CRC-32, so the target checks it without an MD5')
  t.equal(byKey.get('big')?.info.crc32, undefined, 'an entry without content has no checksum')
  t.equal(md5(byKey.get('small')?.data ?? Buffer.alloc(0)), byKey.get('small')?.info.etag, 'content matches the entry etag')
  t.equal(byKey.get('big')?.data, undefined, 'over 64 KiB: fetched, not inline')
  t.equal(all.entries.filter(e => e.info.key === 'gone' && e.data !== undefined).length, 0, 'a deleted object: no content for its old put, none for the delete')

  // Overwrite a: its first entry is no longer the current version.
  const a2 = Buffer.from('a, second version')
  await store.putObject('bkt', 'a', a2)
  const again = await api.pullChanges('bkt', [{ shard: 0, afterSeq: 0 }], { limit: 100, waitMs: 0, excludeOrigin: '', maxInlineBytes: 1 << 20 })
  const aEntries = again.entries.filter(e => e.info.key === 'a')
  t.equal(aEntries.length, 2)
  t.equal(aEntries[0].data, undefined, 'an overwritten version carries no content')
  t.same(aEntries[1].data, a2, 'the current version does')
  t.equal(aEntries[1].info.crc32, zlib.crc32(a2), 'with the checksum of that content')
  const fetched = []
  for await (const item of api.fetchObjects('bkt', ['a', 'big', 'gone'])) fetched.push(item)
  t.same(fetched.map(f => f.info?.crc32), [zlib.crc32(a2), zlib.crc32(big), undefined], 'FetchObjects: each object with its checksum; a miss without')

  const tight = await api.pullChanges('bkt', [{ shard: 0, afterSeq: 0 }], { limit: 100, waitMs: 0, excludeOrigin: '', maxInlineBytes: b1.length })
  const inlined = tight.entries.filter(e => e.data !== undefined).reduce((n, e) => n + (e.data?.length ?? 0), 0)
  t.ok(inlined <= b1.length, `budget kept: ${inlined} <= ${b1.length} bytes inline`)
})

t.test('exclude_origin skips the requester\'s own changes and moves positions past them', async t => {
  const { store, api } = await open(t)
  await store.createBucket({ name: 'bkt' })
  const mine = (key: string, mtime: number): ReturnType<typeof store.applyReplicaObjects> => {
    const data = Buffer.from(key)
    return store.applyReplicaObjects('bkt', [{ key, version: { size: data.length, etag: md5(data), mtime, site: 'T' }, data }])
  }
  for (let i = 0; i < 50; i++) await mine(`t-${i}`, 1000 + i)
  await store.putObject('bkt', 'local-1', Buffer.from('l1'))
  for (let i = 50; i < 60; i++) await mine(`t-${i}`, 1000 + i)
  await store.putObject('bkt', 'local-2', Buffer.from('l2'))
  const head = store.shards('bkt')[0].logSeq
  const r = await api.pullChanges('bkt', [{ shard: 0, afterSeq: 0 }], { limit: 1000, waitMs: 0, excludeOrigin: 'T' })
  t.same(r.entries.map(e => e.info.key), ['local-1', 'local-2'], 'only other origins')
  t.same(r.positions, [{ shard: 0, seq: head }], 'position covers the skipped entries')
  // Only skipped entries after the cursor: the answer waits for others, up to wait_ms.
  for (let i = 60; i < 65; i++) await mine(`t-${i}`, 1000 + i)
  const head2 = store.shards('bkt')[0].logSeq
  const started = Date.now()
  const quiet = await api.pullChanges('bkt', [{ shard: 0, afterSeq: head }], { limit: 1000, waitMs: 300, excludeOrigin: 'T' })
  t.equal(quiet.entries.length, 0)
  t.same(quiet.positions, [{ shard: 0, seq: head2 }], 'and still reports how far it got')
  t.ok(Date.now() - started >= 250, 'an answer of skipped entries only waits out wait_ms')
})

t.test('a waiting poll looks again at the shards appended to: none of their appends is missed, the other positions stay', async t => {
  const { store, api } = await open(t)
  await store.createBucket({ name: 'many', initialShards: 64 })
  const mine = async (key: string, mtime: number): Promise<void> => {
    const data = Buffer.from(key)
    await store.applyReplicaObjects('many', [{ key, version: { size: data.length, etag: md5(data), mtime, site: 'T' }, data }])
  }
  for (let i = 0; i < 64; i++) await mine(`seed-${i}`, 500 + i)
  const cursors = store.shards('many').map(h => ({ shard: h.shard, afterSeq: h.logSeq }))
  const polling = api.pullChanges('many', cursors, { limit: 1000, waitMs: 30_000, excludeOrigin: 'T' })
  // The requester's own changes on many shards (skipped: the poll waits on),
  // then, in the same moment, one change of another origin.
  await new Promise(resolve => setImmediate(resolve))
  for (let i = 0; i < 40; i++) await mine(`own-${i}`, 2000 + i)
  await Promise.all([
    ...Array.from({ length: 20 }, async (_, i) => await mine(`own-late-${i}`, 3000 + i)),
    store.putObject('many', 'theirs', Buffer.from('x'))
  ])
  const r = await polling
  t.same(r.entries.map(e => e.info.key), ['theirs'], 'the change of another origin is answered')
  t.same(r.positions, store.shards('many').map(h => ({ shard: h.shard, seq: h.logSeq })), 'every position at its shard\'s head: skipped ones passed, untouched ones kept')
})

t.test('PullChanges reads the logs of all its shards in one read, within the limit', async t => {
  const { store, api, db } = await open(t)
  const shards = 8
  await store.createBucket({ name: 'bkt', initialShards: shards })
  for (let i = 0; i < 80; i++) await store.putObject('bkt', `local-${i}`, Buffer.from(`l${i}`))
  // Runs of the requester's own changes between the local ones.
  for (let i = 0; i < 40; i++) {
    const data = Buffer.from(`t${i}`)
    await store.applyReplicaObjects('bkt', [{ key: `t-${i}`, version: { size: data.length, etag: md5(data), mtime: Date.now() + 1000 + i, site: 'T' }, data }])
  }
  for (let i = 80; i < 120; i++) await store.putObject('bkt', `local-${i}`, Buffer.from(`l${i}`))
  const heads = store.shards('bkt').map(h => h.logSeq)
  t.ok(heads.every(h => h > 0), 'every shard has entries')

  let iterators = 0
  let getManys = 0
  const iterator = db.iterator.bind(db)
  const getMany = db.getMany.bind(db)
  db.iterator = ((...args: Parameters<typeof db.iterator>) => { iterators++; return iterator(...args) }) as typeof db.iterator
  db.getMany = ((...args: Parameters<typeof db.getMany>) => { getManys++; return getMany(...args) }) as typeof db.getMany
  const cursors = heads.map((_, shard) => ({ shard, afterSeq: 0 }))
  const all = await api.pullChanges('bkt', cursors, { limit: 1000, waitMs: 0, excludeOrigin: 'T' })
  t.same({ iterators, getManys }, { iterators: 0, getManys: 1 }, `the entries of all ${shards} shards in one read`)
  t.same(all.entries.map(e => e.info.key).sort(), Array.from({ length: 120 }, (_, i) => `local-${i}`).sort(), 'all other-origin entries, none of T')
  t.same(all.positions.map(p => p.seq), all.positions.map(p => heads[p.shard]), 'positions at the heads')

  // A limit below what there is: at most that many read, each shard's part
  // contiguous from its cursor and ending at its position.
  for (let round = 0; round < 5; round++) {
    const part = await api.pullChanges('bkt', cursors, { limit: 17, waitMs: 0, excludeOrigin: '' })
    t.ok(part.entries.length <= 17 && part.entries.length > 0, 'within the limit')
    for (const p of part.positions) {
      const seqs = part.entries.filter(e => e.shard === p.shard).map(e => e.seq)
      t.same(seqs, Array.from({ length: p.seq }, (_, i) => i + 1), `shard ${p.shard}: 1..position, in order`)
    }
  }
})

t.test('StreamShard: entries of reference_origin_site are references from the index alone, nothing of theirs read', async t => {
  const { store, api } = await open(t)
  await store.createBucket({ name: 'bkt' })
  const theirs = async (key: string, data: Buffer, mtime: number): Promise<void> => {
    await store.applyReplicaObjects('bkt', [{ key, version: { size: data.length, etag: md5(data), mtime, site: 'T' }, data }])
  }
  const big = crypto.randomBytes(100 * 1024)
  for (let i = 0; i < 40; i++) await theirs(`t-${String(i).padStart(2, '0')}`, crypto.randomBytes(100 + i), 1000 + i)
  await theirs('t-big', big, 2000)
  await theirs('t-gone', Buffer.from('gone'), 2001)
  await store.deleteObject('bkt', 't-gone')
  for (let i = 0; i < 30; i++) await store.putObject('bkt', `a-${String(i).padStart(2, '0')}`, crypto.randomBytes(200 + i))
  await store.putObject('bkt', 'a-big', big)

  // What the stream asks of the store: keys whose heads and content it reads.
  const headsRead: string[] = []
  const contentRead: string[] = []
  const getHeads = store.getHeads.bind(store)
  const readSmallMany = store.readSmallMany.bind(store)
  store.getHeads = async (bucket, keys) => { headsRead.push(...keys); return await getHeads(bucket, keys) }
  store.readSmallMany = async (heads) => { for (const h of heads) if (h !== undefined) contentRead.push(h.etag); return await readSmallMany(heads) }

  const stream = async (referenceOriginSite?: string): Promise<{ objects: string[], references: Map<string, unknown>, tombstones: string[], last: string }> => {
    const objects: string[] = []
    const references = new Map<string, unknown>()
    const tombstones: string[] = []
    let last = ''
    const wrong: string[] = []
    for await (const b of api.streamShard('bkt', 0, '', { includeDeleted: true, inlineMaxBytes: 1 << 20, referenceOriginSite }).batches) {
      for (const o of b.objects) {
        objects.push(o.key)
        if (md5(Buffer.concat(o.parts)) !== o.info.etag) wrong.push(o.key)
      }
      for (const r of b.references) references.set(r.key, r)
      tombstones.push(...b.tombstones.map(x => x.key))
      last = b.resumeMarker
      if (b.done) break
    }
    t.same(wrong, [], `${referenceOriginSite ?? 'no reference_origin_site'}: inline content matches its etag`)
    return { objects: objects.sort(), references, tombstones, last }
  }
  const page = await api.listIndex('bkt', 0, '', 1000, true)
  const live = page.entries.map(e => e.key).sort()
  const ofT = live.filter(k => k.startsWith('t-'))
  const ofA = live.filter(k => k.startsWith('a-'))
  t.equal(live.length, 72)

  const plain = await stream()
  t.same(plain.objects, live.filter(k => !k.endsWith('-big')), 'without the field: every small object inline')
  t.same([...plain.references.keys()].sort(), ['a-big', 't-big'], 'only the large ones as references')

  headsRead.length = 0
  contentRead.length = 0
  const own = await stream('T')
  t.same(own.objects, ofA.filter(k => k !== 'a-big'), 'reference_origin_site T: only the small objects of other origins inline')
  t.same([...own.references.keys()].sort(), [...ofT, 'a-big'].sort(), 'every live entry of T as a reference, small or large')
  const versions = page.entries.filter(e => e.site === 'T').map(e => ({ key: e.key, size: e.size, etag: e.etag, mtime: e.mtime, site: 'T' }))
  t.same(versions.map(v => own.references.get(v.key)), versions, 'each of them the index entry\'s version')
  t.same(headsRead.filter(k => k.startsWith('t-')), [], 'no head of T\'s entries read')
  const etagsOfT = new Set(page.entries.filter(e => e.site === 'T').map(e => e.etag))
  t.same(contentRead.filter(e => etagsOfT.has(e)), [], 'no content of T\'s entries read')
  t.same(own.tombstones, plain.tombstones, 'the same tombstones (a tombstone of T\'s included)')
  t.ok(own.tombstones.includes('t-gone'))
  t.equal(own.last, plain.last, 'the stream covers the same range')

  const other = await stream('A')
  t.same(other.objects, ofT.filter(k => k !== 't-big'), 'reference_origin_site A: the other way round')
  t.same([...other.references.keys()].sort(), [...ofA, 't-big'].sort())
  const none = await stream('nobody')
  t.same(none.objects, plain.objects, 'a site with no entries changes nothing')
})
