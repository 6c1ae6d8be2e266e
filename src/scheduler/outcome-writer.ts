/**
 * Writes execution outcomes (DESIGN.md protocol step 5):
 * - in batches: outcomes that arrive while a write is in flight (or in the same tick) go to the
 *   database together in one statement (`JobStore.finishExecutions`);
 * - sanitised first (`sanitiseText`: no NUL, no lone surrogate, bounded size);
 * - a failed batch is retried row by row, so one bad row never costs the others; a row the
 *   database refuses for its data (SQLSTATE classes 22, 23, 54) is written again with a plain
 *   description of why its outcome could not be stored as is;
 * - through an outage, outcomes wait in a bounded queue (`maxPending`) and the writer keeps
 *   retrying with jittered backoff until they are written or `close()` gives up on them; while
 *   they wait, their ids are in `pendingIds()` so the lease keeper keeps renewing their leases;
 * - with how long it waited (`waitedMs`), so the store dates the row's end when the handler settled,
 *   not when the write finally went through.
 *
 * `write()` never rejects: it resolves with what became of the outcome (`WriteResult`).
 */
import type { ExecutionOutcome, ExecutionRecord, JobStore } from '../stores/job-store.js'
import { sanitiseNullable, sanitiseText } from '../text/sanitise.js'
import { Backoff } from './backoff.js'

/** Most outcomes written in one statement. */
const MAX_BATCH = 1000

/** What became of one outcome. */
export type WriteResult =
  /** Written: the row moved from `running` to the outcome's status. */
  | { kind: 'written', execution: ExecutionRecord }
  /** The row was already `abandoned` (its lease expired): the outcome was recorded in its `late_*` columns. */
  | { kind: 'late', execution: ExecutionRecord }
  /** The row was neither `running` nor `abandoned` without a late outcome (finished, deleted): nothing written. */
  | { kind: 'gone' }
  /** Not written: the queue was full, or `close()` gave up on it. */
  | { kind: 'lost', reason: string }

export interface OutcomeWriterOptions {
  store: JobStore
  clock: (() => Date) | null
  random: () => number
  /** Most outcomes waiting to be written; beyond it a new outcome is refused as lost. */
  maxPending: number
  /** Called after each failed write attempt (for logs and `scheduler:error`). */
  onWriteError?: (error: Error, pending: number) => void
  /** Called after each batch written: its executions no longer hold instance slots, so queued runs may start. */
  onWritten?: () => void
  /** Milliseconds each write may take (`statementTimeoutMs`), so a hung connection fails the write, which is retried, instead of stalling the writer. */
  statementTimeoutMs?: number
}

interface Pending {
  id: number
  outcome: ExecutionOutcome
  /** The execution's record as claimed, when the caller has it (the store may build its answer from it). */
  claimed?: ExecutionRecord
  /** `performance.now()` when the outcome was queued (its handler had just settled). */
  queuedAt: number
  resolve: (result: WriteResult) => void
}

export class OutcomeWriter {
  readonly #options: OutcomeWriterOptions
  readonly #backoff: Backoff
  #queue: Pending[] = []
  /** True from the first queued outcome until the queue is empty again (set and cleared synchronously). */
  #draining = false
  #closed = false
  #wakeSleep: (() => void) | null = null
  #idleWaiters: Array<() => void> = []

  constructor (options: OutcomeWriterOptions) {
    this.#options = options
    this.#backoff = new Backoff({ baseMs: 200, maxMs: 5000, random: options.random })
  }

  /** Ids of the executions whose outcome is waiting to be written. */
  pendingIds (): number[] {
    return this.#queue.map((pending) => pending.id)
  }

  /**
   * Queues one outcome (of execution `id`, whose record as claimed is `claimed` when known);
   * resolves once it is written, found late or gone, or lost. Never rejects.
   */
  async write (id: number, outcome: ExecutionOutcome, claimed?: ExecutionRecord): Promise<WriteResult> {
    if (this.#closed) return { kind: 'lost', reason: 'the outcome writer is closed (the scheduler shut down)' }
    if (this.#queue.length >= this.#options.maxPending) {
      return { kind: 'lost', reason: `maxPendingOutcomes (${this.#options.maxPending}) outcomes were already waiting to be written` }
    }
    const result = new Promise<WriteResult>((resolve) => this.#queue.push({ id, outcome: sanitised(outcome), ...(claimed === undefined ? {} : { claimed }), queuedAt: performance.now(), resolve }))
    if (!this.#draining) {
      this.#draining = true
      setImmediate(() => { void this.#drain() })
    }
    return result
  }

  /**
   * Waits up to `timeoutMs` for the queue to empty, then stops: outcomes still waiting resolve as
   * lost. Returns their execution ids.
   */
  async close (timeoutMs: number): Promise<number[]> {
    if (this.#draining) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
      ])
      clearTimeout(timer)
    }
    this.#closed = true
    this.#wakeSleep?.()
    const lost = this.#queue.splice(0)
    for (const pending of lost) pending.resolve({ kind: 'lost', reason: 'the scheduler shut down before the database accepted it' })
    return lost.map((pending) => pending.id)
  }

  /** Accepts outcomes again after `close()` (a scheduler started again). */
  reopen (): void {
    this.#closed = false
  }

  async #drain (): Promise<void> {
    // The emptiness check and the reset of #draining happen in one synchronous step, so an outcome
    // queued at any moment is either seen by this loop or starts a new one.
    try {
      while (this.#queue.length > 0 && !this.#closed) await this.#writeRound()
    } finally {
      this.#draining = false
      for (const waiter of this.#idleWaiters.splice(0)) waiter()
    }
  }

  /** One batch: written (or settled row by row), or, when the database cannot be used, a backoff sleep. */
  async #writeRound (): Promise<void> {
    const batch = this.#queue.slice(0, MAX_BATCH)
    const written = await this.#writeBatch(batch)
    if (written) {
      this.#options.onWritten?.()
      this.#backoff.reset()
      return
    }
    // A fault that is not the rows' own (the database is unreachable): wait, and try again.
    // Not unref'd: an outcome still to be written is work worth keeping the process for.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#backoff.next())
      this.#wakeSleep = () => { clearTimeout(timer); resolve() }
    })
    this.#wakeSleep = null
  }

