/**
 * The AWS SDK for JavaScript v3 (@aws-sdk/client-s3, a devDependency)
 * against a real pair: a current SDK sends a streamed body as aws-chunked
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER with an x-amz-checksum-crc32
 * trailer) by default, which Debian's clients never do over plain HTTP.
 * Puts of a Buffer and of streams (small, and 3 MiB over the blob
 * threshold) on A; read back on B after wait-synced, with metadata; and one
 * written on B read on A.
 *
 * Shown to fail on the broken behaviour: with the trailer's checksum not
 * computed (body.ts's trailer name check off) the streamed PUTs are refused
 * with BadDigest.
 */
import crypto from 'node:crypto'
import { Readable } from 'node:stream'
import t from 'tap'
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { DEV_S3_KEY, s3Endpoint, startS3Pair, waitSynced } from './helpers'
import type { NodeProcess } from '../sync/helpers'

function client (node: NodeProcess): S3Client {
  return new S3Client({ endpoint: s3Endpoint(node), region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: DEV_S3_KEY.accessKey, secretAccessKey: DEV_S3_KEY.secret } })
}

async function bytesOf (c: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return Buffer.from(await (r.Body as { transformToByteArray: () => Promise<Uint8Array> }).transformToByteArray())
}

t.test('AWS SDK v3: aws-chunked uploads with a checksum trailer, across a pair', async t => {
  const [a, b] = await startS3Pair(t)
  const ca = client(a)
  const cb = client(b)
  t.teardown(() => { ca.destroy(); cb.destroy() })
  await ca.send(new CreateBucketCommand({ Bucket: 'jsdk' }))
  const small = Buffer.from('hello from a buffer')
  const mid = crypto.randomBytes(200_000)
  const big = crypto.randomBytes(3 * 1024 * 1024 + 17)
  await ca.send(new PutObjectCommand({ Bucket: 'jsdk', Key: 'buffer.txt', Body: small, ContentType: 'text/plain', Metadata: { origin: 'a' } }))
  await ca.send(new PutObjectCommand({ Bucket: 'jsdk', Key: 'stream/mid.bin', Body: Readable.from([mid.subarray(0, 70_000), mid.subarray(70_000)]), ContentLength: mid.length }))
  await ca.send(new PutObjectCommand({ Bucket: 'jsdk', Key: 'stream/big.bin', Body: Readable.from([big.subarray(0, 1_000_000), big.subarray(1_000_000)]), ContentLength: big.length, Metadata: { size: 'big' } }))
  t.ok((await bytesOf(ca, 'jsdk', 'stream/big.bin')).equals(big), 'the streamed 3 MiB object reads back on A')
  await waitSynced(t, b)
  t.ok((await bytesOf(cb, 'jsdk', 'buffer.txt')).equals(small), 'B: the buffer PUT')
  t.ok((await bytesOf(cb, 'jsdk', 'stream/mid.bin')).equals(mid), 'B: the streamed 200 KB PUT')
  t.ok((await bytesOf(cb, 'jsdk', 'stream/big.bin')).equals(big), 'B: the streamed 3 MiB PUT')
  const h = await cb.send(new HeadObjectCommand({ Bucket: 'jsdk', Key: 'stream/big.bin' }))
  t.same([h.ContentLength, h.Metadata, h.ETag], [big.length, { size: 'big' }, `"${crypto.createHash('md5').update(big).digest('hex')}"`], 'B: its length, metadata and ETag')
  const back = crypto.randomBytes(100_000)
  await cb.send(new PutObjectCommand({ Bucket: 'jsdk', Key: 'from-b.bin', Body: Readable.from([back]), ContentLength: back.length }))
  await waitSynced(t, a)
  t.ok((await bytesOf(ca, 'jsdk', 'from-b.bin')).equals(back), 'A: the streamed PUT made on B')
})
