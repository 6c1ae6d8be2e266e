/**
 * What a SQL dialect gives the statements that are written once and built with Kysely
 * (`job-queries.ts`, `history-queries.ts`): its compile-only query builder, and the few pieces
 * that really differ between databases, one entry per concern. Each dialect's own is in its folder
 * (`postgresql/sql.ts`, `mysql/sql.ts`, `sqlite/sql.ts`); the shared statements never ask which
 * dialect they run on.
 */
import type { Expression, RawBuilder, SelectQueryBuilder, SqlBool, UpdateQueryBuilder, UpdateResult } from 'kysely'
import { run, type QueryBuilder, type SchedulerDatabase } from '../sql/query-builder.js'
import type { SqlExecutor } from '../sql/sql-client.js'
import type { ExecutionRecord, JobRecord } from './job-store.js'
import { EXECUTION_COLUMNS, JOB_COLUMNS } from './rows.js'

/** An `UPDATE scheduler_job` of one job, built but not yet run. */
export type JobUpdate = UpdateQueryBuilder<SchedulerDatabase, 'scheduler_job', 'scheduler_job', UpdateResult>

export interface SqlDialect {
  /** The dialect's compile-only query builder (`sql/query-builder.ts`). */
  readonly builder: QueryBuilder
  /** The database's clock, as written into a row (`updated_at`): `now()`, `UTC_TIMESTAMP(3)`, epoch milliseconds. */
  readonly clock: RawBuilder<Date>
  /**
   * Whether the text column contains `pattern` (a LIKE pattern with `\` escaping `%`, `_` and
   * `\`), ignoring case: PostgreSQL's `ILIKE`, MySQL's `LOWER() LIKE LOWER()` (the columns are
   * `utf8mb4_bin`), SQLite's `LIKE` (case-insensitive for ASCII letters).
   */
  containsText: (column: 'id' | 'name', pattern: string) => Expression<SqlBool>
  /** The column, sorted in code-point order (as the memory store sorts) whatever the database's collation. */
  codePointOrder: (column: 'job_id') => Expression<string>
  /** A `scheduler_job` row as the dialect's driver returns it, as a record. */
  toJob: (row: Record<string, any>) => JobRecord
  /** A `scheduler_job_execution` row (with `result` and `logs` or without), as a record. */
  toExecution: (row: Record<string, any>) => ExecutionRecord
  /**
   * Runs an update of one job and answers the row as written, or undefined when the update matched
   * no row: `RETURNING` where the database has it for UPDATE, else the row read back in the same
   * transaction (the write holds its lock).
   */
  updatedJob: (db: SqlExecutor, update: JobUpdate, id: string) => Promise<Record<string, any> | undefined>
}

/**
 * The page of a listing: `LIMIT` when a limit or an offset is given (MySQL and SQLite take
 * `OFFSET` only after a `LIMIT`; no limit is `Number.MAX_SAFE_INTEGER` rows, which every dialect
 * takes), `OFFSET` when one is given.
 */
export function page<Q extends SelectQueryBuilder<any, any, any>> (query: Q, filter: { limit?: number, offset?: number }): Q {
  const offset = filter.offset ?? 0
  let paged = query
  if (filter.limit !== undefined || offset > 0) paged = paged.limit(filter.limit ?? Number.MAX_SAFE_INTEGER) as Q
  if (offset > 0) paged = paged.offset(offset) as Q
  return paged
}

/** Escapes LIKE wildcards so a search for `50%_off` matches those characters. */
export function escapeLike (text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/** The columns of `scheduler_job` in record order (`rows.ts` `JOB_COLUMNS`), for SELECT and RETURNING. */
export const JOB_COLUMN_NAMES = JOB_COLUMNS.split(', ') as Array<keyof SchedulerDatabase['scheduler_job']>

/** The columns of `scheduler_job_execution` without `result` and `logs` (`rows.ts` `EXECUTION_COLUMNS`), for lists. */
export const EXECUTION_COLUMN_NAMES = EXECUTION_COLUMNS.split(', ') as Array<keyof SchedulerDatabase['scheduler_job_execution']>

/** `SqlDialect.updatedJob` of a database with `UPDATE … RETURNING` (PostgreSQL, PGlite, SQLite): one statement. */
export async function updatedJobReturning (db: SqlExecutor, update: JobUpdate): Promise<Record<string, any> | undefined> {
  const [row] = await run(db, update.returning(JOB_COLUMN_NAMES))
  return row
}
