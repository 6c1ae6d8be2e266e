/**
 * `fastify-mikro-scheduler/core`: everything the package exports, without declaring
 * `app.scheduler` on Fastify's types. For apps where that name belongs to another plugin (the
 * official `@fastify/schedule` declares `scheduler: ToadScheduler`): register with
 * `{ decorator: 'jobs' }` and reach the scheduler with `schedulerOf(app)` (typed), or declare
 * `jobs: Scheduler` on `FastifyInstance` yourself. The main entry point re-exports all of this and
 * adds the `app.scheduler` declaration.
 */
export { schedulerPlugin, type SchedulerPluginOptions } from './plugin.js'
export { schedulerOf, kScheduler, DEFAULT_DECORATOR } from './decorator.js'
export { schedulerRoutes, type SchedulerRoutesOptions } from './routes/plugin.js'
export type { SchedulerOpenApiOptions } from './routes/openapi.js'
export type {
  JobJson, JobListItemJson, ExecutionJson, ExecutionListItemJson, PageJson, StatusJson, TasksJson, FireTimesJson, ErrorJson, AuditEntryJson
} from './routes/schemas.js'
export type { ActorHook } from './routes/actor.js'
export type { OverviewJson } from './routes/stats.js'
export { schedulerUi, type SchedulerUiOptions } from './ui/index.js'
export { Scheduler, type SchedulerStatus } from './scheduler/scheduler.js'
export type { AuditOptions } from './scheduler/audit.js'
export { AUDIT_ACTIONS, type AuditAction, type AuditChange, type AuditFilter, type AuditRecord } from './stores/audit.js'
export { registerJob, registerJobs, scheduled, type ScheduledOptions } from './registration.js'
export { createTrigger, previewFireTimes, describeTrigger } from './triggers/index.js'
export type * from './triggers/types.js'
export { SchedulerJob, SchedulerJobSchema } from './entities/scheduler-job.js'
export { SchedulerJobExecution, SchedulerJobExecutionSchema } from './entities/scheduler-job-execution.js'
export { SchedulerLeader, SchedulerLeaderSchema } from './entities/scheduler-leader.js'
export { SchedulerNode, SchedulerNodeSchema } from './entities/scheduler-node.js'
export { SchedulerAudit, SchedulerAuditSchema } from './entities/scheduler-audit.js'
export { schedulerEntities } from './entities/index.js'
export { SCHEDULER_TABLES } from './schema/tables.js'
export { EXECUTION_STATUSES, STATUS_LABELS, type ExecutionStatus } from './execution-status.js'
export { MikroOrmJobStore, type MikroOrmJobStoreOptions, type InstallMode } from './stores/mikro-orm-job-store.js'
export { MemoryJobStore, type MemoryJobStoreOptions } from './stores/memory-job-store.js'
export type { JobStore, JobRecord, ExecutionRecord, JobFilter, ExecutionFilter } from './stores/job-store.js'
export { SCHEMA_STATEMENTS, DROP_STATEMENTS } from './schema/ddl.js'
export { installSchema } from './schema/install.js'
export { verifySchema } from './schema/verify.js'
export { SCHEMA_VERSIONS, type SchemaVersion } from './schema/versions.js'
export { MYSQL_TABLES, MYSQL_DROP_STATEMENTS, MYSQL_CHANGE_TABLE, mysqlVersionStatements, type MysqlTable } from './schema/mysql-ddl.js'
export { installMysqlSchema, verifyMysqlSchema } from './schema/mysql-install.js'
export { lockEmbeddedDatabase, embeddedLockPath } from './embedded.js'
export { parseDatabaseUrl, DatabaseUrlError, DATABASE_URL_FORMS, type DatabaseUrl } from './database-url.js'
export type { SchedulerOptions, LockOption } from './options.js'
export type * from './types.js'
export * as errors from './errors.js'
