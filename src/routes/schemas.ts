/**
 * TypeBox schemas of the admin REST routes: params, query strings, bodies and responses. They are
 * plain JSON Schema, so `@fastify/swagger` shows them when the host uses it. Bodies and query
 * strings have `additionalProperties: false`: an unknown field is a 400 naming it.
 *
 * Dates in responses are ISO-8601 strings (`2026-11-21T09:30:00.000Z`).
 */
import { MAX_ATTEMPTS } from '../scheduler/retry-policy.js'
import { Type, type Static, type TSchema } from 'typebox'
import { EXECUTION_STATUSES } from '../execution-status.js'
import { AUDIT_ACTIONS, MAX_ACTOR_CHARS } from '../stores/audit.js'
import { MAX_ID_LENGTH } from '../scheduler/job-input.js'

/** Largest value of PostgreSQL `integer` columns (`max_instances`, `misfire_grace_time`, `timeout_ms`). */
export const INT4_MAX = 2_147_483_647
/** Most items one list page returns; default {@link DEFAULT_PAGE_LIMIT}. */
export const MAX_PAGE_LIMIT = 500
export const DEFAULT_PAGE_LIMIT = 50
/** Fire-time previews: 1 to {@link MAX_PREVIEW} fire times, default {@link DEFAULT_PREVIEW}. */
export const MAX_PREVIEW = 100
export const DEFAULT_PREVIEW = 5
/** Longest `?wait=` of `POST /jobs/:id/run`, in milliseconds. */
export const MAX_RUN_WAIT_MS = 30_000

export const TRIGGER_TYPES = ['cron', 'interval', 'date', 'and', 'or'] as const
export const JOB_STATES = ['scheduled', 'paused', 'finished', 'flagged'] as const

const nullable = <T extends TSchema>(schema: T, options: { description?: string } = {}) => Type.Union([schema, Type.Null()], options)
const DateTime = Type.String({ format: 'date-time' })

// ---- building blocks -------------------------------------------------------------------------

const JobId = Type.String({
  minLength: 1,
  maxLength: MAX_ID_LENGTH,
  description: `Job id, 1 to ${MAX_ID_LENGTH} characters, no control characters. In a URL it is percent-encoded: "reports/eu" is /jobs/reports%2Feu.`
})
/**
 * Text without control characters, for filters in a query string: PostgreSQL refuses a NUL in a
 * text parameter (SQLSTATE 22021), so such a filter is a 400 here, not a database error.
 */
const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001f\\u007f]*$'
/** A job id as a query filter: `JobId` without control characters. */
const JobIdFilter = Type.String({ ...JobId, pattern: NO_CONTROL_CHARACTERS })
const TaskName = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'A registered task name (GET /tasks lists them).' })
const Name = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'Display name; default: the id.' })
const Args = Type.Array(Type.Unknown(), { description: 'JSON values passed to the task handler after ctx. Default [].' })

/**
 * Trigger JSON (README "Triggers"). Only `type` is checked here; the scheduler checks the rest and
 * answers 400 `FST_SCHEDULER_INVALID_TRIGGER` naming the field (`fields.hour: value 24 is out of range 0-23`).
 */
export const TriggerSchema = Type.Object({ type: Type.Enum([...TRIGGER_TYPES]) }, {
  additionalProperties: true,
  description: 'Trigger JSON: { type: "cron", expression } | { type: "cron", fields } | { type: "interval", hours, ... } | ' +
    '{ type: "date", runDate } | { type: "and" | "or", triggers }; common keys timezone, startDate, endDate, jitter.',
  examples: [{ type: 'cron', expression: '30 9 * * mon-fri', timezone: 'Europe/Berlin' }, { type: 'interval', minutes: 15 }]
})

