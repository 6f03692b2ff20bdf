/**
 * The bench's H2Putter (scripts/bench/common.ts) under a backlog: an
 * open-loop writer holds thousands of requests while the node answers
 * slowly (here a plain HTTP/2 server with 128 concurrent streams that
 * answers 128 requests at a time, by a count of requests received, not by
 * a clock). Every PUT must still succeed. Shown to fail with node:http2's
 * default session memory limit: of 6,000 requests, hundreds failed with
 * NGHTTP2_ENHANCE_YOUR_CALM and the session was lost.
 */
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { H2Putter } from '../scripts/bench/common'

t.test('H2Putter: a backlog of thousands of PUTs is held, none refused', async t => {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 128 } })
  const n = 6000
  let received = 0
  const waiting: http2.ServerHttp2Stream[] = []
  const release = (): void => {
    for (const s of waiting.splice(0)) {
      s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
      s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }))
      s.end()
    }
  }
  server.on('stream', (s) => {
    s.on('data', () => {})
    s.on('end', () => {
      waiting.push(s)
      received++
      // Answered only once the session holds its full 128 streams (or the last ones came).
      if (waiting.length >= 128 || received === n) setImmediate(release)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const putter = new H2Putter(`127.0.0.1:${(server.address() as AddressInfo).port}`, 1)
  t.teardown(() => putter.close())
  const body = Buffer.alloc(1024)
  const results = await Promise.allSettled(Array.from({ length: n }, async (_, i) => await putter.put('bkt', `k${i}`, body)))
  const failed = results.filter(r => r.status === 'rejected') as PromiseRejectedResult[]
  t.equal(failed.length, 0, `no PUT refused (first failure: ${String(failed[0]?.reason ?? 'none')})`)
})
