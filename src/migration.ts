/** Subpath `fastify-mikro-scheduler/migration`: needs `@mikro-orm/migrations` in the host. */
export { SchedulerMigration, schedulerMigrations, Migration20261201000000_scheduler_initial, type SchedulerMigrationClass } from './schema/migration.js'
