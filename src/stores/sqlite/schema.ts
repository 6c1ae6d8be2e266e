/**
 * The scheduler's tables on SQLite: the same five tables, columns, keys, checks and indexes as the
 * PostgreSQL DDL at its last version (src/schema/ddl.ts), in SQLite's types: timestamps INTEGER
 * milliseconds since the epoch (see sql.ts), booleans INTEGER 0/1, json TEXT under `json_valid`
 * checks (SQLite docs, "JSON Functions"), ids `INTEGER PRIMARY KEY AUTOINCREMENT` (never reused,
 * as an identity column). Partial indexes mirror PostgreSQL's (SQLite docs, "Partial Indexes").
 * The occurrence key is a named unique index, so `verifySchema` can find it by name.
 *
 * SQLite has no earlier versions of this schema to upgrade, so the install is the whole schema at
 * once (`CREATE … IF NOT EXISTS`, idempotent, one `BEGIN IMMEDIATE` transaction); the check for
 * `install: 'migrations'` still reports by PostgreSQL's version names (`SCHEMA_VERSIONS`), and
 * the migrations (`sqliteVersionStatements`) create the whole schema in the first version, the
 * later ones having nothing left to do. A schema version added after this one needs its SQLite
 * statements here: an `ALTER TABLE` in `sqliteVersionStatements` and in the install (a `CREATE
 * TABLE IF NOT EXISTS` does not change an existing table), and its objects in `VERSION_OBJECTS`.
 */
import { EXECUTION_STATUSES } from '../../execution-status.js'
import { InvalidOptionsError, SchemaOutdatedError } from '../../errors.js'
import { SCHEMA_VERSIONS } from '../../schema/versions.js'
import type { SqlClient, SqlExecutor } from '../../sql/sql-client.js'
import { NOW_MS } from './sql.js'

const statusList = EXECUTION_STATUSES.map((status) => `'${status}'`).join(', ')

/** Why a `schema` is refused on SQLite (`InvalidOptionsError`), and what to do. */
export const SCHEMA_ON_SQLITE = "SQLite has no schemas: the scheduler's tables live in the database file itself; leave schema unset (to run two independent schedulers, give each its own database file)"

