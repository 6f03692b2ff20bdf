/**
 * Unit tests of storage/routing.ts: the binary split tree over a key's MD5.
 *
 * Split histories are built by hand (plain RoutingShard arrays, the way
 * storage/split.ts grows them) and checked against an independent reference:
 * a shard "owns" a key iff the key's path from its initial shard reaches the
 * shard and none of the shard's children took it. Pure; no I/O.
 */
import crypto from 'node:crypto'
import t from 'tap'
import fc from 'fast-check'
import { initialShardOf, keyHash, MAX_SPLIT_DEPTH, routeHash, routeKey, splitBit, type RoutingShard } from '../storage/routing'

interface SimShard { baseDepth: number, children: number[], parent: number }

/** A bucket's routing table as split.ts grows it. */
function initialTable (n: number): SimShard[] {
  return Array.from({ length: n }, () => ({ baseDepth: 0, children: [], parent: -1 }))
}

/** Splits `shard` as split.ts does: the new shard is the table length, decided by bit baseDepth + #children. */
function simulateSplit (table: SimShard[], shard: number): { newShard: number, depth: number } {
  const h = table[shard]
  const depth = h.baseDepth + h.children.length
  const newShard = table.length
  table.push({ baseDepth: depth + 1, children: [], parent: shard })
  h.children.push(newShard)
  return { newShard, depth }
}

/** Bit `depth` of the split part of the hash, computed independently of splitBit (via BigInt). */
const splitParts = new WeakMap<Buffer, bigint>()
function refBit (hash: Buffer, depth: number): number {
  let big = splitParts.get(hash)
  if (big === undefined) splitParts.set(hash, big = BigInt('0x' + hash.subarray(4, 16).toString('hex')))
  return Number((big >> BigInt(95 - depth)) & 1n)
}

/** Independent ownership check: does `shard` own the key with this hash? */
function owns (table: SimShard[], initialShards: number, shard: number, hash: Buffer): boolean {
  // Must not be taken by any own child.
  const h = table[shard]
  for (let i = 0; i < h.children.length; i++) if (refBit(hash, h.baseDepth + i) === 1) return false
  // Must be reached: walk up the lineage.
  let cur = shard
  while (table[cur].parent !== -1) {
    const p = table[cur].parent
    const idx = table[p].children.indexOf(cur)
    for (let j = 0; j < idx; j++) if (refBit(hash, table[p].baseDepth + j) === 1) return false
    if (refBit(hash, table[p].baseDepth + idx) !== 1) return false
    cur = p
  }
  return hash.readUInt32BE(0) % initialShards === cur
}

function makeKeys (n: number, seed = 'k'): string[] {
  return Array.from({ length: n }, (_, i) => `${seed}/${i}/${(i * 2654435761) % 9973}`)
}

t.test('keyHash is MD5 of the UTF-8 key; routing is deterministic', async (t) => {
  for (const key of ['a', 'photos/2024/01/img.jpg', 'ключ', '日本語/キー', '😀 emoji', 'x'.repeat(1024)]) {
    t.same(keyHash(key), crypto.createHash('md5').update(Buffer.from(key, 'utf8')).digest(), `md5 of ${key.slice(0, 20)}`)
  }
  const table = initialTable(8)
  simulateSplit(table, 3)
  simulateSplit(table, 3)
  simulateSplit(table, 8)
  const copy = table.map(s => ({ baseDepth: s.baseDepth, children: [...s.children] }))
  const bad: string[] = []
  const seen = new Set<number>()
  for (const key of makeKeys(2000)) {
    const a = routeKey(key, 8, table)
    seen.add(a)
    if (a !== routeKey(key, 8, copy) || a !== routeHash(keyHash(key), 8, table) || a !== routeKey(key, 8, table)) bad.push(key)
  }
  t.same(bad, [], 'same route on every call and for an equal table')
  t.equal(seen.size, table.length, 'every shard of the table receives keys')
})

t.test('MAX_SPLIT_DEPTH covers hash bytes 4..15 and splitBit reads them MSB first', async (t) => {
  t.equal(MAX_SPLIT_DEPTH, 96)
  const hash = Buffer.alloc(16)
  hash[4] = 0b1000_0000
  t.equal(splitBit(hash, 0), 1)
  t.equal(splitBit(hash, 1), 0)
  hash[15] = 0b0000_0001
  t.equal(splitBit(hash, 95), 1)
  t.equal(splitBit(hash, 94), 0)
  // Bytes 0..3 (initial shard part) never influence split bits.
  const h2 = Buffer.alloc(16)
  h2.fill(0xff, 0, 4)
  t.same(Array.from({ length: 96 }, (_, d) => splitBit(h2, d)), new Array(96).fill(0), 'bytes 0..3 are not split bits')
  let mismatches = 0
  for (const key of makeKeys(300)) {
    const h = keyHash(key)
    for (let d = 0; d < 96; d++) if (splitBit(h, d) !== refBit(h, d)) mismatches++
  }
  t.equal(mismatches, 0, 'splitBit agrees with a BigInt reference on 300 hashes x 96 bits')
})

t.test('initial shard: first 4 hash bytes modulo the initial count, evenly spread', async (t) => {
  for (const n of [1, 2, 3, 4, 7, 16, 256]) {
    const table = initialTable(n)
    const counts = new Array<number>(n).fill(0)
    const keys = makeKeys(20_000, `n${n}`)
    let wrong = 0
    for (const key of keys) {
      const h = keyHash(key)
      const s = routeKey(key, n, table)
      if (s !== h.readUInt32BE(0) % n || s !== initialShardOf(h, n)) wrong++
      counts[s]++
    }
    t.equal(wrong, 0, `unsplit table of ${n}: route = first 4 bytes mod ${n}`)
    if (n === 1) { t.equal(counts[0], keys.length); continue }
    const expected = keys.length / n
    // 256 shards * ~78 keys each: allow wide but meaningful bounds (no empty or double-loaded shard).
    const slack = n >= 256 ? 0.5 : 0.1
    t.ok(counts.every(c => c > expected * (1 - slack) && c < expected * (1 + slack)), `even spread over ${n} shards: ${Math.min(...counts)}..${Math.max(...counts)}`)
  }
})