  /** Writes a batch, falling back to row by row; false when the database could not be used at all. */
  async #writeBatch (batch: Pending[]): Promise<boolean> {
    try {
      this.#settle(batch, await this.#finish(batch))
      return true
    } catch (error) {
      this.#options.onWriteError?.(error as Error, this.#queue.length)
      if (batch.length === 1 && !isRowFault(error)) return false
    }
    for (const pending of batch) {
      try {
        this.#settle([pending], await this.#finish([pending]))
      } catch (error) {
        if (!isRowFault(error)) return false
        // The row's own data is refused: store a plain description of why instead.
        const { status, durationMs, retryDelayMs } = pending.outcome
        const plain = { id: pending.id, queuedAt: pending.queuedAt, outcome: { status, durationMs, retryDelayMs, exception: `the outcome (${status}) could not be stored as is: ${sanitiseText(describeFault(error), 2000)}`, traceback: null }, resolve: pending.resolve }
        try {
          this.#settle([plain], await this.#finish([plain]))
        } catch (again) {
          if (!isRowFault(again)) return false
          this.#remove([pending])
          pending.resolve({ kind: 'lost', reason: `the database refused it: ${describeFault(again)}` })
        }
      }
    }
    return true
  }

  async #finish (batch: Pending[]): Promise<Array<ExecutionRecord | null>> {
    const { statementTimeoutMs } = this.#options
    const sentAt = performance.now()
    return this.#options.store.finishExecutions(batch.map(({ id, outcome, claimed, queuedAt }) => ({ id, outcome: { ...outcome, waitedMs: Math.round(sentAt - queuedAt) }, ...(claimed === undefined ? {} : { claimed }) })), this.#options.clock?.() ?? null,
      statementTimeoutMs === undefined ? {} : { timeoutMs: statementTimeoutMs })
  }

  #settle (batch: Pending[], finished: Array<ExecutionRecord | null>): void {
    this.#remove(batch)
    batch.forEach((pending, i) => {
      const execution = finished[i] ?? null
      pending.resolve(execution === null
        ? { kind: 'gone' }
        : execution.status === 'abandoned' && execution.lateStatus !== null ? { kind: 'late', execution } : { kind: 'written', execution })
    })
  }

  #remove (batch: Pending[]): void {
    const ids = new Set(batch.map((pending) => pending.id))
    this.#queue = this.#queue.filter((pending) => !ids.has(pending.id))
  }
}

function sanitised (outcome: ExecutionOutcome): ExecutionOutcome {
  return { ...outcome, exception: sanitiseNullable(outcome.exception), traceback: sanitiseNullable(outcome.traceback) }
}

/**
 * MySQL/MariaDB data errors reported under the catch-all SQLSTATE `HY000` (MySQL reference, "Server
 * Error Message Reference"): 1292 incorrect datetime value, 1366 incorrect string value for a column,
 * 1406 data too long (strict mode), 1264 out of range, 3140 invalid JSON.
 */
const MYSQL_DATA_ERRNOS = new Set([1264, 1292, 1366, 1406, 3140])

/**
 * True when the database refused the row's data rather than being unreachable: SQLSTATE classes
 * 22 (data exception, e.g. an invalid byte sequence), 23 (integrity), 54 (program limit exceeded),
 * read from `code` (PostgreSQL, node-postgres and PGlite) or `sqlState` (MySQL/MariaDB, mysql2),
 * and MySQL's data errors filed under `HY000` by `errno`; on SQLite (libSQL), a constraint (a CHECK,
 * a trigger's `RAISE`), a value over SQLite's length limit or of the wrong type. Anything else
 * (connection faults, shutdowns, timeouts, a revoked privilege, a deadlock) is retried.
 */
function isRowFault (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, sqlState, errno } = error as { code?: unknown, sqlState?: unknown, errno?: unknown }
  const state = typeof sqlState === 'string' ? sqlState : code
  if (typeof state === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(state)) return true
  if (typeof errno === 'number' && MYSQL_DATA_ERRNOS.has(errno)) return true
  return typeof code === 'string' && /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH)/.test(code)
}

function describeFault (error: unknown): string {
  const { code, message } = error as { code?: unknown, message?: unknown }
  return `${typeof code === 'string' ? `${code} ` : ''}${typeof message === 'string' ? message : 'unknown database error'}`
}
