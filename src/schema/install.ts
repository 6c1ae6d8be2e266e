/**
 * Installs the scheduler's tables at start: one transaction, serialised across processes with
 * `pg_advisory_xact_lock` (PostgreSQL docs, "Advisory Locks"), idempotent. Never
 * `orm.schema.update()`: on the host's database that drops tables it does not know.
 */
import type { SqlClient } from '../sql/sql-client.js'
import { SCHEMA_LOCK_KEY, SCHEMA_STATEMENTS } from './ddl.js'

export async function installSchema (sql: SqlClient): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK_KEY])
    for (const statement of SCHEMA_STATEMENTS) await tx.query(statement)
  })
}
