/**
 * The bucket lifecycle rule, as pure logic: what a site does with one entry
 * of a peer's bucket list (a live bucket or a bucket tombstone), given what
 * it holds itself for that name. Used by PeerSync (node/sync/peer-sync.ts)
 * on real nodes and by the bucket lifecycle model (test/model/bucket-lifecycle.ts),
 * so the model checks the very decisions the nodes take.
 *
 * Terms
 * - Generation: the identity of one bucket across sites, {id, createdMs,
 *   site}, made by the CreateBucket that began it (id: 6 random bytes, hex).
 *   A replica adopts the source's generation. Re-creating a name makes a new
 *   generation; nothing is ever matched across generations by name alone.
 * - Floor: the newest bucket delete, (mtime, site), applied to a live bucket.
 *   No object version at or below it exists in the bucket or is accepted into
 *   it (storage/bucket-writer.ts); a local write is always stamped above it.
 * - Tombstone: {name, generation, version}: the bucket of that generation was
 *   deleted at `version` and this site holds no live bucket of it.
 *
 * The rule (a delete racing writes on another site)
 * - A client may delete only an empty bucket (BUCKET_NOT_EMPTY otherwise).
 *   The delete is stamped (max(now, floor + 1), site) and leaves a tombstone.
 * - A peer applying a tombstone to its live bucket of the same generation
 *   raises the floor to the delete's version: every live object at or below
 *   it is deleted (replica deletes stamped with the delete's version). If the
 *   bucket is then empty it is dropped and the tombstone kept; if a newer
 *   object remains, the delete loses: the bucket stays with that floor.
 * - A site holding a tombstone of generation g ignores a peer's live bucket
 *   of g until the peer lists it with a floor at or above the tombstone (the
 *   peer has applied the delete and kept newer writes): then the site
 *   revives the bucket (same generation, a new local storage id, the floor)
 *   and those writes flow back. Objects older than the delete never return.
 * - Two live generations of one name (concurrent creates, or a delete that
 *   lost on one site while the name was re-created on another) merge: the
 *   generation ordered first by (createdMs, site, id) names the bucket, every
 *   site adopts it, objects of both merge by last-writer-wins, and the merged
 *   bucket's floor is the later of the two. A tombstone names one generation:
 *   it does not apply to a bucket that has adopted another one.
 * Why no acknowledged write later than a delete is lost: such a write is
 * above the floor, so no sweep deletes it; the bucket holding it is dropped
 * only when it holds no live object, so it is not dropped; and any site that
 * dropped the bucket revives it once it sees it live with that floor.
 */
import { compareVersions } from '../../storage/records'

export interface Version { mtime: number, site: string }
export interface Generation { id: string, createdMs: number, site: string }

/** A site's live bucket of one name, as far as the rule needs it. */
export interface LiveBucketView {
  gen: Generation
  /** Ids of the generations merged into this one (they lost the name to it). */
  merged?: readonly string[]
  floor?: Version
}
export interface BucketTombstone { name: string, gen: Generation, version: Version }

export type PeerBucketEntry =
  | { deleted: false, name: string, gen: Generation, merged?: readonly string[], floor?: Version }
  | { deleted: true, name: string, gen: Generation, version: Version }

export interface LocalNameView {
  live?: LiveBucketView
  /** This site's tombstone of that name and generation, if any. */
  tombstone: (genId: string) => BucketTombstone | undefined
}

export interface BucketDecision {
  /** Store this tombstone (if newer than the one held) when no live bucket of its generation is left. */
  tombstone?: BucketTombstone
  /** Create (or revive) the local bucket with this generation and floor. */
  create?: { gen: Generation, floor?: Version }
  /** The local bucket takes this generation (it lost the name to it). */
  adopt?: Generation
  /** Generation ids the local bucket now counts as merged into it (set whenever they change). */
  merged?: string[]
  /** Raise the local bucket's floor to this version (sweep older objects). */
  floor?: Version
  /** After the floor sweep, drop the bucket if it holds no live object (a tombstone was applied). */
  dropIfEmpty?: boolean
  /** Copy the peer's bucket into the local one. */
  sync: boolean
}

/** The later of two optional versions. */
export function laterVersion (a: Version | undefined, b: Version | undefined): Version | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compareVersions(a, b) >= 0 ? a : b
}

/** True if v is strictly above floor (or there is no floor). */
export function aboveFloor (v: Version, floor: Version | undefined): boolean {
  return floor === undefined || compareVersions(v, floor) > 0
}

/** The generation that owns a name when two are live: lower (createdMs, site, id). */
export function genFirst (a: Generation, b: Generation): boolean {
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs
  if (a.site !== b.site) return a.site < b.site
  return a.id < b.id
}

/** True if the live bucket is, or has merged, generation `genId`. */
export function holdsGen (live: LiveBucketView | undefined, genId: string): boolean {
  return live !== undefined && (live.gen.id === genId || (live.merged?.includes(genId) ?? false))
}

export function decide (local: LocalNameView, entry: PeerBucketEntry): BucketDecision {
  const live = local.live
  if (entry.deleted) {
    const out: BucketDecision = { sync: false, tombstone: { name: entry.name, gen: entry.gen, version: entry.version } }
    if (holdsGen(live, entry.gen.id) && aboveFloor(entry.version, live?.floor)) {
      out.floor = entry.version
      out.dropIfEmpty = true
    }
    return out
  }
  const ids = [entry.gen.id, ...(entry.merged ?? [])]
  // Our newest tombstone of a generation the peer's bucket is or has merged,
  // where we do not hold that generation live ourselves.
  let t: BucketTombstone | undefined
  for (const id of ids) {
    const ti = holdsGen(live, id) ? undefined : local.tombstone(id)
    if (ti !== undefined && (t === undefined || compareVersions(ti.version, t.version) > 0)) t = ti
  }
  // The peer has not applied our delete of that generation yet: wait for it.
  if (t !== undefined && (entry.floor === undefined || compareVersions(entry.floor, t.version) < 0)) return { sync: false }
  if (live === undefined) {
    return { create: { gen: entry.gen, floor: entry.floor }, merged: entry.merged !== undefined && entry.merged.length > 0 ? [...entry.merged] : undefined, sync: true }
  }
  const out: BucketDecision = { sync: true }
  if (live.gen.id !== entry.gen.id && genFirst(entry.gen, live.gen)) out.adopt = entry.gen
  const gen = out.adopt ?? live.gen
  const all = new Set([live.gen.id, ...(live.merged ?? []), ...ids])
  all.delete(gen.id)
  const before = new Set(live.merged ?? [])
  if (all.size !== before.size || [...all].some(id => !before.has(id))) out.merged = [...all].sort()
  if (entry.floor !== undefined && aboveFloor(entry.floor, live.floor)) out.floor = entry.floor
  return out
}
