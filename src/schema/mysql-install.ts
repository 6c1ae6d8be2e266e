/**
 * Installs and checks the scheduler's tables on MySQL and MariaDB (`mysql-ddl.ts`).
 *
 * MySQL's DDL commits implicitly (no transactional DDL, MySQL docs "Statements That Cause an
 * Implicit Commit"), so the install is not one transaction as on PostgreSQL: it first probes
 * `information_schema` (read-only, no metadata lock on our tables), and only when something is
 * missing takes `GET_LOCK` on one connection and runs each idempotent step (`CREATE TABLE IF NOT
 * EXISTS` of a whole table, `INSERT IGNORE` of the counter rows), so processes starting together
 * install once, in turn, and a crash half-way leaves whole tables that the next start completes.
 */
import { InvalidOptionsError, SchemaOutdatedError } from '../errors.js'
import type { SqlClient, SqlExecutor } from '../sql/sql-client.js'
import { MYSQL_SCHEMA_LOCK, MYSQL_SEED_STATEMENTS, MYSQL_TABLES } from './mysql-ddl.js'
import { SCHEMA_VERSIONS } from './versions.js'

/** Seconds `installMysqlSchema` waits for another process's install to finish. */
const SCHEMA_LOCK_WAIT_SECONDS = 60

/** What is missing, for an error: the first few objects and how many more. */
function describeMissing (missing: string[]): string {
  const shown = missing.slice(0, 5).join(', ')
  return missing.length > 5 ? `${shown} and ${missing.length - 5} more` : shown
}

/**
 * The error for tables that lack `missing`: it names the first migration (on MySQL the first
 * version creates every table, `mysqlVersionStatements`) and every version after it.
 */
function outdated (missing: string[]): Error {
  const [first] = SCHEMA_VERSIONS
  return new SchemaOutdatedError(first?.name ?? '', `the scheduler's MySQL tables (missing: ${describeMissing(missing)})`, SCHEMA_VERSIONS.map((version) => version.name).join(', '))
}

/**
 * Creates the tables when any is missing. `schema` must be null: MySQL has no schemas inside a
 * database (a host puts the tables in another database by its connection's database).
 * @throws InvalidOptionsError for a `schema`.
 * @throws Error when `GET_LOCK` is not granted within 60 s (another install hangs).
 */
export async function installMysqlSchema (sql: SqlClient, schema: string | null): Promise<void> {
  if (schema !== null) throw mysqlSchemaOptionError(schema)
  if ((await missingObjects(sql)).length === 0) return
  // One connection (GET_LOCK belongs to the session); the transaction only pins it, since every
  // DDL statement commits on its own.
  await sql.transaction(async (tx) => {
    const [lock] = await tx.query<{ granted: number | null }>('SELECT GET_LOCK(?, ?) AS granted', [MYSQL_SCHEMA_LOCK, SCHEMA_LOCK_WAIT_SECONDS])
    if (Number(lock?.granted) !== 1) throw new Error(`the scheduler's schema install lock (${MYSQL_SCHEMA_LOCK}) was not granted within ${SCHEMA_LOCK_WAIT_SECONDS} s`)
    try {
      for (const table of MYSQL_TABLES) await tx.query(table.create)
      for (const statement of MYSQL_SEED_STATEMENTS) await tx.query(statement)
    } finally {
      await tx.query('SELECT RELEASE_LOCK(?)', [MYSQL_SCHEMA_LOCK])
    }
  })
  const missing = await missingObjects(sql)
  if (missing.length > 0) throw outdated(missing)
}

/**
 * `install: 'migrations'` on MySQL: resolves when every table, column and index is in place.
 * @throws SchemaOutdatedError naming what is missing.
 */
export async function verifyMysqlSchema (sql: SqlExecutor): Promise<void> {
  const missing = await missingObjects(sql)
  if (missing.length > 0) throw outdated(missing)
}

/** `table.column` and `table(index)` of the DDL not found in the connection's database, plus a missing counter row. */
async function missingObjects (sql: SqlExecutor): Promise<string[]> {
  const names = MYSQL_TABLES.map((table) => table.name)
  const columns = await sql.query<{ t: string, c: string }>(
    'SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)', [names])
  const indexes = await sql.query<{ t: string, i: string }>(
    'SELECT DISTINCT TABLE_NAME AS t, INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)', [names])
  const haveColumns = new Set(columns.map((row) => `${row.t}.${row.c}`))
  const haveIndexes = new Set(indexes.map((row) => `${row.t}(${row.i})`))
  const missing: string[] = []
  for (const table of MYSQL_TABLES) {
    for (const column of table.columns) if (!haveColumns.has(`${table.name}.${column}`)) missing.push(`${table.name}.${column}`)
    for (const index of table.indexes) if (!haveIndexes.has(`${table.name}(${index})`)) missing.push(`${table.name}(${index})`)
  }
  return missing
}

/** The error for a `schema` option on MySQL, which has no schemas inside a database. */
export function mysqlSchemaOptionError (schema: string): Error {
  return new InvalidOptionsError('schema', `is a PostgreSQL option; MySQL and MariaDB have no schemas inside a database (got ${JSON.stringify(schema)}): put the tables in another database through the ORM's connection (dbName) instead, and leave schema unset`)
}
