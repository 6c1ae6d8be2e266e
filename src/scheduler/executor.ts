/**
 * The executor runs task handlers in this process with a concurrency limit, a per-execution
 * timeout and an `AbortSignal`. It never throws: every handler outcome (a value, a throw of
 * anything, a rejection, a timeout) becomes an `ExecutionOutcome`; a handler's return value is
 * kept as its result (`result.ts`: bounded, sanitised, a note when it cannot be kept).
 *
 * A handler that ignores its signal and never settles cannot be stopped from JavaScript: on
 * timeout its execution is recorded `timeout` and its concurrency slot is freed, but the promise
 * is left to settle (or not) on its own.
 */
import type { ExecutionOutcome } from '../stores/job-store.js'
import { resultJson } from './result.js'
import { describeThrown } from './thrown.js'
import { LazyAbortController } from './lazy-abort.js'

export interface ExecutorOptions {
  /** Most handlers running at once in this process. */
  maxConcurrency: number
  /** Called whenever a slot frees up (the loop uses it to claim more work). */
  onSlotFree?: () => void
}

export interface Submission {
  /** Execution id, used to list running executions (lease heartbeat, shutdown). */
  id: number
  /** Milliseconds before the signal aborts and the outcome is `timeout`; `null` for no limit. */
  timeoutMs: number | null
  /**
   * Milliseconds still to wait before running (an occurrence claimed ahead of its run time), asked
   * again when the wait is over (timers may fire a millisecond early); default: none. The slot is
   * taken at once. Aborted while it waits (`abort`), it never runs: its outcome is `abandoned`,
   * with the abort's reason.
   */
  waitMs?: () => number
  /** Runs the handler; `abort.signal` is its `AbortSignal` (made when first read). */
  run: (abort: { readonly signal: AbortSignal }) => Promise<unknown>
  /** Receives the outcome exactly once. Must not throw (its rejections are swallowed). */
  onDone: (outcome: ExecutionOutcome) => Promise<void>
}

interface Running {
  controller: LazyAbortController
  settle: (outcome: ExecutionOutcome) => void
  /** Still waiting to start (`waitMs`), for `remainingMs`; `cancel` drops it without an outcome. */
  waiting: boolean
  remainingMs: () => number
  cancel: () => void
}

/** The outcome of a submission that never started, for `reason`. */
const notStarted = (reason: unknown): ExecutionOutcome => ({ status: 'abandoned', exception: `not started: ${describeThrown(reason).exception}` })

export class Executor {
  readonly #maxConcurrency: number
  readonly #onSlotFree: () => void
  readonly #running = new Map<number, Running>()
  readonly #finishing = new Set<Promise<void>>()
  #slotWaiters: Array<() => void> = []

  constructor (options: ExecutorOptions) {
    this.#maxConcurrency = options.maxConcurrency
    this.#onSlotFree = options.onSlotFree ?? (() => {})
  }

