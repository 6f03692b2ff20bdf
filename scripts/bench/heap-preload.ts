/**
 * Preloaded (NODE_OPTIONS=--require) into every measured node process by
 * `npm run bench`: after each major garbage collection, the V8 heap still
 * in use, i.e. what the process really keeps alive. Peak RSS mixes that
 * with collection pacing (garbage not collected yet), the young generation
 * and mapped files; this figure is the one that must not grow with the
 * bucket. Written (small JSON, overwritten) to $BENCH_HEAP_DIR/heap.<pid>.json
 * after every major collection, so it can be read while the node runs; on
 * SIGUSR2 the node collects fully and adds what is still alive. The last
 * GC_POINTS major collections are kept as [epoch ms, live MiB, heap total
 * MiB, external MiB], so the bench can line them up with its RSS timeline.
 * Also kept: event-loop pauses over PAUSE_MS (pause-monitor.ts) and
 * collections that took over LONG_GC_MS, as [epoch ms, ms] and
 * [epoch ms, ms, kind], for the lag section's stall report.
 */
import fs from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { constants, performance, PerformanceObserver } from 'node:perf_hooks'
import { PauseMonitor } from './pause-monitor'

const dir = process.env.BENCH_HEAP_DIR
if (dir !== undefined && dir !== '') {
  const file = path.join(dir, `heap.${process.pid}.json`)
  const GC_POINTS = 400
  const mib = (n: number): number => Math.round(n / 2 ** 20 * 10) / 10
  const LONG_GC_MS = 50
  const stats = { majorGcs: 0, maxLiveBytes: 0, maxHeapTotalBytes: 0, maxNewSpaceBytes: 0, maxExternalBytes: 0, endLiveBytes: -1, gcs: [] as number[][], pauses: [] as number[][], longGcs: [] as number[][] }
  const save = (): void => { try { fs.writeFileSync(file, JSON.stringify(stats)) } catch {} }
  const monitor = new PauseMonitor(save)
  stats.pauses = monitor.pauses
  monitor.start()
  // Written at once: the bench signals only processes that have the file.
  save()
  const observer = new PerformanceObserver((list) => {
    let major = false
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major = true
      if (e.duration > LONG_GC_MS) {
        stats.longGcs.push([Math.round(performance.timeOrigin + e.startTime), Math.round(e.duration), kind ?? 0])
        if (stats.longGcs.length > GC_POINTS) stats.longGcs.shift()
        if (!major) save()
      }
    }
    if (!major) return
    const h = v8.getHeapStatistics()
    stats.majorGcs++
    stats.maxLiveBytes = Math.max(stats.maxLiveBytes, h.used_heap_size)
    stats.maxHeapTotalBytes = Math.max(stats.maxHeapTotalBytes, h.total_heap_size)
    // The young generation's committed size (grows with allocation rate, up
    // to twice --max-semi-space-size) and off-heap Buffer memory (messages,
    // LevelDB values): the parts of private memory besides the old generation.
    const young = v8.getHeapSpaceStatistics().find(sp => sp.space_name === 'new_space')
    stats.maxNewSpaceBytes = Math.max(stats.maxNewSpaceBytes, young?.space_size ?? 0)
    const external = process.memoryUsage().external
    stats.maxExternalBytes = Math.max(stats.maxExternalBytes, external)
    stats.gcs.push([Date.now(), mib(h.used_heap_size), mib(h.total_heap_size), mib(external)])
    if (stats.gcs.length > GC_POINTS) stats.gcs.shift()
    save()
  })
  observer.observe({ entryTypes: ['gc'] })
  // SIGUSR2 (sent by the bench when a sync has ended): a full collection
  // now, and what is still alive after it.
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  process.on('SIGUSR2', () => {
    gc()
    const h = v8.getHeapStatistics()
    stats.endLiveBytes = h.used_heap_size
    save()
  })
}
