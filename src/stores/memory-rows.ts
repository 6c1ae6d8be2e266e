/**
 * Row helpers of `MemoryJobStore`: copies in and out (records leave and enter the store as copies,
 * like rows of a database), the unique key of an attempt, the history order and pagination.
 */
import type { ExecutionOutcome } from './job-store.js'
import type { ExecutionRecord } from './records.js'

/** Order of `getExecutions`: newest run time first, then newest id. */
export function newestFirst (a: ExecutionRecord, b: ExecutionRecord): number {
  return b.runTime.getTime() - a.runTime.getTime() || b.id - a.id
}

/** The unique key of one attempt of an occurrence, as `UNIQUE (job_id, run_time, attempt)`. */
export function attemptKey (jobId: string, runTime: Date, attempt: number): string {
  return `${jobId}\u0000${runTime.getTime()}\u0000${attempt}`
}

export function page<T> (items: T[], filter: { limit?: number, offset?: number }): T[] {
  const offset = filter.offset ?? 0
  return items.slice(offset, filter.limit === undefined ? undefined : offset + filter.limit)
}

/** An execution as lists, claims and outcome writes return it: a copy without `result` and `logs` (only `getExecution` has them). */
export function light (execution: ExecutionRecord): ExecutionRecord {
  const { result: _result, logs: _logs, ...rest } = execution
  return structuredClone(rest)
}

/** Records leave and enter the store as copies, like rows of a database. */
export function clone<T> (value: T): T {
  return structuredClone(value)
}

/** When an outcome's execution ended: the write's time `now` less how long the outcome waited to be written. */
export function endedAt (now: Date, outcome: ExecutionOutcome): Date {
  return new Date(now.getTime() - Math.max(0, outcome.waitedMs ?? 0))
}
