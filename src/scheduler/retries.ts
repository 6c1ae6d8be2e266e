/**
 * Retries and crash recovery at run time (issue #14): how long the next attempt of an occurrence
 * waits after an attempt ended, and the event that says it was scheduled. The store writes the
 * next attempt itself, in the statement that records the outcome (`ExecutionOutcome.retryDelayMs`)
 * or reaps the lease, so a retry exists exactly when the failure was recorded.
 */
import type { ExecutionRecord, JobRecord } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'
import type { ExecutionStatus } from '../execution-status.js'
import type { SchedulerEventBus } from './events.js'
import { hasAttemptsLeft, retryDelayMs } from './retry-policy.js'

/**
 * Milliseconds until the next attempt after attempt `attempt` of `job` ended with `status`, or null
 * for none: `error` and `timeout` retry after the policy's backoff; `abandoned` (cut off at shutdown,
 * or never started) is recovered at once when the job has `recover`; attempts are counted either way.
 */
export function nextAttemptDelayMs (job: JobRecord, attempt: number, status: ExecutionStatus, random: () => number): number | null {
  if (status === 'error' || status === 'timeout') return retryDelayMs(job.retry, attempt, random)
  if (status === 'abandoned' && job.recover && hasAttemptsLeft(job.retry, attempt)) return 0
  return null
}

/** Logs and emits `job:retry_scheduled` when `execution` (just recorded) has a next attempt due. */
export function announceRetry (
  events: SchedulerEventBus, log: SchedulerLogger, payload: { jobId: string, task?: string, execution: ExecutionRecord }
): void {
  const { execution } = payload
  if (execution.nextAttemptAt === null) return
  const attempt = execution.attempt + 1
  log.info({ jobId: payload.jobId, executionId: execution.id, attempt, nextAttemptAt: execution.nextAttemptAt },
    execution.status === 'abandoned' ? 'abandoned execution recovered: another attempt is queued' : 'attempt failed; the next attempt is queued')
  events.emit('job:retry_scheduled', { ...payload, attempt, nextAttemptAt: execution.nextAttemptAt })
}
