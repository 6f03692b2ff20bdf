/**
 * The content checksum every object stored from now on carries: CRC-32
 * (IEEE 802.3, what zlib computes and S3 reports as x-amz-checksum-crc32),
 * kept in the object's head beside its etag.
 *
 * Why it exists: a target must check replicated content before storing it.
 * Checking it against the etag means an MD5 of every byte received, which
 * took a core's worth of CPU at 200 MiB/s (20 % of the target's CPU in a
 * profiled large-object sync). The checksum is computed once, when content
 * is first stored (client PUT, or a replica whose content was checked), and
 * travels with it; a target computes the CRC of what it received (about
 * six times cheaper than MD5) and compares. It catches what the etag check
 * catches: corruption in transfer, a piece lost or reordered, and content
 * that rotted at the source after it was stored. Objects stored before
 * checksums were kept have none, and are checked against the etag as before.
 *
 * Used by storage/upload.ts (uploads and replica checks). zlib.crc32 needs
 * Node 20.15 or later (package.json engines).
 */
import zlib from 'node:zlib'

/** The checksum of content given in pieces, in order. */
export function crc32Of (parts: readonly Buffer[]): number {
  let crc = 0
  for (const p of parts) crc = zlib.crc32(p, crc)
  return crc
}

/** The checksum after `data` is appended to content whose checksum is `crc` (0 for none yet). */
export function crc32Update (crc: number, data: Buffer): number {
  return zlib.crc32(data, crc)
}
