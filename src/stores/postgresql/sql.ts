/**
 * What PostgreSQL (and PGlite) gives the statements built with Kysely (`../sql-dialect.ts`): the
 * clock `now()`, `ILIKE` for the job search, `COLLATE "C"` for code-point order, `RETURNING`.
 */
import { sql, type SqlBool } from 'kysely'
import { queryBuilder } from '../../sql/query-builder.js'
import { rowToExecution, rowToJob } from '../rows.js'
import { updatedJobReturning, type SqlDialect } from '../sql-dialect.js'

export const POSTGRESQL_SQL: SqlDialect = {
  builder: queryBuilder('postgresql'),
  clock: sql<Date>`now()`,
  containsText: (column, pattern) => sql<SqlBool>`${sql.ref(column)} ILIKE ${pattern} ESCAPE '\\'`,
  codePointOrder: (column) => sql<string>`${sql.ref(column)} COLLATE "C"`,
  toJob: rowToJob,
  toExecution: rowToExecution,
  updatedJob: updatedJobReturning
}
