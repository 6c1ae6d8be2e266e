/**
 * The SQL a `MikroOrmJobStore` runs, as one table of modules per database dialect (issue #15:
 * "dialect differences in one place per concern"). `MikroOrmJobStore` picks the table by the SQL
 * port's `dialect` and delegates every method to it; nothing else in the store knows the dialect.
 *
 * A dialect provides the same functions, with the same signatures and the same guarantees, as the
 * PostgreSQL modules under `postgresql/` (one module per concern: jobs, claim, queued runs,
 * executions, nodes, audit, stats), plus its schema install and check and its clock. The types
 * below are taken from the PostgreSQL modules, so a dialect that drifts from them fails to compile.
 *
 * Statements that differ only in syntax are built once with Kysely (`job-queries.ts`,
 * `history-queries.ts`) over each dialect's `SqlDialect` (its `sql.ts`), and the dialect modules
 * export them, so this table names them as it names the hand-written ones (docs/architecture.md,
 * "Where the SQL lives").
 */
import { installSchema } from '../schema/install.js'
import { verifySchema } from '../schema/verify.js'
import { WAKEUP_CHANNEL } from '../scheduler/dedicated-session.js'
import { toDate, type SqlClient, type SqlExecutor } from '../sql/sql-client.js'
import * as audit from './postgresql/audit.js'
import * as claim from './postgresql/claim.js'
import * as executions from './postgresql/executions.js'
import * as jobs from './postgresql/jobs.js'
import * as nodes from './postgresql/nodes.js'
import * as queuedRuns from './postgresql/queued-runs.js'
import * as stats from './postgresql/stats.js'
import { installMysqlSchema, verifyMysqlSchema } from '../schema/mysql-install.js'
import * as mysqlAudit from './mysql/audit.js'
import { bumpChange, JOBS_CHANNEL } from './mysql/change-counter.js'
import * as mysqlClaim from './mysql/claim.js'
import * as mysqlExecutions from './mysql/executions.js'
import * as mysqlJobs from './mysql/jobs.js'
import * as mysqlNodes from './mysql/nodes.js'
import * as mysqlQueuedRuns from './mysql/queued-runs.js'
import * as mysqlStats from './mysql/stats.js'
import { SQLITE_NOTIFY } from '../sql/sqlite-client.js'
import * as sqliteAudit from './sqlite/audit.js'
import * as sqliteClaim from './sqlite/claim.js'
import * as sqliteExecutions from './sqlite/executions.js'
import * as sqliteJobs from './sqlite/jobs.js'
import * as sqliteNodes from './sqlite/nodes.js'
import * as sqliteQueuedRuns from './sqlite/queued-runs.js'
import { installSqliteSchema, verifySqliteSchema } from './sqlite/schema.js'
import { NOW_MS } from './sqlite/sql.js'
import * as sqliteStats from './sqlite/stats.js'

