/**
 * fastify-mikro-scheduler: a persistent, cluster-safe job scheduler for Fastify on MikroORM +
 * PostgreSQL. See README.md for the quickstart and DESIGN notes.
 */
export { schedulerPlugin, schedulerPlugin as default, type SchedulerPluginOptions } from './plugin.js'
export { schedulerRoutes, type SchedulerRoutesOptions } from './routes/plugin.js'
export { schedulerUi, type SchedulerUiOptions } from './ui/index.js'
export { Scheduler, type SchedulerStatus } from './scheduler/scheduler.js'
export { registerJob, registerJobs, scheduled, type ScheduledOptions } from './registration.js'
export { createTrigger, previewFireTimes, describeTrigger } from './triggers/index.js'
export type * from './triggers/types.js'
export { SchedulerJob, SchedulerJobSchema } from './entities/scheduler-job.js'
export { SchedulerJobExecution, SchedulerJobExecutionSchema } from './entities/scheduler-job-execution.js'
export { EXECUTION_STATUSES, STATUS_LABELS, type ExecutionStatus } from './execution-status.js'
export { MikroOrmJobStore } from './stores/mikro-orm-job-store.js'
export { MemoryJobStore, type MemoryJobStoreOptions } from './stores/memory-job-store.js'
export type { JobStore, JobRecord, ExecutionRecord, JobFilter, ExecutionFilter } from './stores/job-store.js'
export { SCHEMA_STATEMENTS, DROP_STATEMENTS } from './schema/ddl.js'
export { installSchema } from './schema/install.js'
export { lockEmbeddedDatabase, embeddedLockPath } from './embedded.js'
export type { SchedulerOptions, LockOption } from './options.js'
export type * from './types.js'
export * as errors from './errors.js'
