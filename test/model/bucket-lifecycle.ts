/**
 * Model of the bucket lifecycle rule (node/sync/bucket-rules.ts) on two
 * sites, in memory: random bucket creates and deletes, object puts and
 * deletes, and the two sync steps of a real node in any order (reading the
 * peer's bucket list and acting on it, as PeerSync does; copying a peer
 * bucket's objects into the bound local bucket, as BucketSync does). Then
 * sync runs to quiescence and the invariants are checked.
 *
 * Self-contained (only the rule module is shared with the nodes), so that it
 * can be folded into a wider two-site model later.
 *
 * Modes: 'rule' (the real decide()); negative controls 'no-replication'
 * (main before this change: a peer's live bucket is created by name, deletes
 * are never sent) and 'delete-wins' (a tombstone drops the bucket whatever
 * it holds, and a deleted generation never comes back).
 */
import { compareVersions } from '../../storage/records'
import { decide, holdsGen, laterVersion, aboveFloor, type BucketTombstone, type Generation, type PeerBucketEntry, type Version } from '../../node/sync/bucket-rules'

export type LifecycleMode = 'rule' | 'no-replication' | 'delete-wins'

interface Obj { ver: Version, deleted: boolean, gen: string }
interface Bucket { storage: string, gen: Generation, merged: string[], floor?: Version, objects: Map<string, Obj> }
interface Site {
  id: string
  live: Map<string, Bucket>
  tombs: Map<string, BucketTombstone>
  /** Peer storage id -> local storage id it is copied into (BucketSync). */
  bound: Map<string, string>
}

interface Put { name: string, key: string, ver: Version, gen: string }
interface ObjDelete { name: string, key: string, ver: Version }
interface BucketDelete { name: string, gen: string, ver: Version }

export interface LifecycleResult { seed: number, ok: boolean, problems: string[], log: string[], stats: { bucketDeletes: number, deletesLost: number, revives: number, merges: number, refused: number } }

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NAMES = ['x', 'y']
const KEYS = ['k1', 'k2', 'k3']

