/**
 * Public types of fastify-mikro-scheduler.
 *
 * Glossary (APScheduler / Quartz terms, DESIGN.md):
 * - task: a named handler function registered in code (`reports.daily`); jobs point at tasks by name.
 * - job: a persisted schedule: id, task name, JSON args, trigger, options, next run time, paused flag.
 * - trigger: computes fire times (`cron`, `interval`, `date`, `and`, `or`); see `TriggerJson`.
 * - fire time / run time: one scheduled instant of a job.
 * - execution: one attempt to run one occurrence; a row of `scheduler_job_execution`.
 * - job store: where jobs live (`MikroOrmJobStore`, `MemoryJobStore`).
 * - executor: runs handlers in-process with a concurrency limit, a timeout and an AbortSignal.
 * - leader lock: decides which process runs the scheduling loop.
 * - misfire grace time: seconds an occurrence may start late and still run; later ones are `missed`.
 * - coalesce: when several occurrences are overdue, run once instead of once per occurrence.
 * - max instances: how many executions of one job may run at once, cluster-wide.
 * - lease: until when a running execution's owner vouches for it; expired leases become `abandoned`.
 */
import type { RetryOptions } from './scheduler/retry-policy.js'
import type { EntityManager } from '@mikro-orm/core'
import type { ExecutionRecord, JobRecord } from './stores/job-store.js'
import type { TriggerJson } from './triggers/types.js'

export type { ExecutionRecord, JobRecord } from './stores/job-store.js'
export type { TriggerJson } from './triggers/types.js'

/** A pino-compatible logger (what `fastify.log` is). */
export interface SchedulerLogger {
  // pino's two call forms: `(msg, ...formatArgs)` and `(obj, msg?, ...formatArgs)`.
  trace(msg: string, ...args: unknown[]): void
  trace(obj: unknown, msg?: string, ...args: unknown[]): void
  debug(msg: string, ...args: unknown[]): void
  debug(obj: unknown, msg?: string, ...args: unknown[]): void
  info(msg: string, ...args: unknown[]): void
  info(obj: unknown, msg?: string, ...args: unknown[]): void
  warn(msg: string, ...args: unknown[]): void
  warn(obj: unknown, msg?: string, ...args: unknown[]): void
  error(msg: string, ...args: unknown[]): void
  error(obj: unknown, msg?: string, ...args: unknown[]): void
  child(bindings: Record<string, unknown>): SchedulerLogger
  /** pino's: whether lines of `level` are kept. Optional; without it the scheduler assumes they are. */
  isLevelEnabled?(level: string): boolean
}

/**
 * What a task handler receives first, before the job's args. `EM` is the type of `ctx.em`: MikroORM's
 * driver-neutral `EntityManager` by default; name your driver's to get its query builder and raw
 * queries typed: `async (ctx: TaskContext<EntityManager>) => …` with `EntityManager` from
 * `@mikro-orm/postgresql` (the fork is of that type at run time: the host's ORM made it).
 */
export interface TaskContext<EM extends EntityManager = EntityManager> {
  /** The job as stored when it was claimed. */
  job: JobRecord
  /** The scheduled instant of this occurrence (not when it started). */
  runTime: Date
  /** The execution row's id. */
  executionId: number
  /** Which attempt of this occurrence this is: 1, then 2, 3, … for retries and recoveries (`retry`, `recover`). */
  attempt: number
  /** Aborted on timeout (`timeoutMs`) and on shutdown past `shutdownTimeoutMs`. */
  signal: AbortSignal
  /** A fork of the host's EntityManager, fresh for this execution. Throws when the scheduler has no ORM. */
  em: EM
  /** Child of the scheduler's logger (`fastify.log` in the plugin) bound to job id and execution id. */
  log: SchedulerLogger
}

/** A task handler: `(ctx, ...args)`. Its return value is ignored; a throw or rejection records an `error` execution. */
export type TaskHandler<Args extends unknown[] = any[], EM extends EntityManager = EntityManager> =
  // Written as a method so a handler typed for a driver's EntityManager (`TaskContext<SqlEntityManager>`)
  // is accepted wherever a `TaskHandler` is (method parameters are compared bivariantly).
  { handler (ctx: TaskContext<EM>, ...args: Args): unknown }['handler']

