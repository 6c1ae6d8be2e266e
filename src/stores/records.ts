/**
 * The records a job store reads and writes: jobs (`scheduler_job`) and executions
 * (`scheduler_job_execution`), as plain objects with `Date`s. Part of the job store port
 * (`job-store.ts` re-exports them).
 */
import type { ExecutionStatus, TerminalStatus } from '../execution-status.js'
import type { TriggerJson } from '../triggers/types.js'
import type { RetryPolicy } from '../scheduler/retry-policy.js'

/** A job as stored. Times are `Date`s; `misfireGraceTime` is seconds; `timeoutMs` milliseconds. */
export interface JobRecord {
  id: string
  name: string
  task: string
  args: unknown[]
  trigger: TriggerJson
  /** When the next occurrence is claimed: its fire time plus the trigger's jitter. `null`: finished. */
  nextRunTime: Date | null
  /** The exact fire time of that occurrence, which becomes its execution's `runTime`. */
  nextFireTime: Date | null
  paused: boolean
  misfireGraceTime: number | null
  coalesce: boolean
  maxInstances: number
  timeoutMs: number | null
  /** Keep the lines the handler logs through `ctx.log` with each execution. */
  captureLogs: boolean
  /** Attempts per occurrence and the wait between them; `null`: one attempt. */
  retry: RetryPolicy | null
  /** An occurrence whose execution was `abandoned` (owner dead, lease lost) gets another attempt. */
  recover: boolean
  createdAt: Date
  updatedAt: Date
  version: number
  lastError: string | null
}

/** What a caller supplies to create a job (the store fills times and version; `nextFireTime` defaults to `nextRunTime`, `captureLogs` to true, `retry` to null, `recover` to false). */
export type NewJobRecord = Omit<JobRecord, 'createdAt' | 'updatedAt' | 'version' | 'nextFireTime' | 'captureLogs' | 'retry' | 'recover'> &
  { nextFireTime?: Date | null, captureLogs?: boolean, retry?: RetryPolicy | null, recover?: boolean }

/** Fields a caller may change on an existing job. A `nextRunTime` without `nextFireTime` sets both. */
export type JobPatch = Partial<Omit<JobRecord, 'id' | 'createdAt' | 'updatedAt' | 'version'>>

/** One execution row: one attempt of one occurrence. `durationMs` is milliseconds. */
export interface ExecutionRecord {
  id: number
  jobId: string
  runTime: Date
  /** Which attempt of the occurrence this is: 1, 2, … (`(jobId, runTime, attempt)` is unique). */
  attempt: number
  /** On an attempt that failed with attempts left: when the next attempt is due. Null otherwise. */
  nextAttemptAt: Date | null
  /** On a `queued` retry: not started before this instant (its backoff). Null: as soon as a slot is free. */
  startAfter: Date | null
  status: ExecutionStatus
  startedAt: Date | null
  finishedAt: Date | null
  durationMs: number | null
  exception: string | null
  traceback: string | null
  owner: string | null
  leaseUntil: Date | null
  /**
   * A late outcome: the status the execution finished with after it had been marked `abandoned`
   * (its lease expired while the handler still ran). Null otherwise. `status` stays `abandoned`.
   */
  lateStatus: TerminalStatus | null
  /** When that late outcome arrived. */
  lateFinishedAt: Date | null
  /** The late outcome's exception text, if any. */
  lateException: string | null
  /**
   * What the handler returned (parsed JSON), when it succeeded and returned a JSON-serialisable
   * value of at most 64 KiB; a string `[result not stored: …]` saying why otherwise; null when it
   * returned nothing (`undefined` or `null`) or did not succeed. Present only on single-execution
   * reads (`getExecution`, `waitForExecution`); lists, claims and events leave it out.
   */
  result?: unknown
  /**
   * The lines the handler logged through `ctx.log` (`{ time, level, msg, fields }`, oldest first;
   * the last 200 or 64 KiB), when its job captures logs; null when capture is off or nothing was
   * logged. Present only on single-execution reads, like `result`.
   */
  logs?: ExecutionLogLine[] | null
}

/** One line a handler logged (`ExecutionRecord.logs`): ISO time, pino level name, message, logged fields. */
export interface ExecutionLogLine {
  time: string
  level: string
  msg: string
  fields: Record<string, unknown>
}