export function runLifecycle (seed: number, mode: LifecycleMode, steps = 60): LifecycleResult {
  const rand = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
  const log: string[] = []
  const stats = { bucketDeletes: 0, deletesLost: 0, revives: 0, merges: 0, refused: 0 }
  let clock = 1
  let ids = 0
  const sites: Site[] = ['A', 'B'].map(id => ({ id, live: new Map(), tombs: new Map(), bound: new Map() }))
  const puts: Put[] = []
  const objDeletes: ObjDelete[] = []
  const bucketDeletes: BucketDelete[] = []
  const tick = (): number => { clock += Math.floor(rand() * 3); return clock }
  const newId = (): string => `g${++ids}`
  const findStorage = (s: Site, storage: string): Bucket | undefined => [...s.live.values()].find(b => b.storage === storage)
  const liveCount = (b: Bucket): number => [...b.objects.values()].filter(o => !o.deleted).length

  const storeTomb = (s: Site, t: BucketTombstone): void => {
    const k = `${t.name}|${t.gen.id}`
    const had = s.tombs.get(k)
    if (had === undefined || compareVersions(t.version, had.version) > 0) s.tombs.set(k, t)
  }

  const sweep = (b: Bucket, floor: Version): void => {
    b.floor = laterVersion(b.floor, floor)
    for (const [k, o] of b.objects) {
      if (!o.deleted && !aboveFloor(o.ver, b.floor)) b.objects.set(k, { ver: b.floor as Version, deleted: true, gen: o.gen })
    }
  }

  // ---- client operations ----
  const create = (s: Site, name: string): void => {
    if (s.live.has(name)) return
    const gen = { id: newId(), createdMs: tick(), site: s.id }
    s.live.set(name, { storage: newId(), gen, merged: [], objects: new Map() })
    log.push(`${s.id} create ${name} ${gen.id}`)
  }
  const deleteBucket = (s: Site, name: string): void => {
    const b = s.live.get(name)
    if (b === undefined) return
    if (liveCount(b) > 0) { stats.refused++; return }
    const ver = { mtime: Math.max(tick(), (b.floor?.mtime ?? 0) + 1), site: s.id }
    s.live.delete(name)
    if (mode !== 'no-replication') {
      for (const g of [b.gen.id, ...b.merged]) storeTomb(s, { name, gen: g === b.gen.id ? b.gen : { id: g, createdMs: 0, site: '' }, version: ver })
    }
    bucketDeletes.push({ name, gen: b.gen.id, ver })
    for (const g of b.merged) bucketDeletes.push({ name, gen: g, ver })
    stats.bucketDeletes++
    log.push(`${s.id} delete bucket ${name} ${b.gen.id} @${ver.mtime}`)
  }
  const put = (s: Site, name: string, key: string): void => {
    const b = s.live.get(name)
    if (b === undefined) return
    const old = b.objects.get(key)
    const ver = { mtime: Math.max(tick(), (old?.ver.mtime ?? 0) + 1, (b.floor?.mtime ?? 0) + 1), site: s.id }
    b.objects.set(key, { ver, deleted: false, gen: b.gen.id })
    puts.push({ name, key, ver, gen: b.gen.id })
    log.push(`${s.id} put ${name}/${key} @${ver.mtime} in ${b.gen.id}`)
  }
  const delObj = (s: Site, name: string, key: string): void => {
    const b = s.live.get(name)
    const old = b?.objects.get(key)
    if (b === undefined || old === undefined || old.deleted) return
    const ver = { mtime: Math.max(tick(), old.ver.mtime + 1), site: s.id }
    b.objects.set(key, { ver, deleted: true, gen: old.gen })
    objDeletes.push({ name, key, ver })
    log.push(`${s.id} delete ${name}/${key} @${ver.mtime}`)
  }

  // ---- sync steps ----
  const listing = (s: Site): Array<PeerBucketEntry & { storage?: string }> => {
    const out: Array<PeerBucketEntry & { storage?: string }> = []
    // Tombstones first, as PeerSync applies them.
    for (const t of s.tombs.values()) out.push({ deleted: true, name: t.name, gen: t.gen, version: t.version })
    for (const [name, b] of s.live) out.push({ deleted: false, name, gen: b.gen, merged: b.merged, floor: b.floor, storage: b.storage })
    return out
  }

  /** `to` reads `from`'s bucket list and acts on every entry (PeerSync discovery). */
  const syncBuckets = (to: Site, from: Site): void => {
    for (const e of listing(from)) {
      const live = to.live.get(e.name)
      if (mode === 'no-replication') {
        if (e.deleted) continue
        if (live === undefined) to.live.set(e.name, { storage: newId(), gen: e.gen, merged: [], objects: new Map() })
        to.bound.set(e.storage as string, (to.live.get(e.name) as Bucket).storage)
        continue
      }
      if (mode === 'delete-wins') {
        if (e.deleted) {
          if (live !== undefined && holdsGen(live, e.gen.id)) { to.live.delete(e.name); log.push(`${to.id} drops ${e.name} (delete wins)`) }
          storeTomb(to, { name: e.name, gen: e.gen, version: e.version })
          continue
        }
        if (to.tombs.has(`${e.name}|${e.gen.id}`)) continue
      }
      const d = decide({ live, tombstone: (g) => to.tombs.get(`${e.name}|${g}`) }, e)
      let b = live
      if (d.create !== undefined) {
        b = { storage: newId(), gen: d.create.gen, merged: d.merged ?? [], floor: d.create.floor, objects: new Map() }
        to.live.set(e.name, b)
        if (to.tombs.has(`${e.name}|${d.create.gen.id}`)) stats.revives++
        log.push(`${to.id} creates ${e.name} ${d.create.gen.id} from ${from.id}`)
      }
      if (b !== undefined && d.create === undefined) {
        if (d.adopt !== undefined) { b.gen = d.adopt; stats.merges++; log.push(`${to.id} adopts ${e.name} ${d.adopt.id}`) }
        if (d.merged !== undefined) b.merged = d.merged
        if (d.floor !== undefined) {
          sweep(b, d.floor)
          if (d.dropIfEmpty === true && liveCount(b) === 0) {
            to.live.delete(e.name)
            b = undefined
            log.push(`${to.id} drops ${e.name} (tombstone from ${from.id})`)
          } else if (d.dropIfEmpty === true) {
            stats.deletesLost++
            log.push(`${to.id} keeps ${e.name}: the delete lost`)
          }
        }
      }
      if (d.tombstone !== undefined && !holdsGen(to.live.get(e.name), d.tombstone.gen.id)) storeTomb(to, d.tombstone)
      if (d.sync && !e.deleted) {
        const now = to.live.get(e.name)
        if (now !== undefined) to.bound.set(e.storage as string, now.storage)
      }
    }
  }

  /** Objects of `from`'s bucket `name` flow into the bound local bucket (BucketSync). */
  const copyObjects = (to: Site, from: Site, name: string): void => {
    const src = from.live.get(name)
    if (src === undefined) return
    const localId = to.bound.get(src.storage)
    if (localId === undefined) return
    const dst = findStorage(to, localId)
    if (dst === undefined) return
    for (const [k, o] of src.objects) {
      const cur = dst.objects.get(k)
      if (cur !== undefined && compareVersions(o.ver, cur.ver) <= 0) continue
      if (!o.deleted && !aboveFloor(o.ver, dst.floor)) continue
      dst.objects.set(k, { ...o })
    }
  }

  const [A, B] = sites
  for (let i = 0; i < steps; i++) {
    const s = pick(sites)
    const other = s === A ? B : A
    const r = rand()
    const name = pick(NAMES)
    if (r < 0.12) create(s, name)
    else if (r < 0.22) {
      // Empty the bucket first half the time, so that deletes happen.
      if (rand() < 0.5) for (const k of KEYS) delObj(s, name, k)
      deleteBucket(s, name)
    } else if (r < 0.5) put(s, name, pick(KEYS))
    else if (r < 0.58) delObj(s, name, pick(KEYS))
    else if (r < 0.79) syncBuckets(s, other)
    else copyObjects(s, other, name)
  }

  // Quiescence: both sync steps both ways until nothing changes.
  const fingerprint = (): string => JSON.stringify(sites.map(s => [[...s.live].map(([n, b]) => [n, b.storage, b.gen.id, b.merged, b.floor, [...b.objects]]), [...s.tombs.keys()].sort()]))
  let prev = ''
  for (let r = 0; r < 50; r++) {
    for (const [to, from] of [[A, B], [B, A]]) {
      syncBuckets(to, from)
      for (const n of NAMES) copyObjects(to, from, n)
    }
    const fp = fingerprint()
    if (fp === prev) break
    prev = fp
  }

  const problems = check(sites, puts, objDeletes, bucketDeletes)
  return { seed, ok: problems.length === 0, problems, log, stats }
}