/** Per-job options (APScheduler meanings); every field has a scheduler-wide default in `jobDefaults`. */
export interface JobOptions {
  /** Seconds an occurrence may start late and still run; `null` = always run. Default `null`. */
  misfireGraceTime?: number | null
  /** Run overdue occurrences once instead of once each. Default `true`. */
  coalesce?: boolean
  /** Executions of this job that may run at once, cluster-wide. Default `1`. */
  maxInstances?: number
  /** Milliseconds before an execution's signal aborts and it is recorded `timeout`; `null` = no limit. Default `null`. */
  timeoutMs?: number | null
  /**
   * Keep the lines the handler logs through `ctx.log` with each execution (its `logs`: the last 200
   * lines or 64 KiB). Default `true`; `false` for handlers that log secrets or very much.
   */
  captureLogs?: boolean
  /**
   * Retry an occurrence whose attempt ended `error` or `timeout`: `{ attempts, backoff, delayMs,
   * maxDelayMs }` (`attempts` counts the first; `backoff` `'fixed'` or `'exponential'`, default
   * exponential from `delayMs` 1000 ms, capped at `maxDelayMs`, default one hour; each delay jittered
   * up to 20 % shorter). Every attempt is an execution of its own (`attempt` 1, 2, …). Default `null`:
   * one attempt, as APScheduler. Rules from BullMQ `attempts` and pg-boss `retryBackoff`.
   * @throws InvalidJobError (`retry.<field>`) for a bad policy.
   */
  retry?: RetryOptions | null
  /**
   * Quartz's `requestsRecovery`: when an execution is `abandoned` because its owner died or lost its
   * lease, the occurrence gets another attempt (at once), counted against `retry.attempts`. Default
   * `false`: a handler that is not idempotent may have half-run. Needs `retry.attempts` ≥ 2.
   */
  recover?: boolean
}

/** A job to add (`scheduler.addJob`). */
export interface JobDefinition extends JobOptions {
  /** Unique id: 1 to 200 characters, no control characters. */
  id: string
  /** Registered task name. */
  task: string
  /** JSON array passed to the handler after `ctx`. Default `[]`. */
  args?: unknown[]
  trigger: TriggerJson
  /** Display name. Default: the id. */
  name?: string
  /** Add the job paused (no `nextRunTime` is claimed until `resumeJob`). Default `false`. */
  paused?: boolean
}

/** Changes accepted by `scheduler.modifyJob` (a new trigger reschedules the job). */
export type JobChanges = Partial<Omit<JobDefinition, 'id'>>

/** A job declared in code with its handler (`registerJob`, `@scheduled`): the task name defaults to the id. */
export interface CodeJobDefinition extends JobOptions {
  id: string
  trigger: TriggerJson
  /** Task name to register the handler under. Default: the job id. */
  task?: string
  name?: string
  args?: unknown[]
}

/** Event payloads of `scheduler.on(event, listener)`. */
export interface SchedulerEvents {
  'job:submitted': { jobId: string, task: string, executionId: number, runTime: Date }
  'job:executed': { jobId: string, task: string, execution: ExecutionRecord }
  /** Statuses `error` and `timeout`. */
  'job:error': { jobId: string, task: string, execution: ExecutionRecord }
  'job:missed': { jobId: string, task: string, execution: ExecutionRecord }
  'job:max_instances': { jobId: string, task: string, execution: ExecutionRecord }
  /**
   * An execution whose lease expired was marked `abandoned` (its owner died or was cut off).
   * `task` is known when this process ran it (cut off at shutdown), absent when the lease reaper found it.
   */
  'job:abandoned': { jobId: string, task?: string, execution: ExecutionRecord }
  /**
   * This process could not renew an execution's lease (it had expired, or another process marked
   * the execution abandoned): its handler's `signal` was aborted with a `LeaseLostError`.
   */
  'job:lease_lost': { jobId: string, task: string, executionId: number, runTime: Date, reason: string }
  /**
   * An execution finished after it had been marked `abandoned`: its outcome is recorded in the
   * row's `lateStatus`, `lateFinishedAt` and `lateException`; `status` stays `abandoned`.
   */
  'job:late_outcome': { jobId: string, task: string, execution: ExecutionRecord }
  /**
   * An attempt ended (`error`, `timeout`, or `abandoned` with `recover`) and the occurrence has
   * attempts left: attempt `attempt` is queued, due at `nextAttemptAt`. `execution` is the attempt
   * that ended; `task` is absent when the lease reaper recovered it.
   */
  'job:retry_scheduled': { jobId: string, task?: string, execution: ExecutionRecord, attempt: number, nextAttemptAt: Date }
  /**
   * Outcomes this process could not write: at shutdown, those the database had not accepted within
   * `shutdownTimeoutMs`; while running, one refused because `maxPendingOutcomes` were waiting.
   * Their rows stay `running` until their leases expire, then become `abandoned`.
   */
  'scheduler:outcomes_lost': { executions: Array<{ executionId: number, jobId: string, status: string }>, reason: string }
  'job:added': { job: JobRecord }
  'job:modified': { job: JobRecord }
  'job:removed': { jobId: string }
  'scheduler:started': { nodeId: string }
  'scheduler:shutdown': { nodeId: string }
  /** A fault in the scheduler's own loops (database down, ...): logged, retried with backoff, never thrown. */
  'scheduler:error': { error: Error, during: string }
  /** One claim transaction of the scheduling loop finished: its duration (milliseconds) and how many jobs it handled. */
  'scheduler:claimed': { durationMs: number, jobs: number }
  'leader:acquired': { nodeId: string }
  'leader:lost': { nodeId: string, reason: string }
}

export type SchedulerEventName = keyof SchedulerEvents