const jobOptionFields = {
  misfireGraceTime: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: INT4_MAX, description: 'Seconds an occurrence may start late; null: always run.' }))),
  coalesce: Type.Optional(Type.Boolean({ description: 'Run overdue occurrences once instead of once each.' })),
  maxInstances: Type.Optional(Type.Integer({ minimum: 1, maximum: INT4_MAX, description: 'Executions of this job running at once, cluster-wide.' })),
  timeoutMs: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: INT4_MAX, description: 'Milliseconds before the run is aborted; null: no limit.' }))),
  captureLogs: Type.Optional(Type.Boolean({ description: 'Keep the lines the handler logs through ctx.log with each execution.' })),
  retry: Type.Optional(nullable(Type.Object({
    attempts: Type.Integer({ minimum: 1, maximum: MAX_ATTEMPTS, description: 'Attempts per occurrence, the first included (1: no retry).' }),
    backoff: Type.Optional(Type.Enum(['fixed', 'exponential'], { description: 'fixed: every retry waits delayMs; exponential (default): delayMs × 2^(attempt − 1).' })),
    delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: INT4_MAX, description: 'Milliseconds before the first retry (default 1000).' })),
    maxDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: INT4_MAX, description: 'Milliseconds no retry waits longer than (default one hour; at least delayMs).' }))
  }, { additionalProperties: false, description: 'Retry an attempt that ended error or timeout; null: one attempt.' }))),
  recover: Type.Optional(Type.Boolean({ description: 'Give an abandoned execution (owner died, lease lost) another attempt, counted against retry.attempts.' }))
}

// ---- requests --------------------------------------------------------------------------------

export const JobParams = Type.Object({ id: JobId }, { additionalProperties: false })
export const ExecutionParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Execution id.' })
}, { additionalProperties: false })

const page = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: `Page size, 1-${MAX_PAGE_LIMIT}.` })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: INT4_MAX, default: 0, description: 'Items to skip.' }))
}

export const JobListQuery = Type.Object({
  task: Type.Optional(TaskName),
  paused: Type.Optional(Type.Boolean()),
  flagged: Type.Optional(Type.Boolean({ description: 'true: only jobs with a lastError (cannot be loaded or run); false: only the others.' })),
  search: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'Case-insensitive text in the id or the name.' })),
  ...page
}, { additionalProperties: false })

const executionFilter = {
  status: Type.Optional(Type.Enum([...EXECUTION_STATUSES])),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Run times at or after this instant (ISO-8601 with offset).' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Run times at or before this instant.' })),
  ...page
}
export const JobExecutionsQuery = Type.Object(executionFilter, { additionalProperties: false })
export const ExecutionListQuery = Type.Object({ jobId: Type.Optional(JobIdFilter), ...executionFilter }, { additionalProperties: false })

const auditFilter = {
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ACTOR_CHARS, pattern: NO_CONTROL_CHARACTERS, description: 'Changes made by this actor (exact match).' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Changes at or after this instant (ISO-8601 with offset).' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Changes at or before this instant.' })),
  ...page
}
export const JobAuditQuery = Type.Object(auditFilter, { additionalProperties: false })
export const AuditListQuery = Type.Object({ jobId: Type.Optional(JobIdFilter), ...auditFilter }, { additionalProperties: false })

const previewCount = Type.Integer({ minimum: 1, maximum: MAX_PREVIEW, default: DEFAULT_PREVIEW, description: `How many fire times, 1-${MAX_PREVIEW}.` })
export const FireTimesQuery = Type.Object({ count: Type.Optional(previewCount) }, { additionalProperties: false })
export const RunQuery = Type.Object({
  wait: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: MAX_RUN_WAIT_MS,
    description: `Milliseconds (up to ${MAX_RUN_WAIT_MS}) to wait for the run to finish: 200 with the outcome when it does, else 202 as without wait.`
  }))
}, { additionalProperties: false })

export const NewJobBody = Type.Object({
  id: JobId,
  task: TaskName,
  trigger: TriggerSchema,
  args: Type.Optional(Args),
  name: Type.Optional(Name),
  paused: Type.Optional(Type.Boolean({ description: 'Add the job paused. Default false.' })),
  ...jobOptionFields
}, { additionalProperties: false })

export const JobChangesBody = Type.Object({
  task: Type.Optional(TaskName),
  trigger: Type.Optional(TriggerSchema),
  args: Type.Optional(Args),
  name: Type.Optional(Name),
  paused: Type.Optional(Type.Boolean()),
  ...jobOptionFields
}, { additionalProperties: false, minProperties: 1, description: 'Fields to change (the id cannot change). A new trigger reschedules the job from now.' })

export const PreviewBody = Type.Object({ trigger: TriggerSchema, count: Type.Optional(previewCount) }, { additionalProperties: false })

// ---- responses -------------------------------------------------------------------------------

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'Stable error code, e.g. FST_SCHEDULER_JOB_NOT_FOUND, FST_ERR_VALIDATION.' }),
  error: Type.String(),
  message: Type.String({ description: 'What is wrong, naming the field, and what to do.' })
}, { description: 'Error response: { statusCode, code, error, message }.' })