export interface DialectStatements {
  jobs: Pick<typeof jobs, 'addJob' | 'addJobs' | 'getJob' | 'getJobs' | 'countJobs' | 'updateJob' | 'removeJob' | 'getUnscheduledJobs' | 'scheduleUnscheduledJob'>
  claim: Pick<typeof claim, 'getNextWakeup' | 'claimDueJobs' | 'notifyQueued' | 'queueRun' | 'claimImmediateRun'>
  queuedRuns: Pick<typeof queuedRuns, 'getNextQueuedStart' | 'claimQueuedRuns'>
  executions: Pick<typeof executions, 'finishExecutions' | 'extendLeases' | 'abandonExpiredExecutions' | 'getExecution' | 'getExecutions' | 'countExecutions' | 'getRecentExecutionStats' | 'deleteOldExecutions'>
    // Only for a dialect whose claim honours `aheadMs`: the store's `claimsAhead` is whether it is here.
    & Partial<Pick<typeof executions, 'requeueExecutions'>>
  nodes: Pick<typeof nodes, 'recordNode' | 'removeNode' | 'getNodes'>
  audit: Pick<typeof audit, 'insertAudit' | 'addJob' | 'addJobs' | 'updateJob' | 'removeJob' | 'getAudit' | 'countAudit' | 'deleteOldAudit'>
  stats: Pick<typeof stats, 'getRunHistory' | 'countExecutionsPerMinute' | 'getFireLag' | 'getSlowestJobs'>
  /** Creates or upgrades the tables (`install: 'auto'`); `schema` is the PostgreSQL schema, or null. */
  installSchema: (sql: SqlClient, schema: string | null) => Promise<void>
  /** Checks every schema version is applied (`install: 'migrations'`); throws `SchemaOutdatedError`. */
  verifySchema: (sql: SqlExecutor) => Promise<void>
  /** The database's clock. */
  now: (db: SqlExecutor) => Promise<Date>
  /** Tells every process of the cluster that jobs changed (`payload` as in stores/wakeup.ts). */
  notifyChange: (db: SqlExecutor, payload: string) => Promise<void>
}

/** PostgreSQL and PGlite: the modules under `postgresql/`, wake-ups by `NOTIFY`. */
export const POSTGRESQL_STATEMENTS: DialectStatements = {
  jobs,
  claim,
  queuedRuns,
  executions,
  nodes,
  audit,
  stats,
  installSchema,
  verifySchema,
  now: async (db) => {
    const [row] = await db.query<{ now: unknown }>('SELECT now() AS now')
    return toDate(row?.now)
  },
  notifyChange: async (db, payload) => {
    await db.query('SELECT pg_notify($1, $2)', [WAKEUP_CHANNEL, payload])
  }
}

/**
 * SQLite (`@mikro-orm/libsql`): the modules under `sqlite/`. The clock is the process's (SQLite has
 * no server); wake-ups reach this process's listeners only (one process owns the file).
 */
export const SQLITE_STATEMENTS: DialectStatements = {
  jobs: sqliteJobs,
  claim: sqliteClaim,
  queuedRuns: sqliteQueuedRuns,
  executions: sqliteExecutions,
  nodes: sqliteNodes,
  audit: sqliteAudit,
  stats: sqliteStats,
  installSchema: installSqliteSchema,
  verifySchema: verifySqliteSchema,
  now: async (db) => {
    const [row] = await db.query<{ now: unknown }>(`SELECT ${NOW_MS} AS now`)
    return toDate(row?.now)
  },
  notifyChange: async (db, payload) => {
    await db.query(SQLITE_NOTIFY, [WAKEUP_CHANNEL, payload])
  }
}

/**
 * MySQL (≥ 8.0) and MariaDB (≥ 10.6): the modules under `mysql/`, wake-ups by bumping the change
 * counter (`mysql/change-counter.ts`) that every process polls.
 */
export const MYSQL_STATEMENTS: DialectStatements = {
  jobs: mysqlJobs,
  claim: mysqlClaim,
  queuedRuns: mysqlQueuedRuns,
  executions: mysqlExecutions,
  nodes: mysqlNodes,
  audit: mysqlAudit,
  stats: mysqlStats,
  installSchema: installMysqlSchema,
  verifySchema: verifyMysqlSchema,
  now: async (db) => {
    const [row] = await db.query<{ now: unknown }>('SELECT UTC_TIMESTAMP(3) AS now')
    return toDate(row?.now)
  },
  notifyChange: async (db, payload) => {
    await bumpChange(db, JOBS_CHANNEL, payload)
  }
}

/** The statements for a SQL port's dialect. */
export function statementsFor (dialect: SqlClient['dialect']): DialectStatements {
  switch (dialect) {
    case 'postgresql':
    case 'pglite':
      return POSTGRESQL_STATEMENTS
    case 'sqlite':
      return SQLITE_STATEMENTS
    case 'mysql':
      return MYSQL_STATEMENTS
  }
}
