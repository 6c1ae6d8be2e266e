/**
 * SQL fragments shared by the MySQL/MariaDB statement modules: the column lists with MySQL's
 * reserved words quoted, the clock, intervals, and list parameters. Only SQL that MySQL ≥ 8.0 and
 * MariaDB ≥ 10.6 both accept.
 */
import { sql, type SqlBool } from 'kysely'
import { queryBuilder, run } from '../../sql/query-builder.js'
import { atomically } from '../../sql/sql-client.js'
import { EXECUTION_COLUMNS, EXECUTION_DETAIL_COLUMNS, JOB_COLUMNS, rowToExecution, rowToJob } from '../rows.js'
import { JOB_COLUMN_NAMES, type SqlDialect } from '../sql-dialect.js'

/** `JOB_COLUMNS` with `trigger` (a reserved word in MySQL) and `coalesce` quoted. */
export const MYSQL_JOB_COLUMNS = quoteReserved(JOB_COLUMNS)

/** `EXECUTION_COLUMNS` (no reserved words among them). */
export const MYSQL_EXECUTION_COLUMNS = EXECUTION_COLUMNS

/** `EXECUTION_DETAIL_COLUMNS`. */
export const MYSQL_EXECUTION_DETAIL_COLUMNS = EXECUTION_DETAIL_COLUMNS

/** Quotes `trigger` and `coalesce` in a column list. */
export function quoteReserved (columns: string): string {
  return columns.split(', ').map((column) => column === 'trigger' || column === 'coalesce' ? `\`${column}\`` : column).join(', ')
}

/**
 * `?` as a `datetime(3)`, or the database clock (`UTC_TIMESTAMP(3)`) when the value is null. The
 * clock is the statement's start, the same at every use within one statement (MySQL docs, "Date
 * and Time Functions"), so a statement may repeat it with the same value.
 */
export const NOW = 'CAST(COALESCE(?, UTC_TIMESTAMP(3)) AS DATETIME(3))'

/** `expression + ? milliseconds` (fractions kept to the microsecond). */
export const plusMs = (expression: string): string => `(${expression} + INTERVAL ROUND(? * 1000) MICROSECOND)`

/** `expression - ? milliseconds`. */
export const minusMs = (expression: string): string => `(${expression} - INTERVAL ROUND(? * 1000) MICROSECOND)`

/**
 * A list value for `IN (?)`: mysql2 expands an array into a list, and an empty list would be a
 * syntax error, so it becomes `(NULL)`: `x IN (NULL)` is never true, and `COALESCE(x NOT IN (NULL), TRUE)`
 * reads as PostgreSQL's `x <> ALL('{}')`.
 */
export function list (values: readonly unknown[]): unknown[] {
  return values.length === 0 ? [null] : [...values]
}

/** Rows changed by an INSERT, UPDATE or DELETE (mysql2's result header, returned as the one row). */
export function affectedRows (rows: unknown[]): number {
  return Number((rows[0] as { affectedRows?: unknown } | undefined)?.affectedRows ?? 0)
}

/** The auto-increment id of a single-row INSERT. */
export function insertId (rows: unknown[]): number {
  return Number((rows[0] as { insertId?: unknown } | undefined)?.insertId ?? 0)
}

/** MySQL `ER_DUP_ENTRY` (1062): a unique key refused the row. */
export function isDuplicateKey (error: unknown): boolean {
  return (error as { errno?: unknown } | null)?.errno === 1062
}

/** `(?, ?, …)` of `count` placeholders. */
export const placeholders = (count: number): string => `(${Array.from({ length: count }, () => '?').join(', ')})`

/**
 * A derived table of literal rows for `UPDATE … JOIN (…) AS u ON …` (MySQL has no `unnest`):
 * `SELECT ? AS a, ? AS b UNION ALL SELECT ?, ? …`, with its values in order.
 */
export function valuesTable (columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>): { sql: string, values: unknown[] } {
  const first = `SELECT ${columns.map((column) => `? AS ${column}`).join(', ')}`
  const rest = `SELECT ${columns.map(() => '?').join(', ')}`
  return { sql: rows.map((_row, i) => i === 0 ? first : rest).join(' UNION ALL '), values: rows.flat() }
}

/**
 * What MySQL and MariaDB give the statements built with Kysely (`../sql-dialect.ts`): the clock
 * `UTC_TIMESTAMP(3)`, a case-insensitive search as PostgreSQL's ILIKE (the columns are
 * `utf8mb4_bin`, which also sorts by code point; `\` is LIKE's default escape), and, with no
 * `RETURNING` on UPDATE, an updated job read back in the update's transaction (its row locked).
 */
export const MYSQL_SQL: SqlDialect = {
  builder: queryBuilder('mysql'),
  clock: sql<Date>`UTC_TIMESTAMP(3)`,
  containsText: (column, pattern) => sql<SqlBool>`LOWER(${sql.ref(column)}) LIKE LOWER(${pattern})`,
  codePointOrder: (column) => sql.ref(column),
  toJob: rowToJob,
  toExecution: rowToExecution,
  updatedJob: async (db, update, id) => atomically(db, async (tx) => {
    if (affectedRows(await run(tx, update)) === 0) return undefined
    const [row] = await run(tx, MYSQL_SQL.builder.selectFrom('scheduler_job').select(JOB_COLUMN_NAMES).where('id', '=', id))
    return row
  })
}