t.test('a split moves exactly the keys whose bit is 1; all other routes stay', async (t) => {
  const initial = 4
  const table = initialTable(initial)
  const keys = makeKeys(8000)
  let routes = keys.map(k => routeKey(k, initial, table))
  // A history mixing re-splits of the same shard and splits of new shards.
  const history = [0, 0, 4, 1, 5, 0, 4, 2, 9, 3, 3, 3, 11, 6]
  for (const shard of history) {
    const { newShard, depth } = simulateSplit(table, shard)
    const after = keys.map(k => routeKey(k, initial, table))
    let moved = 0
    let stayedOnSplit = 0
    const wrong: string[] = []
    for (let i = 0; i < keys.length; i++) {
      const h = keyHash(keys[i])
      if (routes[i] === shard && refBit(h, depth) === 1) {
        if (after[i] !== newShard) wrong.push(`${keys[i]}: bit ${depth} = 1 but ${after[i]} != ${newShard}`)
        moved++
      } else if (after[i] !== routes[i]) {
        wrong.push(`${keys[i]}: ${routes[i]} -> ${after[i]}`)
      } else if (routes[i] === shard) {
        stayedOnSplit++
      }
    }
    t.same(wrong.slice(0, 5), [], `split of ${shard} at depth ${depth} -> ${newShard}: only bit-1 keys of ${shard} moved`)
    t.ok(moved > 0 && stayedOnSplit > 0, `split of ${shard} at depth ${depth} -> ${newShard}: moved ${moved}, kept ${stayedOnSplit}`)
    routes = after
  }
  t.equal(table.length, initial + history.length)
})

t.test('after any split history every key routes to exactly one shard (reference ownership)', async (t) => {
  const keys = makeKeys(1500, 'prop')
  const hashes = keys.map(keyHash)
  let checked = 0
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 6 }),
    fc.array(fc.nat(), { minLength: 0, maxLength: 40 }),
    (initial, picks) => {
      const table = initialTable(initial)
      for (const p of picks) simulateSplit(table, p % table.length)
      for (let i = 0; i < hashes.length; i++) {
        const routed = routeHash(hashes[i], initial, table)
        if (!(routed >= 0 && routed < table.length)) return false
        let owners = 0
        for (let s = 0; s < table.length; s++) if (owns(table, initial, s, hashes[i])) owners++
        if (owners !== 1 || !owns(table, initial, routed, hashes[i])) return false
      }
      checked++
      return true
    }
  ), { numRuns: 60, seed: 20240611 })
  t.equal(checked, 60)
})

t.test('routing depends only on split history, not on the order independent splits happened', async (t) => {
  // Split shards 0 and 1 in both orders: the new shard numbers differ, but the
  // key sets match once renamed.
  const a = initialTable(2)
  const b = initialTable(2)
  simulateSplit(a, 0) // a: 2 from 0
  simulateSplit(a, 1) // a: 3 from 1
  simulateSplit(b, 1) // b: 2 from 1
  simulateSplit(b, 0) // b: 3 from 0
  const rename = new Map([[0, 0], [1, 1], [2, 3], [3, 2]])
  const differ = makeKeys(5000, 'order').filter(key => rename.get(routeKey(key, 2, a)) !== routeKey(key, 2, b))
  t.same(differ, [])
})

t.test('deep splits: a shard at depth d decides on bit d, and split at the last bit still routes', async (t) => {
  // Repeatedly split shard 0 only: after k splits shard 0 keeps only keys whose first k bits are 0.
  const table = initialTable(1)
  for (let k = 0; k < 12; k++) simulateSplit(table, 0)
  const counts = new Array<number>(table.length).fill(0)
  const wrong: string[] = []
  for (const key of makeKeys(4000, 'deep')) {
    const h = keyHash(key)
    const s = routeKey(key, 1, table)
    let firstOne = -1
    for (let d = 0; d < 12; d++) if (refBit(h, d) === 1) { firstOne = d; break }
    if (s !== (firstOne === -1 ? 0 : firstOne + 1)) wrong.push(key)
    counts[s]++
  }
  t.same(wrong, [], 'shard = 1 + position of the first 1 bit, or 0')
  // Halving: the first child takes about half of the keys, the second a quarter...
  t.ok(counts[1] > 1800 && counts[1] < 2200 && counts[2] > 850 && counts[2] < 1150, `halving spread ${counts.slice(0, 4).join(',')}`)
  // A chain down to the maximum depth: no key is lost even at bit 95.
  const chain: RoutingShard[] = [{ baseDepth: 0, children: [1] }]
  for (let d = 1; d < MAX_SPLIT_DEPTH; d++) chain.push({ baseDepth: d, children: [d + 1] })
  chain.push({ baseDepth: MAX_SPLIT_DEPTH, children: [] })
  const chainWrong = makeKeys(500, 'chain').filter((key) => {
    const h = keyHash(key)
    let expected = 0
    while (expected < MAX_SPLIT_DEPTH && refBit(h, expected) === 1) expected++
    return routeKey(key, 1, chain) !== expected
  })
  t.same(chainWrong, [])
  // A hash of all ones in the split part reaches the bottom of the chain.
  const ones = Buffer.alloc(16, 0xff)
  t.equal(routeHash(ones, 1, chain), MAX_SPLIT_DEPTH)
})
