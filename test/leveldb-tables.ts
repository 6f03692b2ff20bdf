/**
 * Reads what a LevelDB table file (.ldb) keeps in memory while it is open:
 * the size of its index block and of its filter block, and the filter
 * policy's name, from the footer and the metaindex block (LevelDB's
 * doc/table_format.md). For tests of the LevelDB build only.
 */
import fs from 'node:fs'
import path from 'node:path'

export interface TableMeta { bytes: number, indexBytes: number, filterBytes: number, filterName: string | undefined }

function varint (buf: Buffer, at: number): [number, number] {
  let value = 0
  let scale = 1
  for (;;) {
    const b = buf[at++]
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return [value, at]
    scale *= 128
  }
}

/** Index and filter sizes of one table file. */
export function tableMeta (file: string): TableMeta {
  const fd = fs.openSync(file, 'r')
  try {
    const bytes = fs.fstatSync(fd).size
    const footer = Buffer.alloc(48)
    fs.readSync(fd, footer, 0, 48, bytes - 48)
    let at = 0
    let metaOffset, metaSize, indexSize
    ;[metaOffset, at] = varint(footer, at)
    ;[metaSize, at] = varint(footer, at)
    ;[, at] = varint(footer, at)
    ;[indexSize, at] = varint(footer, at)
    const meta = Buffer.alloc(metaSize)
    fs.readSync(fd, meta, 0, metaSize, metaOffset)
    // Entries, then the restart array and its length (uint32 each).
    const end = metaSize - 4 - 4 * meta.readUInt32LE(metaSize - 4)
    let filterBytes = 0
    let filterName: string | undefined
    let key = ''
    for (let p = 0; p < end;) {
      let shared, unshared, valueLength
      ;[shared, p] = varint(meta, p)
      ;[unshared, p] = varint(meta, p)
      ;[valueLength, p] = varint(meta, p)
      key = key.slice(0, shared) + meta.toString('latin1', p, p + unshared)
      p += unshared
      if (key.startsWith('filter.')) {
        filterName = key.slice('filter.'.length)
        filterBytes += varint(meta, varint(meta, p)[1])[0]
      }
      p += valueLength
    }
    return { bytes, indexBytes: indexSize, filterBytes, filterName }
  } finally {
    fs.closeSync(fd)
  }
}

/** The sums over every table file of a database directory, and the filter names found. */
export function databaseTables (dir: string): { tables: number, bytes: number, indexBytes: number, filterBytes: number, filterNames: string[] } {
  const out = { tables: 0, bytes: 0, indexBytes: 0, filterBytes: 0, filterNames: [] as string[] }
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.ldb')) continue
    const m = tableMeta(path.join(dir, name))
    out.tables++
    out.bytes += m.bytes
    out.indexBytes += m.indexBytes
    out.filterBytes += m.filterBytes
    if (m.filterName !== undefined && !out.filterNames.includes(m.filterName)) out.filterNames.push(m.filterName)
  }
  return out
}
