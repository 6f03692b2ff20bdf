/**
 * One page of an S3 listing (ListObjectsV2 and v1): prefix, delimiter
 * (CommonPrefixes), max-keys and a resume cursor, over the store's ordered
 * listing of a bucket.
 *
 * The store keeps one head per key under h!<bucketId>!<key> (storage/keys.ts),
 * so a bucket's keys come out of LevelDB already merged across its hash
 * shards, in byte order of their UTF-8, which is S3's order: the shards'
 * index entries need no k-way merge here. Pages of at most 1,000 heads are
 * read (ObjectStore.listObjects, which skips tombstones); nothing holds more
 * than one page. A run of keys under one common prefix costs one seek, not a
 * scan: the cursor jumps past the prefix.
 *
 * Pure over `PageSource` (unit-tested in test/s3/pure.test.ts).
 */
import type { ListedObject } from '../../storage/object-store'

/** Keys after `after` (exclusive; it need not be a key) that start with prefix, in order, up to limit. */
export type PageSource = (after: string, limit: number) => Promise<{ objects: ListedObject[], nextStartAfter: string }>

/** Greater than any key that has `p` as a prefix (U+10FFFF is the largest UTF-8 sequence). */
export function pastPrefix (p: string): string {
  return p + '\u{10FFFF}'
}

export interface ListRequest {
  prefix: string
  delimiter: string
  maxKeys: number
  /** Resume strictly after this (a key, or pastPrefix of a common prefix); '' from the start. */
  after: string
}

export interface ListPage {
  contents: ListedObject[]
  prefixes: string[]
  truncated: boolean
  /** Where the next page resumes (when truncated). */
  nextAfter: string
  /** The last key or common prefix returned (v1's NextMarker). */
  lastReturned: string
}

export async function listPage (source: PageSource, r: ListRequest): Promise<ListPage> {
  const contents: ListedObject[] = []
  const prefixes: string[] = []
  let after = r.after
  let lastReturned = ''
  // A resume point that is a common prefix skips the rest of it.
  if (r.delimiter !== '' && after.startsWith(r.prefix) && after.endsWith(r.delimiter) && after.length > r.prefix.length) after = pastPrefix(after)
  const full = (): boolean => contents.length + prefixes.length >= r.maxKeys
  if (r.maxKeys <= 0) return { contents, prefixes, truncated: false, nextAfter: '', lastReturned }
  for (;;) {
    const page = await source(after, 1000)
    let jumped = false
    for (const o of page.objects) {
      if (!o.key.startsWith(r.prefix)) continue
      const rest = o.key.slice(r.prefix.length)
      const at = r.delimiter === '' ? -1 : rest.indexOf(r.delimiter)
      if (at >= 0) {
        const cp = r.prefix + rest.slice(0, at + r.delimiter.length)
        if (full()) return { contents, prefixes, truncated: true, nextAfter: after, lastReturned }
        prefixes.push(cp)
        lastReturned = cp
        after = pastPrefix(cp)
        jumped = true
        break
      }
      if (full()) return { contents, prefixes, truncated: true, nextAfter: after, lastReturned }
      contents.push(o)
      lastReturned = o.key
      after = o.key
    }
    if (jumped) continue
    if (page.nextStartAfter === '') return { contents, prefixes, truncated: false, nextAfter: '', lastReturned }
    after = page.nextStartAfter
  }
}
