/**
 * `SchedulerJobExecution`: one attempt to run one occurrence (table `scheduler_job_execution`,
 * DESIGN.md "Data model"). `(job_id, run_time, attempt)` is unique: the database itself refuses a
 * second execution of one attempt of an occurrence; scanned backwards, that key also serves a job's
 * newest executions (schema version 8 dropped the redundant `(job_id, run_time DESC)` index).
 * `job_id` is no foreign key: history outlives the job.
 */
import { defineEntity, p } from '@mikro-orm/core'
import { EXECUTION_STATUSES, type ExecutionStatus } from '../execution-status.js'

export const SchedulerJobExecutionSchema = defineEntity({
  name: 'SchedulerJobExecution',
  tableName: 'scheduler_job_execution',
  properties: {
    id: p.bigint('number').columnType('bigint').primary().autoincrement().generated('by default as identity'),
    jobId: p.text(),
    /** The scheduled instant of the occurrence (not when it started). */
    runTime: p.datetime().runtimeType('Date'),
    /** Which attempt of the occurrence: 1, 2, … (retries and recoveries add attempts). */
    attempt: p.integer().default(1),
    /** On a failed attempt with attempts left: when the next one is due. */
    nextAttemptAt: p.datetime().runtimeType('Date').nullable(),
    /** The job's task, copied when the row is queued: workers start the queued rows of the tasks they have registered. */
    task: p.text().nullable(),
    /** On a queued retry: not started before this instant (its backoff). */
    startAfter: p.datetime().runtimeType('Date').nullable(),
    status: p.enum(EXECUTION_STATUSES).$type<ExecutionStatus>().columnType('text'),
    startedAt: p.datetime().runtimeType('Date').nullable(),
    finishedAt: p.datetime().runtimeType('Date').nullable(),
    /** Milliseconds from start to finish. */
    durationMs: p.decimal('number').columnType('numeric').nullable(),
    exception: p.text().nullable(),
    traceback: p.text().nullable(),
    /** Node id of the process that runs it (`host:pid:random`). */
    owner: p.text().nullable(),
    /** Until when the owner's heartbeat vouches for a `running` execution; past it, the execution is abandoned. */
    leaseUntil: p.datetime().runtimeType('Date').nullable(),
    /** The status a late outcome finished with: the execution ended after it was marked `abandoned`. */
    lateStatus: p.text().nullable(),
    /** When that late outcome arrived. */
    lateFinishedAt: p.datetime().runtimeType('Date').nullable(),
    /** The late outcome's exception text. */
    lateException: p.text().nullable(),
    /** The handler's return value (JSON; at most 64 KiB, else a note saying why it was not kept); null when it returned nothing or did not succeed. */
    result: p.json<unknown>().columnType('jsonb').nullable(),
    /** The lines the handler logged through `ctx.log` (JSON array of `{ time, level, msg, fields }`; the last 200 or 64 KiB); null when capture is off. */
    logs: p.json<unknown[]>().columnType('jsonb').nullable()
  },
  uniques: [{ properties: ['jobId', 'runTime', 'attempt'], name: 'scheduler_job_execution_occurrence_key' }],
  indexes: [
    { properties: ['status', 'runTime'], name: 'scheduler_job_execution_status_run_time_idx' },
    { properties: ['jobId', 'leaseUntil'], name: 'scheduler_job_execution_running_idx', where: "status = 'running'" },
    { properties: ['task', 'runTime'], name: 'scheduler_job_execution_queued_idx', where: "status = 'queued'" }
  ]
})

export class SchedulerJobExecution extends SchedulerJobExecutionSchema.class {}
SchedulerJobExecutionSchema.setClass(SchedulerJobExecution)
