/**
 * Installs the scheduler's tables at start: one transaction, serialised across processes with
 * `pg_advisory_xact_lock` (PostgreSQL docs, "Advisory Locks"), idempotent. Never
 * `orm.schema.update()`: on the host's database that drops tables it does not know.
 */
import type { SqlClient } from '../sql/sql-client.js'
import { SCHEMA_LOCK_KEY } from './ddl.js'
import { quoteIdentifier } from './placement.js'
import { SCHEMA_VERSIONS } from './versions.js'

/**
 * Creates the tables or brings them to the last schema version, running every version's idempotent
 * `up` in order. With `schema`, creates the schema when missing; `sql` must place statements in it
 * (`placedSqlClient`).
 */
export async function installSchema (sql: SqlClient, schema: string | null = null): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK_KEY])
    if (schema !== null) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`)
    for (const version of SCHEMA_VERSIONS) for (const statement of version.up) await tx.query(statement)
  })
}