export const JobSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  task: Type.String(),
  args: Type.Array(Type.Unknown()),
  trigger: Type.Object({ type: Type.String() }, { additionalProperties: true }),
  description: nullable(Type.String({ description: 'When the trigger fires, in English; null when the stored trigger cannot be loaded.' })),
  state: Type.Enum([...JOB_STATES], { description: 'flagged: lastError is set; paused; finished: no next run; else scheduled.' }),
  nextRunTime: nullable(DateTime),
  nextFireTime: nullable(DateTime),
  paused: Type.Boolean(),
  misfireGraceTime: nullable(Type.Integer()),
  coalesce: Type.Boolean(),
  maxInstances: Type.Integer(),
  timeoutMs: nullable(Type.Integer()),
  captureLogs: Type.Boolean(),
  retry: nullable(Type.Object({
    attempts: Type.Integer(),
    backoff: Type.Enum(['fixed', 'exponential']),
    delayMs: Type.Integer(),
    maxDelayMs: Type.Integer()
  }, { additionalProperties: false })),
  recover: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
  version: Type.Integer(),
  lastError: nullable(Type.String())
}, { additionalProperties: false })

const executionFields = {
  id: Type.Integer(),
  jobId: Type.String(),
  runTime: DateTime,
  attempt: Type.Integer({ description: 'Which attempt of the occurrence: 1, 2, … (retries and recoveries add attempts).' }),
  nextAttemptAt: nullable(DateTime, { description: 'On an attempt that failed with attempts left: when the next attempt is due.' }),
  startAfter: nullable(DateTime, { description: 'On a queued retry: not started before this instant (its backoff).' }),
  status: Type.Enum([...EXECUTION_STATUSES]),
  statusLabel: Type.String({ description: 'How the status reads to people: "Executed", "Error!", "Missed!", ...' }),
  startedAt: nullable(DateTime),
  finishedAt: nullable(DateTime),
  durationMs: nullable(Type.Number({ description: 'Milliseconds the handler ran.' })),
  exception: nullable(Type.String()),
  owner: nullable(Type.String({ description: 'Node id of the process that ran it.' })),
  leaseUntil: nullable(DateTime),
  lateStatus: nullable(Type.String({ description: 'An abandoned execution that finished after all: the status it finished with (its late outcome).' })),
  lateFinishedAt: nullable(DateTime),
  lateException: nullable(Type.String({ description: 'The late outcome\'s exception text.' }))
}
export const ExecutionSchema = Type.Object(executionFields, { additionalProperties: false })
export const ExecutionDetailSchema = Type.Object({
  ...executionFields,
  traceback: nullable(Type.String()),
  result: Type.Unknown({ description: 'What the handler returned (JSON; a string "[result not stored: …]" when it was not JSON-serialisable or over 64 KiB); null when it returned nothing or did not succeed.' }),
  logs: nullable(Type.Array(Type.Object({
    time: Type.String(),
    level: Type.String(),
    msg: Type.String(),
    fields: Type.Record(Type.String(), Type.Unknown())
  }, { additionalProperties: false }), { description: 'The lines the handler logged through ctx.log, oldest first (the last 200 or 64 KiB); null when its job does not capture logs or it logged nothing.' }))
}, { additionalProperties: false })

/** One audit entry: a change made to a job. */
export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  action: Type.Enum([...AUDIT_ACTIONS], { description: 'What was done; run: an extra run was requested (the job is unchanged).' }),
  jobId: Type.String(),
  actor: Type.String({ description: "Who: the routes' actor hook's answer (default the guard's request.user.id, else 'api'), an API call's { actor } (default 'code'), or 'orm'." }),
  changes: Type.Record(Type.String(), Type.Object({ before: Type.Unknown(), after: Type.Unknown() }, { additionalProperties: false }), {
    description: 'The changed fields, by job field name: { before, after } (JSON values, dates as ISO strings; null before an add, after a removal). run: { executionId }.'
  })
}, { additionalProperties: false })

/** A job in a list: the job, its newest execution and the mean duration of its last 20 (one query for the page). */
export const JobListItemSchema = Type.Object({
  ...JobSchema.properties,
  lastExecution: nullable(ExecutionSchema),
  averageDurationMs: nullable(Type.Number({ description: 'Mean milliseconds of the job\'s last 20 executions that have a duration.' }))
}, { additionalProperties: false })

