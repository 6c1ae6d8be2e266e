/**
 * The scheduler's schema versions as MikroORM `Migration` classes, for hosts that run their schema
 * through `@mikro-orm/migrations` (import from `fastify-mikro-scheduler/migration`):
 *
 * ```ts
 * import { schedulerMigrations } from 'fastify-mikro-scheduler/migration'
 * // migrations: { migrationsList: [...schedulerMigrations, ...ownMigrations] }
 * ```
 *
 * With file-based migrations (`migrations.path`), add one file per class to the folder, re-exporting it:
 * `export { Migration20261201000000_scheduler_initial } from 'fastify-mikro-scheduler/migration'`.
 * Every `up` is idempotent, so running them on tables the plugin already installed is harmless.
 *
 * On MySQL and MariaDB (the ORM's driver on `mysql2` or `mariadb`) and on SQLite (`@mikro-orm/libsql`)
 * the same names carry that database's DDL (`mysqlVersionStatements`, `stores/sqlite/schema.ts`):
 * the first creates every table, the later ones are empty there.
 */
import type { MigrationObject, MikroORM } from '@mikro-orm/core'
import { Migration } from '@mikro-orm/migrations'
import { ormDialect } from '../sql/from-orm.js'
import { sqliteVersionStatements } from '../stores/sqlite/schema.js'
import { mysqlVersionStatements } from './mysql-ddl.js'
import { checkSchemaName, qualifyTables, quoteIdentifier } from './placement.js'
import { SCHEMA_VERSIONS, type SchemaVersion } from './versions.js'

/** The ORM's `schema` option places the tables (as the plugin does); `public` means no qualification. */
function migrationSchema (schema: unknown): string | null {
  const checked = checkSchemaName(schema, 'schema')
  return checked === 'public' ? null : checked
}

/** A concrete migration class, as MikroORM's `migrationsList` takes it. */
export type SchedulerMigrationClass = MigrationObject['class']

/**
 * A version's statements in the migration's own dialect, for MySQL/MariaDB and SQLite (whose DDL is
 * their own); null on PostgreSQL and PGlite, whose statements are placed in the ORM's schema.
 */
function dialectStatements (migration: Migration, version: SchemaVersion, index: number, direction: 'up' | 'down'): readonly string[] | null {
  switch (ormDialect({ config: (migration as unknown as { config: MikroORM['config'] }).config })) {
    case 'mysql': return mysqlVersionStatements(index, direction)
    case 'sqlite': return sqliteVersionStatements(version.name)[direction]
    default: return null
  }
}

function versionMigration (version: SchemaVersion, index: number): SchedulerMigrationClass {
  const named = {
    [version.name]: class extends Migration {
      override name = version.name
      override up (): void {
        const own = dialectStatements(this, version, index, 'up')
        if (own !== null) {
          for (const statement of own) this.addSql(statement)
          return
        }
        const schema = migrationSchema(this.config.get('schema'))
        if (schema !== null) this.addSql(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`)
        for (const statement of version.up) this.addSql(qualifyTables(statement, schema))
      }

      override down (): void {
        const own = dialectStatements(this, version, index, 'down')
        if (own !== null) {
          for (const statement of own) this.addSql(statement)
          return
        }
        const schema = migrationSchema(this.config.get('schema'))
        for (const statement of version.down) this.addSql(qualifyTables(statement, schema))
      }
    }
  }
  return named[version.name] as SchedulerMigrationClass
}

/** Every schema version in order, as `migrationsList` entries `{ name, class }`. */
export const schedulerMigrations: readonly MigrationObject[] =
  SCHEMA_VERSIONS.map((version, index) => ({ name: version.name, class: versionMigration(version, index) }))

/** Creates the tables (`down` drops them, execution history included). */
export const Migration20261201000000_scheduler_initial: SchedulerMigrationClass = schedulerMigrations[0]!.class
/** The second version: the late outcome columns of `scheduler_job_execution`. */
export const Migration20261201220000_scheduler_late_outcomes: SchedulerMigrationClass = schedulerMigrations[1]!.class
/** The third version: the node registry `scheduler_node`. */
export const Migration20261205190000_scheduler_nodes: SchedulerMigrationClass = schedulerMigrations[2]!.class
/** The fourth version: an execution's `result` and captured `logs`, and the job option `capture_logs`. */
export const Migration20261205203000_scheduler_results_logs: SchedulerMigrationClass = schedulerMigrations[3]!.class
/** The fifth version: retries and crash recovery (an execution's `attempt`, the key `(job_id, run_time, attempt)`, the job's `retry` and `recover`). */
export const Migration20261205220000_scheduler_retries: SchedulerMigrationClass = schedulerMigrations[4]!.class
/** The sixth version: the audit trail `scheduler_audit`. */
export const Migration20261205221000_scheduler_audit: SchedulerMigrationClass = schedulerMigrations[5]!.class
/** The seventh version: distributed execution (an execution's `task`, and the index of queued rows by task). */
export const Migration20261206000000_scheduler_distributed: SchedulerMigrationClass = schedulerMigrations[6]!.class
/** The eighth version: drops `scheduler_job_execution_job_id_run_time_idx`, a prefix of the occurrence key (nothing to do on MySQL and SQLite, whose first version never had it). */
export const Migration20261206140000_scheduler_redundant_index: SchedulerMigrationClass = schedulerMigrations[7]!.class

/**
 * All versions at once: the single migration of earlier releases, kept for hosts that list it.
 * New hosts list {@link schedulerMigrations} instead, so later schema changes arrive as migrations of their own.
 */
export class SchedulerMigration extends Migration {
  override name = 'SchedulerMigration'

  override up (): void {
    for (const [index, version] of SCHEMA_VERSIONS.entries()) {
      for (const statement of dialectStatements(this, version, index, 'up') ?? version.up) this.addSql(statement)
    }
  }

  /** Drops the tables, execution history included. */
  override down (): void {
    for (const [index, version] of [...SCHEMA_VERSIONS.entries()].reverse()) {
      for (const statement of dialectStatements(this, version, index, 'down') ?? version.down) this.addSql(statement)
    }
  }
}
