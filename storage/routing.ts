/**
 * Key-to-shard routing: a binary split tree over the key's MD5.
 *
 * Pure functions, used by the object store on every write and by the
 * splitter. Invariants (kept by storage/split.ts):
 * - An initial shard is chosen by the first 4 hash bytes modulo the bucket's
 *   initial shard count.
 * - A shard created at depth d (its baseDepth) that has split k times has
 *   children c0..c(k-1); child ci took the keys whose hash bit
 *   (baseDepth + i) is 1, and has baseDepth (baseDepth + i + 1).
 * - So routing walks from the initial shard: at each shard, the first child
 *   whose bit is 1 takes the key; if none does, the key stays.
 * This depends only on the split history, so every node that knows the
 * history routes a key to the same shard, and a split never changes the
 * route of a key that it does not move.
 */
import crypto from 'node:crypto'

/** Bits available for splits: hash bytes 4..15. */
export const MAX_SPLIT_DEPTH = 96

export interface RoutingShard {
  readonly baseDepth: number
  readonly children: readonly number[]
}

export function keyHash (key: string): Buffer {
  return crypto.hash('md5', key, 'buffer') as unknown as Buffer
}

export function initialShardOf (hash: Buffer, initialShards: number): number {
  return hash.readUInt32BE(0) % initialShards
}

/** Bit `depth` (0-based) of the split part of the hash. */
export function splitBit (hash: Buffer, depth: number): number {
  const byte = hash[4 + (depth >> 3)]
  return (byte >> (7 - (depth & 7))) & 1
}

export function routeHash (hash: Buffer, initialShards: number, shards: ArrayLike<RoutingShard>): number {
  let shard = initialShardOf(hash, initialShards)
  for (;;) {
    const header = shards[shard]
    let next = -1
    for (let i = 0; i < header.children.length; i++) {
      if (splitBit(hash, header.baseDepth + i) === 1) { next = header.children[i]; break }
    }
    if (next === -1) return shard
    shard = next
  }
}

export function routeKey (key: string, initialShards: number, shards: ArrayLike<RoutingShard>): number {
  return routeHash(keyHash(key), initialShards, shards)
}
