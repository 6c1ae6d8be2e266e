/**
 * The names of the scheduler's tables, for a host that does not list `schedulerEntities` and keeps
 * MikroORM's schema tools off them: `schemaGenerator: { skipTables: [...SCHEDULER_TABLES] }`.
 * Without that (or the entities), `schema:update` and `migration:create` propose dropping them.
 */
export const SCHEDULER_TABLES: readonly string[] = ['scheduler_job', 'scheduler_job_execution', 'scheduler_leader', 'scheduler_node', 'scheduler_audit']
