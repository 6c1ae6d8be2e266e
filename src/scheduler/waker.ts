/**
 * An interruptible sleep for the scheduling loop. A `wake()` that arrives while the loop is busy
 * is remembered, so the next `sleep()` returns at once and no notification is lost.
 *
 * The timer is not `unref`'d (DESIGN.md says timers are): a started scheduler is meant to keep
 * running, and during a database outage its loop's timer is the only thing left. With it unref'd, a
 * process that runs only the scheduler (no HTTP server) exited silently the moment PostgreSQL went
 * down, its sockets closed. `shutdown()` ends the sleep, so the process exits once the host closes.
 */
export class Waker {
  #pending = false
  #resolve: (() => void) | null = null
  #timer: NodeJS.Timeout | undefined

  /** Sleeps up to `ms` milliseconds, or until `wake()`. */
  async sleep (ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false
      return
    }
    await new Promise<void>((resolve) => {
      this.#resolve = resolve
      this.#timer = setTimeout(() => this.#fire(), Math.max(0, Math.min(ms, 2_147_483_647)))
    })
  }

  /** Ends the current sleep, or the next one if none is in progress. */
  wake (): void {
    if (this.#resolve === null) this.#pending = true
    else this.#fire()
  }

  #fire (): void {
    clearTimeout(this.#timer)
    const resolve = this.#resolve
    this.#resolve = null
    resolve?.()
  }
}
