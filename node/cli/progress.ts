/**
 * Progress for long CLI work: a bar with rate and ETA on a terminal
 * (cli-progress), plain periodic lines on stderr otherwise.
 */
import cliProgress from 'cli-progress'

const PLAIN_EVERY_MS = 2000

export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined
  private done = 0
  private readonly started = Date.now()
  private lastPrint = Date.now()

  constructor (private readonly label: string, private readonly total: number, private readonly quiet = false) {
    if (!quiet && process.stderr.isTTY === true) {
      this.bar = new cliProgress.SingleBar({
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
        stream: process.stderr
      }, cliProgress.Presets.shades_classic)
      this.bar.start(total, 0, { rate: 0 })
    }
  }

  tick (n: number): void {
    this.update(this.done + n)
  }

  /** Sets the absolute amount done. */
  update (done: number): void {
    this.done = done
    const rate = Math.round(this.done / Math.max((Date.now() - this.started) / 1000, 0.001))
    if (this.bar !== undefined) {
      this.bar.update(this.done, { rate })
    } else if (!this.quiet && Date.now() - this.lastPrint >= PLAIN_EVERY_MS) {
      this.lastPrint = Date.now()
      const eta = rate > 0 ? Math.round((this.total - this.done) / rate) : 0
      process.stderr.write(`${this.label}: ${this.done}/${this.total} (${rate}/s, ETA ${eta}s)\n`)
    }
  }

  stop (): void {
    this.bar?.stop()
  }
}
