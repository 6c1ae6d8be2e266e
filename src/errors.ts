/**
 * Stable error codes of fastify-mikro-scheduler, built with `@fastify/error` so that Fastify
 * serialises them with their HTTP status code. Every message says what is wrong and what to do.
 *
 * Catch them by class (`err instanceof errors.JobNotFoundError`) or by `err.code`.
 */
import createError from '@fastify/error'

/** 404: no job with the given id exists in the job store. Args: (jobId). */
export const JobNotFoundError = createError<'FST_SCHEDULER_JOB_NOT_FOUND', 404, [string]>(
  'FST_SCHEDULER_JOB_NOT_FOUND',
  "job '%s' does not exist; list jobs with scheduler.getJobs() to see the ids",
  404
)

/** 404: no execution with the given id exists. Args: (execution id). */
export const ExecutionNotFoundError = createError<'FST_SCHEDULER_EXECUTION_NOT_FOUND', 404, [number]>(
  'FST_SCHEDULER_EXECUTION_NOT_FOUND',
  'execution %s does not exist (it may have been removed by deleteOldExecutions)',
  404
)

/** 504: `waitForExecution` gave up. Args: (execution id, milliseconds waited, its status then). */
export const WaitTimeoutError = createError<'FST_SCHEDULER_WAIT_TIMEOUT', 504, [number, number, string]>(
  'FST_SCHEDULER_WAIT_TIMEOUT',
  'execution %s did not finish within %d ms (it is still %s); wait longer or follow it with getExecution',
  504
)

/** 409: a job with the given id already exists and `replaceExisting` was not set. Args: (jobId). */
export const ConflictingIdError = createError<'FST_SCHEDULER_CONFLICTING_ID', 409, [string]>(
  'FST_SCHEDULER_CONFLICTING_ID',
  "job '%s' already exists; pick another id, or pass { replaceExisting: true } to overwrite it",
  409
)

/** 400: a trigger JSON is invalid. Args: (path of the bad field, what is wrong). */
export const InvalidTriggerError = createError<'FST_SCHEDULER_INVALID_TRIGGER', 400, [string, string]>(
  'FST_SCHEDULER_INVALID_TRIGGER',
  'invalid trigger: %s: %s',
  400
)

/** 400: a job refers to a task name no handler was registered for. Args: (task name). */
export const TaskNotRegisteredError = createError<'FST_SCHEDULER_TASK_NOT_REGISTERED', 400, [string]>(
  'FST_SCHEDULER_TASK_NOT_REGISTERED',
  "task '%s' is not registered; register it with app.scheduler.registerTask(name, handler) before adding jobs that use it",
  400
)

/** 400: a job definition (id, args, options) is invalid. Args: (field, what is wrong). */
export const InvalidJobError = createError<'FST_SCHEDULER_INVALID_JOB', 400, [string, string]>(
  'FST_SCHEDULER_INVALID_JOB',
  'invalid job: %s: %s',
  400
)

/** 500: the plugin or scheduler options are invalid (a programming error in the host). Args: (option, what is wrong). */
export const InvalidOptionsError = createError<'FST_SCHEDULER_INVALID_OPTIONS', 500, [string, string]>(
  'FST_SCHEDULER_INVALID_OPTIONS',
  'invalid scheduler option %s: %s',
  500
)

/** 409: an operation needs the scheduler in another state (for example `start()` twice). Args: (what is wrong). */
export const SchedulerStateError = createError<'FST_SCHEDULER_STATE', 409, [string]>(
  'FST_SCHEDULER_STATE',
  'scheduler: %s',
  409
)

/** 409: the embedded data directory or lock file is held by another live process. Args: (path, holder description). */
export const LockHeldError = createError<'FST_SCHEDULER_LOCK_HELD', 409, [string, string]>(
  'FST_SCHEDULER_LOCK_HELD',
  "lock file '%s' is held by %s; stop that process or point this one at another data directory",
  409
)

/**
 * 500: with `install: 'migrations'` the scheduler's tables are older than this library (or absent).
 * Args: (first missing migration, what it adds, every pending migration).
 */
export const SchemaOutdatedError = createError<'FST_SCHEDULER_SCHEMA_OUTDATED', 500, [string, string, string]>(
  'FST_SCHEDULER_SCHEMA_OUTDATED',
  "the scheduler's tables are older than this library: migration '%s' (%s) has not been applied. With install: 'migrations' the " +
    'scheduler never changes the schema; add schedulerMigrations to the migrations of the app and run them (npx mikro-orm migration:up) ' +
    "with a role that may change the schema, or use install: 'auto'. Pending: %s",
  500
)

/**
 * 409: a job changed between reading and writing it (its `version` moved) more times than the
 * scheduler retries a read-modify-write. Args: (jobId, attempts).
 */
export const JobConflictError = createError<'FST_SCHEDULER_JOB_CONFLICT', 409, [string, number]>(
  'FST_SCHEDULER_JOB_CONFLICT',
  "job '%s' kept changing while this change was being applied (%d attempts, each losing a version race); read the job again and retry",
  409
)

/**
 * 409 (internal to stores): `updateJob` was given an `expectedVersion` the job no longer has.
 * The scheduler re-reads and retries; callers see `JobConflictError` when retries run out. Args: (jobId, expected version).
 */
export const VersionMismatchError = createError<'FST_SCHEDULER_VERSION_MISMATCH', 409, [string, number]>(
  'FST_SCHEDULER_VERSION_MISMATCH',
  "job '%s' is no longer at version %d: another writer changed it; read it again",
  409
)