  /** Free slots right now. */
  get available (): number {
    return Math.max(0, this.#maxConcurrency - this.#running.size)
  }

  /** Ids of the executions holding a slot. */
  runningIds (): number[] {
    return [...this.#running.keys()]
  }

  /**
   * Aborts a running execution's signal with `reason` (its lease was lost); the handler keeps its
   * slot until it settles. False when it is not running here.
   */
  abort (id: number, reason: Error): boolean {
    const running = this.#running.get(id)
    if (running === undefined) return false
    if (running.waiting) {
      // Never started: nothing to signal; it ends now, without running.
      running.settle(notStarted(reason))
      return false
    }
    running.controller.abort(reason)
    return true
  }

  /**
   * Drops the submissions still waiting to start more than `minWaitMs` from now (runs claimed
   * ahead, at shutdown): they never run and report no outcome, and their slots are freed. Returns
   * their ids.
   */
  takeWaiting (minWaitMs: number): number[] {
    const ids: number[] = []
    for (const [id, running] of this.#running) {
      if (!running.waiting || running.remainingMs() <= minWaitMs) continue
      running.cancel()
      this.#running.delete(id)
      ids.push(id)
    }
    if (ids.length > 0) this.#releaseSlot()
    return ids
  }

  /** Starts a submission (after its `delayMs`); takes a slot at once (callers check `available` first). */
  submit (submission: Submission): void {
    const controller = new LazyAbortController()
    let startedAt = performance.now()
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let delay: NodeJS.Timeout | undefined
    const settle = (outcome: ExecutionOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(delay)
      this.#running.delete(submission.id)
      if (entry.waiting) startedAt = performance.now()
      const durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000
      let finishing: Promise<void>
      try {
        finishing = submission.onDone({ ...outcome, durationMs }).catch(() => {})
      } catch {
        finishing = Promise.resolve()
      }
      this.#finishing.add(finishing)
      void finishing.finally(() => this.#finishing.delete(finishing))
      this.#releaseSlot()
    }
    const entry: Running = {
      controller,
      settle,
      waiting: true,
      remainingMs: () => submission.waitMs?.() ?? 0,
      cancel: () => {
        settled = true
        clearTimeout(delay)
      }
    }
    this.#running.set(submission.id, entry)
    const start = (): void => {
      const waitMs = submission.waitMs?.() ?? 0
      if (waitMs > 0) {
        delay = setTimeout(start, Math.ceil(waitMs))
        return
      }
      entry.waiting = false
      startedAt = performance.now()
      timer = this.#run(submission, controller, settle)
    }
    start()
  }

  /** Runs a submission's handler now; returns its timeout timer. */
  #run (submission: Submission, controller: LazyAbortController, settle: (outcome: ExecutionOutcome) => void): NodeJS.Timeout | undefined {
    let timer: NodeJS.Timeout | undefined
    if (submission.timeoutMs !== null) {
      timer = setTimeout(() => {
        controller.abort(new Error(`timed out after ${submission.timeoutMs} ms`))
        settle({ status: 'timeout', exception: `TimeoutError: the handler ran longer than timeoutMs (${submission.timeoutMs} ms); its AbortSignal was aborted` })
      }, submission.timeoutMs)
    }
    let result: Promise<unknown>
    try {
      result = Promise.resolve(submission.run(controller))
    } catch (thrown) {
      result = Promise.reject(thrown)
    }
    // Whatever the handler settles with, however hostile, only describeThrown (which never
    // throws) looks at it; the trailing catch makes sure no rejection is ever left unhandled.
    result.then(
      (value: unknown) => settle({ status: 'success', resultJson: resultJson(value) }),
      (thrown: unknown) => settle({ status: 'error', ...describeThrown(thrown) })
    ).catch(() => {})
    return timer
  }

  /**
   * Waits up to `timeoutMs` for running handlers to settle, then aborts the rest and records them
   * with `cutOff`. Resolves when every outcome has been handed to its `onDone` (not when `onDone`
   * has finished: the outcome writer is closed separately, with its own bound).
   */
  async drain (timeoutMs: number, cutOff: ExecutionOutcome): Promise<void> {
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined
      const idle = new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.#running.size === 0) resolve()
          else this.#slotWaiters.push(check)
        }
        check()
      })
      await Promise.race([idle, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })])
      clearTimeout(timer)
      for (const running of [...this.#running.values()]) {
        if (running.waiting) {
          running.settle(notStarted(new Error('the scheduler shut down before its fire time')))
          continue
        }
        running.controller.abort(new Error('scheduler shut down'))
        running.settle(cutOff)
      }
    }
  }

  /** Resolves when every `onDone` handed an outcome so far has finished. */
  async finished (): Promise<void> {
    await Promise.all([...this.#finishing])
  }

  #releaseSlot (): void {
    const waiters = this.#slotWaiters
    this.#slotWaiters = []
    for (const waiter of waiters) waiter()
    this.#onSlotFree()
  }
}
