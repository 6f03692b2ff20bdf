/**
 * The Range header of GetObject, as S3 reads it: one range of bytes
 * ("bytes=a-b", "bytes=a-", "bytes=-n"). Pure; unit-tested in test/s3/pure.test.ts.
 * - A header that is not one well-formed byte range is ignored (the whole
 *   object is sent), as S3 does: multiple ranges too.
 * - A range that starts at or past the end, or a suffix of 0 bytes, is
 *   unsatisfiable: InvalidRange (416).
 */
export type RangeAnswer = { kind: 'whole' } | { kind: 'part', start: number, end: number } | { kind: 'unsatisfiable' }

export function parseRange (header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'whole' }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (m === null || (m[1] === '' && m[2] === '')) return { kind: 'whole' }
  if (m[1] === '') {
    const n = Number(m[2])
    if (!Number.isSafeInteger(n)) return { kind: 'whole' }
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'part', start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Number(m[2])
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return { kind: 'whole' }
  if (start >= size) return { kind: 'unsatisfiable' }
  if (end < start) return { kind: 'whole' }
  return { kind: 'part', start, end: Math.min(end, size - 1) }
}

/**
 * The pieces of [start, end] out of a stream of chunks in order: yields
 * subarrays (no copies), skipping what is before and stopping after end.
 */
export async function * sliceChunks (chunks: AsyncIterable<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let offset = 0
  for await (const c of chunks) {
    const from = Math.max(start - offset, 0)
    const to = Math.min(end + 1 - offset, c.length)
    offset += c.length
    if (to > from) yield from === 0 && to === c.length ? c : c.subarray(from, to)
    if (offset > end) return
  }
}