/** Every statement of the SQLite schema, idempotent, in order. */
export const SQLITE_SCHEMA_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS scheduler_job (
    id text PRIMARY KEY NOT NULL,
    name text NOT NULL,
    task text NOT NULL,
    args text NOT NULL DEFAULT '[]',
    trigger text NOT NULL,
    next_run_time integer NULL,
    next_fire_time integer NULL,
    paused integer NOT NULL DEFAULT 0,
    misfire_grace_time integer NULL,
    coalesce integer NOT NULL DEFAULT 1,
    max_instances integer NOT NULL DEFAULT 1,
    timeout_ms integer NULL,
    created_at integer NOT NULL DEFAULT (${NOW_MS}),
    updated_at integer NOT NULL DEFAULT (${NOW_MS}),
    version integer NOT NULL DEFAULT 1,
    last_error text NULL,
    capture_logs integer NOT NULL DEFAULT 1,
    retry text NULL,
    recover integer NOT NULL DEFAULT 0,
    CONSTRAINT scheduler_job_args_is_array CHECK (json_valid(args) AND json_type(args) = 'array'),
    CONSTRAINT scheduler_job_trigger_is_json CHECK (json_valid(trigger)),
    CONSTRAINT scheduler_job_retry_is_json CHECK (retry IS NULL OR json_valid(retry)),
    CONSTRAINT scheduler_job_max_instances_positive CHECK (max_instances >= 1)
  )`,
  `CREATE INDEX IF NOT EXISTS scheduler_job_next_run_time_idx
    ON scheduler_job (next_run_time) WHERE NOT paused`,
  `CREATE TABLE IF NOT EXISTS scheduler_job_execution (
    id integer PRIMARY KEY AUTOINCREMENT,
    job_id text NOT NULL,
    run_time integer NOT NULL,
    status text NOT NULL,
    started_at integer NULL,
    finished_at integer NULL,
    duration_ms real NULL,
    exception text NULL,
    traceback text NULL,
    owner text NULL,
    lease_until integer NULL,
    late_status text NULL,
    late_finished_at integer NULL,
    late_exception text NULL,
    result text NULL,
    logs text NULL,
    attempt integer NOT NULL DEFAULT 1,
    next_attempt_at integer NULL,
    start_after integer NULL,
    task text NULL,
    CONSTRAINT scheduler_job_execution_status_check CHECK (status IN (${statusList})),
    CONSTRAINT scheduler_job_execution_result_is_json CHECK (result IS NULL OR json_valid(result)),
    CONSTRAINT scheduler_job_execution_logs_is_json CHECK (logs IS NULL OR json_valid(logs))
  )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS scheduler_job_execution_occurrence_key
    ON scheduler_job_execution (job_id, run_time, attempt)`,
  `CREATE INDEX IF NOT EXISTS scheduler_job_execution_status_run_time_idx
    ON scheduler_job_execution (status, run_time)`,
  `CREATE INDEX IF NOT EXISTS scheduler_job_execution_running_idx
    ON scheduler_job_execution (job_id, lease_until) WHERE status = 'running'`,
  `CREATE INDEX IF NOT EXISTS scheduler_job_execution_queued_idx
    ON scheduler_job_execution (task, run_time) WHERE status = 'queued'`,
  `CREATE TABLE IF NOT EXISTS scheduler_leader (
    lock_key integer PRIMARY KEY NOT NULL,
    node_id text NOT NULL,
    backend_pid integer NOT NULL,
    acquired_at integer NOT NULL,
    heartbeat_at integer NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS scheduler_node (
    node_id text PRIMARY KEY NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    tasks text NOT NULL DEFAULT '[]',
    roles text NOT NULL DEFAULT '[]',
    lock text NOT NULL,
    heartbeat_ms integer NOT NULL,
    started_at integer NOT NULL,
    last_seen_at integer NOT NULL,
    CONSTRAINT scheduler_node_tasks_is_json CHECK (json_valid(tasks) AND json_valid(roles))
  )`,
  `CREATE TABLE IF NOT EXISTS scheduler_audit (
    id integer PRIMARY KEY AUTOINCREMENT,
    at integer NOT NULL DEFAULT (${NOW_MS}),
    action text NOT NULL,
    job_id text NOT NULL,
    actor text NOT NULL,
    changes text NOT NULL DEFAULT '{}',
    CONSTRAINT scheduler_audit_action_check CHECK (action IN ('added', 'modified', 'rescheduled', 'paused', 'resumed', 'removed', 'run')),
    CONSTRAINT scheduler_audit_changes_is_json CHECK (json_valid(changes))
  )`,
  'CREATE INDEX IF NOT EXISTS scheduler_audit_job_id_at_idx ON scheduler_audit (job_id, at DESC)',
  'CREATE INDEX IF NOT EXISTS scheduler_audit_at_idx ON scheduler_audit (at)'
]

/** What each schema version (by its name in `SCHEMA_VERSIONS`) adds, as SQLite shows it: columns per table, and indexes. */
const VERSION_OBJECTS: Record<string, { columns: Record<string, string[]>, indexes: string[] }> = {
  Migration20261201000000_scheduler_initial: {
    columns: {
      scheduler_job: ['id', 'name', 'task', 'args', 'trigger', 'next_run_time', 'next_fire_time', 'paused', 'misfire_grace_time', 'coalesce', 'max_instances', 'timeout_ms', 'created_at', 'updated_at', 'version', 'last_error'],
      scheduler_job_execution: ['id', 'job_id', 'run_time', 'status', 'started_at', 'finished_at', 'duration_ms', 'exception', 'traceback', 'owner', 'lease_until'],
      scheduler_leader: ['lock_key', 'node_id', 'backend_pid', 'acquired_at', 'heartbeat_at']
    },
    indexes: ['scheduler_job_next_run_time_idx', 'scheduler_job_execution_status_run_time_idx', 'scheduler_job_execution_running_idx']
  },
  Migration20261201220000_scheduler_late_outcomes: { columns: { scheduler_job_execution: ['late_status', 'late_finished_at', 'late_exception'] }, indexes: [] },
  Migration20261205190000_scheduler_nodes: { columns: { scheduler_node: ['node_id', 'host', 'pid', 'tasks', 'roles', 'lock', 'heartbeat_ms', 'started_at', 'last_seen_at'] }, indexes: [] },
  Migration20261205203000_scheduler_results_logs: { columns: { scheduler_job_execution: ['result', 'logs'], scheduler_job: ['capture_logs'] }, indexes: [] },
  Migration20261205220000_scheduler_retries: {
    columns: { scheduler_job_execution: ['attempt', 'next_attempt_at', 'start_after'], scheduler_job: ['retry', 'recover'] },
    indexes: ['scheduler_job_execution_occurrence_key']
  },
  Migration20261205221000_scheduler_audit: {
    columns: { scheduler_audit: ['id', 'at', 'action', 'job_id', 'actor', 'changes'] },
    indexes: ['scheduler_audit_job_id_at_idx', 'scheduler_audit_at_idx']
  },
  Migration20261206000000_scheduler_distributed: { columns: { scheduler_job_execution: ['task'] }, indexes: ['scheduler_job_execution_queued_idx'] },
  // Drops an index SQLite's first version never had (it arrived after the PostgreSQL index was found redundant): nothing to check.
  Migration20261206140000_scheduler_redundant_index: { columns: {}, indexes: [] }
}

/** Whether the schema has every object of the version named `name` (read from `pragma_table_info` and `sqlite_master`). */
async function versionApplied (db: SqlExecutor, name: string): Promise<boolean> {
  const objects = VERSION_OBJECTS[name]
  if (objects === undefined) throw new Error(`no SQLite schema objects are listed for the schema version ${name}`)
  for (const [table, columns] of Object.entries(objects.columns)) {
    const present = new Set((await db.query<{ name: string }>('SELECT name FROM pragma_table_info(?1)', [table])).map((row) => row.name))
    if (columns.some((column) => !present.has(column))) return false
  }
  if (objects.indexes.length === 0) return true
  const [row] = await db.query<{ count: number }>(
    "SELECT count(*) AS count FROM sqlite_master WHERE type = 'index' AND name IN (SELECT value FROM json_each(?1))",
    [objects.indexes]
  )
  return Number(row?.count) === objects.indexes.length
}

/**
 * Creates the tables when missing (`install: 'auto'`), in one transaction; runs no DDL when every
 * version is already in place. `schema` must be null: SQLite has no schemas.
 * @throws InvalidOptionsError for a `schema`.
 */
export async function installSqliteSchema (sql: SqlClient, schema: string | null): Promise<void> {
  if (schema !== null) throw new InvalidOptionsError('schema', SCHEMA_ON_SQLITE)
  if (await missingVersion(sql) === null) return
  await sql.transaction(async (tx) => {
    for (const statement of SQLITE_SCHEMA_STATEMENTS) await tx.query(statement)
  })
}

/**
 * `install: 'migrations'`: resolves when every schema version is in place.
 * @throws SchemaOutdatedError naming the first version missing and the ones after it.
 */
export async function verifySqliteSchema (sql: SqlExecutor): Promise<void> {
  const index = await missingVersion(sql)
  if (index === null) return
  const version = SCHEMA_VERSIONS[index]!
  throw new SchemaOutdatedError(version.name, version.description, SCHEMA_VERSIONS.slice(index).map((each) => each.name).join(', '))
}

/** The index in `SCHEMA_VERSIONS` of the first version not in place, or null. */
async function missingVersion (db: SqlExecutor): Promise<number | null> {
  for (const [index, version] of SCHEMA_VERSIONS.entries()) if (!await versionApplied(db, version.name)) return index
  return null
}

/** Statements that drop every table (this deletes the execution history). */
export const SQLITE_DROP_STATEMENTS: readonly string[] = [
  'DROP TABLE IF EXISTS scheduler_audit',
  'DROP TABLE IF EXISTS scheduler_node',
  'DROP TABLE IF EXISTS scheduler_leader',
  'DROP TABLE IF EXISTS scheduler_job_execution',
  'DROP TABLE IF EXISTS scheduler_job'
]

/**
 * The SQLite `up` and `down` of the schema version named `name` (a `SCHEMA_VERSIONS` name), for the
 * `Migration` classes: the first creates (and its `down` drops) the whole schema; the others have
 * nothing to do on SQLite.
 */
export function sqliteVersionStatements (name: string): { up: readonly string[], down: readonly string[] } {
  return name === SCHEMA_VERSIONS[0]?.name ? { up: SQLITE_SCHEMA_STATEMENTS, down: SQLITE_DROP_STATEMENTS } : { up: [], down: [] }
}
