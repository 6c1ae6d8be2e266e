/** Subpath `fastify-mikro-scheduler/migration`: needs `@mikro-orm/migrations` in the host. */
export { SchedulerMigration, schedulerMigrations, Migration20261201000000_scheduler_initial, Migration20261201220000_scheduler_late_outcomes, Migration20261205190000_scheduler_nodes, Migration20261205203000_scheduler_results_logs, type SchedulerMigrationClass } from './schema/migration.js'