export function pageOf<T extends TSchema> (item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }, { additionalProperties: false })
}

export const FireTimesSchema = Type.Object({
  description: Type.String(),
  fireTimes: Type.Array(DateTime, { description: 'Upcoming fire times (without jitter), fewer when the trigger ends.' })
}, { additionalProperties: false })

export const NodeSchema = Type.Object({
  nodeId: Type.String({ description: 'The process\'s node id: the owner of its executions.' }),
  host: Type.String(),
  pid: Type.Integer(),
  tasks: Type.Array(Type.String(), { description: 'Tasks it has registered.' }),
  roles: Type.Array(Type.String(), { description: 'plan (may lead and claim), execute (runs handlers).' }),
  lock: Type.String({ description: 'The leader lock it uses: advisory, file or none.' }),
  heartbeatMs: Type.Integer({ description: 'Its nodeHeartbeatMs: live while seen within three of these.' }),
  startedAt: DateTime,
  lastSeenAt: DateTime,
  lastSeenAgoMs: Type.Integer({ description: 'Milliseconds since its last heartbeat, by the database clock.' }),
  running: Type.Integer({ description: 'Its running executions.' })
}, { additionalProperties: false, description: 'A live scheduler process.' })

export const StatusSchema = Type.Object({
  nodeId: Type.String({ description: 'This process.' }),
  state: Type.String({ description: 'stopped | starting | running | stopping (this process).' }),
  isLeader: Type.Boolean({ description: 'Whether this process runs the scheduling loop.' }),
  lock: Type.String(),
  leader: nullable(Type.Object({ nodeId: Type.String(), acquiredAt: nullable(DateTime), heartbeatAt: nullable(DateTime) }, { additionalProperties: false })),
  nodes: Type.Array(NodeSchema, { description: 'Every live scheduler process (node registry), by node id.' }),
  runningExecutions: Type.Array(ExecutionSchema, { description: 'Executions running anywhere in the cluster.' }),
  localExecutions: Type.Array(Type.Integer(), { description: 'Ids of the executions running in this process.' }),
  nextWakeup: nullable(DateTime),
  tasks: Type.Array(Type.String())
}, { additionalProperties: false })

export const TasksSchema = Type.Object({
  items: Type.Array(Type.Object({ name: Type.String() }, { additionalProperties: false })),
  total: Type.Integer()
}, { additionalProperties: false, description: 'Tasks registered in this process.' })

/** Error responses a route can give, for the docs (401/403 come from the host's guard). */
export function errors (...codes: Array<400 | 404 | 409 | 413 | 503>): Record<number, typeof ErrorSchema> {
  return Object.fromEntries([...new Set([...codes, 503])].map((code) => [code, ErrorSchema]))
}

/** REST answer: one job (`GET /jobs/:id`, and the body of `POST`/`PATCH` answers); dates as ISO strings. */
export type JobJson = Static<typeof JobSchema>
/** REST answer: one execution with its traceback, result and logs (`GET /executions/:id`). */
export type ExecutionJson = Static<typeof ExecutionDetailSchema>
/** REST answer: an execution in a list (no traceback, result or logs). */
export type ExecutionListItemJson = Static<typeof ExecutionSchema>
/** REST answer: a job in `GET /jobs`, with its last execution and average duration. */
export type JobListItemJson = Static<typeof JobListItemSchema>
/** REST answer: one audit entry (`GET /audit`, `GET /jobs/:id/audit`). */
export type AuditEntryJson = Static<typeof AuditEntrySchema>
/** REST answer: one page of a list (`GET /jobs`, `GET /executions`, `GET /jobs/:id/executions`). */
export interface PageJson<Item> { items: Item[], total: number, limit: number, offset: number }
/** REST answer: `GET /status`. */
export type StatusJson = Static<typeof StatusSchema>
/** REST answer: `GET /tasks`. */
export type TasksJson = Static<typeof TasksSchema>
/** REST answer: fire-time previews (`GET /jobs/:id/fire-times`, `POST /fire-times`). */
export type FireTimesJson = Static<typeof FireTimesSchema>
/** REST answer of every error: `{ statusCode, code, error, message }`. */
export type ErrorJson = Static<typeof ErrorSchema>
