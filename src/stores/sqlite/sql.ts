/**
 * Shared pieces of the SQLite statement modules: the clock, row decoding, and the columns.
 *
 * Timestamps are INTEGER milliseconds since the Unix epoch (UTC), MikroORM's own format for dates
 * on SQLite (`SqlitePlatform.processDateProperty`), so the host's ORM and these statements agree,
 * comparisons and ordering are integer ones, and arithmetic is `+ ms`. Booleans are 0/1, json is
 * text checked by `json_valid`. The SQLite adapter binds JS values so (sqlite-client.ts).
 */
import { sql, type SqlBool } from 'kysely'
import { queryBuilder } from '../../sql/query-builder.js'
import { rowToExecution, rowToJob } from '../rows.js'
import { updatedJobReturning, type SqlDialect } from '../sql-dialect.js'
import type { ExecutionRecord, JobRecord } from '../job-store.js'

/**
 * The clock, in milliseconds since the epoch: SQLite has no server, so this is the clock of the
 * process that owns the file (SQLite docs, "Date And Time Functions": `'now'` is the current time,
 * constant within one statement), read to the millisecond.
 */
export const NOW_MS = "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"

/** `?n` (a Date bound as milliseconds) that falls back to {@link NOW_MS} when null. */
export const nowParam = (n: number): string => `coalesce(?${n}, ${NOW_MS})`

/** The live running condition (see rows.ts `liveRunning`), for SQLite. */
export const liveRunning = (prefix: string, now: string): string => `${prefix}status = 'running' AND ${prefix}lease_until >= ${now}`

/** Boolean columns of `scheduler_job`, stored 0/1. */
const JOB_BOOLEANS = ['paused', 'coalesce', 'capture_logs', 'recover'] as const

/** A `scheduler_job` row read from SQLite (0/1 booleans) as a record. */
export function sqliteRowToJob (row: Record<string, any>): JobRecord {
  const decoded: Record<string, any> = { ...row }
  for (const column of JOB_BOOLEANS) if (column in decoded && decoded[column] !== null) decoded[column] = Boolean(decoded[column])
  return rowToJob(decoded)
}

/** A `scheduler_job_execution` row read from SQLite (json as text) as a record. */
export function sqliteRowToExecution (row: Record<string, any>): ExecutionRecord {
  if (!('result' in row)) return rowToExecution(row)
  return rowToExecution({ ...row, result: parseJsonText(row.result), logs: parseJsonText(row.logs) })
}

/** A json column's text parsed (null stays null). */
export function parseJsonText (value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value ?? null
}

/** `?n` bound to a JSON array, as rows of `json_each` (`value` per element). */
export const eachOf = (n: number): string => `json_each(?${n})`

/**
 * What SQLite gives the statements built with Kysely (`../sql-dialect.ts`): the clock
 * {@link NOW_MS}, `LIKE` for the job search (case-insensitive for ASCII letters, SQLite docs "The
 * LIKE, GLOB, REGEXP, MATCH, and extract operators"), the BINARY collation (code-point order),
 * `RETURNING`, and rows decoded from 0/1 booleans and json text.
 */
export const SQLITE_SQL: SqlDialect = {
  builder: queryBuilder('sqlite'),
  clock: sql.raw<Date>(NOW_MS),
  containsText: (column, pattern) => sql<SqlBool>`${sql.ref(column)} LIKE ${pattern} ESCAPE '\\'`,
  codePointOrder: (column) => sql<string>`${sql.ref(column)} COLLATE BINARY`,
  toJob: sqliteRowToJob,
  toExecution: sqliteRowToExecution,
  updatedJob: updatedJobReturning
}