function check (sites: Site[], puts: Put[], objDeletes: ObjDelete[], bucketDeletes: BucketDelete[]): string[] {
  const problems: string[] = []
  const [A, B] = sites
  const view = (s: Site): string => JSON.stringify([...s.live].sort().map(([n, b]) => [n, b.gen.id, [...b.merged].sort(), b.floor, [...b.objects].filter(([, o]) => !o.deleted).sort().map(([k, o]) => [k, o.ver])]))
  // I1: both sites hold the same buckets (name, generation, floor) and live objects.
  if (view(A) !== view(B)) problems.push(`sites differ: A ${view(A)} B ${view(B)}`)
  // I2: an acknowledged put is kept (or superseded) unless a bucket delete of
  // its name at or after it, or a later delete of its key, was acknowledged.
  for (const w of puts) {
    if (bucketDeletes.some(d => d.name === w.name && compareVersions(d.ver, w.ver) >= 0)) continue
    if (objDeletes.some(d => d.name === w.name && d.key === w.key && compareVersions(d.ver, w.ver) > 0)) continue
    for (const s of sites) {
      const o = s.live.get(w.name)?.objects.get(w.key)
      if (o === undefined || compareVersions(o.ver, w.ver) < 0) problems.push(`${s.id} lost acknowledged put ${w.name}/${w.key}@${w.ver.mtime}${w.ver.site}`)
    }
  }
  // I3: nothing of a deleted generation older than its delete comes back.
  for (const s of sites) {
    for (const [name, b] of s.live) {
      for (const [k, o] of b.objects) {
        if (o.deleted) continue
        const d = bucketDeletes.find(d => d.name === name && d.gen === o.gen && compareVersions(d.ver, o.ver) >= 0)
        if (d !== undefined) problems.push(`${s.id} resurrected ${name}/${k}@${o.ver.mtime} of ${o.gen} deleted @${d.ver.mtime}`)
      }
    }
  }
  return problems
}
