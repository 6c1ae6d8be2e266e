/**
 * A MikroORM `Migration` that creates the scheduler's tables, for hosts that run their schema
 * through `@mikro-orm/migrations` (import from `fastify-mikro-scheduler/migration`). The same
 * idempotent DDL the plugin runs at start, so running both is harmless.
 *
 * ```ts
 * import { SchedulerMigration } from 'fastify-mikro-scheduler/migration'
 * // migrations: { migrationsList: [{ name: 'SchedulerMigration', class: SchedulerMigration }] }
 * ```
 */
import { Migration } from '@mikro-orm/migrations'
import { DROP_STATEMENTS, SCHEMA_STATEMENTS } from './ddl.js'

export class SchedulerMigration extends Migration {
  override name = 'SchedulerMigration'

  override up (): void {
    for (const statement of SCHEMA_STATEMENTS) this.addSql(statement)
  }

  /** Drops both tables, execution history included. */
  override down (): void {
    for (const statement of DROP_STATEMENTS) this.addSql(statement)
  }
}
