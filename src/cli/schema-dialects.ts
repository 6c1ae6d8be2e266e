/**
 * The scheduler's schema as the command line sees it on each database: the DDL `schema sql`
 * prints, and the query telling whether the tables are there at all (commands other than
 * `schema` refuse a database without them instead of creating them). Installing and checking use
 * the stores' own per-dialect functions (`statementsFor(dialect).installSchema` / `verifySchema`),
 * the ones the plugin runs at start.
 */
import type { DatabaseUrl } from '../database-url.js'
import { SCHEMA_STATEMENTS } from '../schema/ddl.js'
import { MYSQL_SEED_STATEMENTS, MYSQL_TABLES } from '../schema/mysql-ddl.js'
import { qualifyTables, quoteIdentifier } from '../schema/placement.js'
import type { SqlExecutor } from '../sql/sql-client.js'
import { SQLITE_SCHEMA_STATEMENTS } from '../stores/sqlite/schema.js'

interface SchemaDialect {
  /** The whole DDL, in order, each statement idempotent; `schema` only on PostgreSQL (else null). */
  statements(schema: string | null): string[]
  /** A query whose one row's `present` counts which of `scheduler_job` and `scheduler_job_execution` exist. */
  present: string
}

const SCHEMA_DIALECTS: Record<DatabaseUrl['dialect'], SchemaDialect> = {
  postgresql: {
    statements: (schema) => [
      ...(schema === null ? [] : [`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`]),
      ...SCHEMA_STATEMENTS.map((statement) => qualifyTables(statement, schema))
    ],
    // The names are placed in --schema by the placed SQL port, like every statement.
    present: "SELECT (to_regclass('scheduler_job') IS NOT NULL)::integer + (to_regclass('scheduler_job_execution') IS NOT NULL)::integer AS present"
  },
  mysql: {
    statements: () => [...MYSQL_TABLES.map((table) => table.create), ...MYSQL_SEED_STATEMENTS],
    present: "SELECT count(*) AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('scheduler_job', 'scheduler_job_execution')"
  },
  sqlite: {
    statements: () => [...SQLITE_SCHEMA_STATEMENTS],
    present: "SELECT count(*) AS present FROM sqlite_master WHERE type = 'table' AND name IN ('scheduler_job', 'scheduler_job_execution')"
  }
}

/** The DDL of `dialect`'s schema, each statement without its `;` (PostgreSQL: placed in `schema`). */
export function schemaStatements (dialect: DatabaseUrl['dialect'], schema: string | null): string[] {
  return SCHEMA_DIALECTS[dialect].statements(schema)
}

/** True when the job and execution tables exist where `sql` finds them. */
export async function schedulerTablesPresent (dialect: DatabaseUrl['dialect'], sql: SqlExecutor): Promise<boolean> {
  const [row] = await sql.query<{ present: unknown }>(SCHEMA_DIALECTS[dialect].present)
  return Number(row?.present) === 2
}
