/** Subpath `fastify-mikro-scheduler/migration`: needs `@mikro-orm/migrations` in the host. */
export { SchedulerMigration } from './schema/migration.js'
