/**
 * Writes execution outcomes in batches: outcomes that arrive while a write is in flight (or in
 * the same tick) go to the database together in one statement (`JobStore.finishExecutions`), so a
 * burst of short executions costs a few round trips instead of one each. A failed batch is
 * retried with jittered backoff; after the last attempt its executions are left to their leases
 * (they become `abandoned`), and the failure is reported.
 */
import type { ExecutionOutcome, ExecutionRecord, JobStore } from '../stores/job-store.js'
import { Backoff } from './backoff.js'

/** Most outcomes written in one statement. */
const MAX_BATCH = 1000
/** Attempts per batch before giving up. */
const ATTEMPTS = 6

interface Pending {
  id: number
  outcome: ExecutionOutcome
  resolve: (finished: ExecutionRecord | null) => void
  reject: (error: Error) => void
}

export class OutcomeWriter {
  readonly #store: JobStore
  readonly #clock: (() => Date) | null
  readonly #random: () => number
  #queue: Pending[] = []
  #writing = false

  constructor (store: JobStore, clock: (() => Date) | null, random: () => number) {
    this.#store = store
    this.#clock = clock
    this.#random = random
  }

  /**
   * Records one outcome. Resolves with the finished row, or null when the execution was no longer
   * `running` (its lease had expired); rejects when the database kept failing.
   */
  async write (id: number, outcome: ExecutionOutcome): Promise<ExecutionRecord | null> {
    const written = new Promise<ExecutionRecord | null>((resolve, reject) => this.#queue.push({ id, outcome, resolve, reject }))
    if (!this.#writing) {
      this.#writing = true
      setImmediate(() => { void this.#drain() })
    }
    return written
  }

  async #drain (): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH)
      try {
        const finished = await this.#writeWithRetry(batch)
        batch.forEach((pending, i) => pending.resolve(finished[i] ?? null))
      } catch (error) {
        for (const pending of batch) pending.reject(error as Error)
      }
    }
    this.#writing = false
  }

  async #writeWithRetry (batch: Pending[]): Promise<Array<ExecutionRecord | null>> {
    const backoff = new Backoff({ baseMs: 200, maxMs: 5000, random: this.#random })
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#store.finishExecutions(batch.map(({ id, outcome }) => ({ id, outcome })), this.#clock?.() ?? null)
      } catch (error) {
        if (attempt >= ATTEMPTS) throw error
        // Not unref'd: an outcome still to be written is work worth keeping the process for.
        await new Promise((resolve) => setTimeout(resolve, backoff.next()))
      }
    }
  }
}
