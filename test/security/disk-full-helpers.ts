/** Reads objects back over GetObject and returns key -> md5 of the content (disk-full test). */
import crypto from 'node:crypto'
import type { Clients } from '../../node/rpc/clients'
import type { GetObjectResponse__Output } from '../../node/rpc/generated/shardsync/v1/GetObjectResponse'

export async function getAll (c: Clients, bucket: string, keys: Map<string, string>): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const key of keys.keys()) {
    const call = c.object.GetObject({ bucket, key }, { deadline: Date.now() + 30_000 })
    const md5 = crypto.createHash('md5')
    try {
      for await (const msg of call as AsyncIterable<GetObjectResponse__Output>) if (msg.info === null || msg.info === undefined) md5.update(msg.data)
      out.set(key, md5.digest('hex'))
    } catch (err) {
      out.set(key, `unreadable: ${(err as { details?: string }).details ?? String(err)}`)
    }
  }
  return out
}
