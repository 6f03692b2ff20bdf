/**
 * Preloaded (NODE_OPTIONS=--require) into node processes by
 * `npm run bench -- --profile DIR`: V8 CPU profile of the whole process,
 * written to $BENCH_CPU_PROF_DIR on exit. (--cpu-prof itself is not allowed
 * in NODE_OPTIONS, and NodeProcess spawns the CLI without extra node flags.)
 *
 * The in-process inspector session answers synchronously, so the profile can
 * be stopped and written from the 'exit' handler (the node exits through
 * process.exit after its SIGTERM shutdown).
 */
import fs from 'node:fs'
import inspector from 'node:inspector'
import path from 'node:path'

const dir = process.env.BENCH_CPU_PROF_DIR
if (dir !== undefined && dir !== '') {
  const session = new inspector.Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_INTERVAL_US ?? 500) })
  session.post('Profiler.start')
  let written = false
  const write = (): void => {
    if (written) return
    written = true
    session.post('Profiler.stop', (err, res) => {
      if (err !== null) return
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, `CPU.${Date.now()}.${process.pid}.0.1.cpuprofile`), JSON.stringify(res.profile))
    })
  }
  process.on('exit', write)
}
