/**
 * `SchedulerJob`: one persisted schedule (table `scheduler_job`, DESIGN.md "Data model").
 *
 * List it in the host's MikroORM `entities` to query or manage jobs with the host's own `em`.
 * The plugin creates the table itself (idempotent DDL), so the host needs no migration for it.
 */
import { defineEntity, p } from '@mikro-orm/core'
import type { TriggerJson } from '../triggers/types.js'
import type { RetryPolicy } from '../scheduler/retry-policy.js'

export const SchedulerJobSchema = defineEntity({
  name: 'SchedulerJob',
  tableName: 'scheduler_job',
  properties: {
    /** Job id chosen by the host (`reports.daily`); primary key. */
    id: p.text().primary(),
    /** Human-readable name; defaults to the id. */
    name: p.text(),
    /** Name of the registered task (handler) this job runs. */
    task: p.text(),
    /** JSON array passed to the handler after `ctx`. */
    args: p.json<unknown[]>().columnType('jsonb').defaultRaw("'[]'::jsonb"),
    /** Trigger JSON (DESIGN.md "Trigger JSON"); the time zone is inside it. */
    trigger: p.json<TriggerJson>().columnType('jsonb'),
    /** When the next occurrence is claimed (its fire time plus jitter); `null` and not paused means the job has finished. */
    nextRunTime: p.datetime().runtimeType('Date').nullable(),
    /** The exact fire time of the next occurrence (its execution's `run_time`); equals `nextRunTime` without jitter. */
    nextFireTime: p.datetime().runtimeType('Date').nullable(),
    /** A paused job keeps its definition but is never claimed. */
    paused: p.boolean().default(false),
    /** Seconds an occurrence may start late and still run; `null` = always run (APScheduler `misfire_grace_time`). */
    misfireGraceTime: p.integer().nullable(),
    /** Run overdue occurrences once instead of once each (APScheduler `coalesce`). */
    coalesce: p.boolean().default(true),
    /** Executions of this job that may run at once, cluster-wide (APScheduler `max_instances`). */
    maxInstances: p.integer().default(1),
    /** Milliseconds an execution may run before its AbortSignal fires and it is recorded as `timeout`; `null` = no limit. */
    timeoutMs: p.integer().nullable(),
    createdAt: p.datetime().runtimeType('Date').defaultRaw('now()'),
    /** Set to the current time by every write: the scheduler's statements and ORM flushes alike. */
    updatedAt: p.datetime().runtimeType('Date').defaultRaw('now()').onUpdate(() => new Date()),
    /** Optimistic-lock version, compared and bumped by every write: the scheduler's statements and ORM flushes (MikroORM optimistic locking) alike. */
    version: p.integer().version().default(1),
    /** Keep the lines its handler logs through `ctx.log` with each execution (`logs`). */
    captureLogs: p.boolean().default(true),
    /** Attempts per occurrence and the wait between them (`{ attempts, backoff, delayMs, maxDelayMs }`); null: one attempt. */
    retry: p.json<RetryPolicy>().columnType('jsonb').nullable(),
    /** An occurrence whose execution was abandoned (owner dead, lease lost) gets another attempt (Quartz `requestsRecovery`). */
    recover: p.boolean().default(false),
    /** Why the job cannot run (for example "task 'x' is not registered"); such jobs are kept, never deleted. */
    lastError: p.text().nullable()
  },
  indexes: [
    // The claim query's index: only jobs that can fall due.
    { properties: ['nextRunTime'], name: 'scheduler_job_next_run_time_idx', where: 'NOT paused' }
  ],
  checks: [
    { name: 'scheduler_job_args_is_array', expression: "jsonb_typeof(args) = 'array'" },
    { name: 'scheduler_job_max_instances_positive', expression: 'max_instances >= 1' }
  ]
})

export class SchedulerJob extends SchedulerJobSchema.class {}
SchedulerJobSchema.setClass(SchedulerJob)
