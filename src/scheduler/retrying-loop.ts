/**
 * The shape both of the scheduler's loops share (the plan step's `SchedulingLoop` and the execute
 * step's `ExecuteLoop`): run one pass, sleep as long as it says or until woken, and never throw into
 * the host. A failed pass is logged, emitted as `scheduler:error` (with `during`), followed by
 * healing a missing table (`missing-table.ts`), and retried after a jittered exponential backoff
 * (250 ms doubling to 30 s).
 */
import type { ResolvedSchedulerOptions } from '../options.js'
import { Backoff } from './backoff.js'
import type { SchedulerEventBus } from './events.js'
import { healMissingTable } from './missing-table.js'
import { Waker } from './waker.js'

export class RetryingLoop {
  readonly #options: ResolvedSchedulerOptions
  readonly #events: SchedulerEventBus
  readonly #during: string
  /** One pass; resolves how many milliseconds to sleep before the next (0: at once). */
  readonly #pass: () => Promise<number>
  readonly #waker = new Waker()
  readonly #backoff: Backoff
  #running = false
  #done: Promise<void> = Promise.resolve()
  /** `performance.now()` when the current run of unfinished or failed passes began; null after a finished one. */
  #stuckSince: number | null = null

  /** `during`: what the loop does, in `scheduler:error` events and logs ("scheduling loop"). */
  constructor (options: ResolvedSchedulerOptions, events: SchedulerEventBus, during: string, pass: () => Promise<number>) {
    this.#options = options
    this.#events = events
    this.#during = during
    this.#pass = pass
    this.#backoff = new Backoff({ baseMs: 250, maxMs: 30_000, random: options.random })
  }

  /** Milliseconds since the loop last finished a pass: 0 while it sleeps after one (see `SchedulingLoop.stalledMs`). */
  get stalledMs (): number {
    return this.#stuckSince === null ? 0 : performance.now() - this.#stuckSince
  }

  get running (): boolean {
    return this.#running
  }

  start (): void {
    if (this.#running) return
    this.#running = true
    this.#done = this.#run()
  }

  /** Ends the current sleep (or the next one): a pass runs now. */
  wake (): void {
    this.#waker.wake()
  }

  /** Stops after the pass under way, if any; resolves when the loop has left. */
  async stop (): Promise<void> {
    this.#running = false
    this.wake()
    await this.#done
  }

  async #run (): Promise<void> {
    const { log, store } = this.#options
    while (this.#running) {
      try {
        this.#stuckSince ??= performance.now()
        const delayMs = await this.#pass()
        this.#stuckSince = null
        this.#backoff.reset()
        if (delayMs > 0 && this.#running) await this.#waker.sleep(delayMs)
      } catch (error) {
        const delayMs = this.#backoff.next()
        log.error({ err: error, retryInMs: delayMs }, `${this.#during} failed; retrying`)
        this.#events.emit('scheduler:error', { error: error as Error, during: this.#during })
        await healMissingTable(store, error, log, (failure) => {
          log.error({ err: failure, cause: error }, `a table of the scheduler is missing (${(error as Error).message}) and was not installed again: ${failure.message}`)
          this.#events.emit('scheduler:error', { error: failure, during: 'reinstalling missing tables' })
        })
        if (this.#running) await this.#waker.sleep(delayMs)
      }
    }
  }
}
