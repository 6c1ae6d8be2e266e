/**
 * The scheduler's tables on MySQL (≥ 8.0) and MariaDB (≥ 10.6): the same five tables and columns
 * as the PostgreSQL DDL (`ddl.ts`, every schema version to the last), plus the one-row change
 * counter that replaces LISTEN/NOTIFY for wake-ups. Each statement creates one whole table with its
 * keys, checks and indexes (`CREATE TABLE IF NOT EXISTS`: MySQL has no `ADD COLUMN IF NOT EXISTS`
 * nor `CREATE INDEX IF NOT EXISTS`, and its DDL commits implicitly, so a table is made whole in one
 * atomic statement or not at all).
 *
 * Types: `json` for `jsonb` (MariaDB stores it as `longtext` with a `JSON_VALID` check),
 * `datetime(3)` holding UTC for `timestamptz` (the SQL port sends and reads UTC), `varchar(191)`
 * for a text that is part of a key (191 × 4 bytes of utf8mb4 fits InnoDB's oldest key limit of
 * 767 bytes), `mediumtext` for unbounded text (tracebacks, errors), `double` for `numeric`
 * durations. Every table is `utf8mb4_bin`: ids and names compare case- and accent-sensitively and
 * sort by code point, as PostgreSQL's `text` under `COLLATE "C"` (the default collations of MySQL
 * and MariaDB would make job `A` and job `a` one key). Reserved words (`trigger`, `lock`) are
 * quoted with backticks.
 *
 * MySQL has no partial indexes; what replaces each PostgreSQL one:
 * - `scheduler_job_next_run_time_idx (next_run_time) WHERE NOT paused` → `(paused, next_run_time)`:
 *   the claim's `paused = FALSE AND next_run_time <= ?` is one range, read in order;
 * - `scheduler_job_execution_running_idx (job_id, lease_until) WHERE status = 'running'` →
 *   `(status, job_id, lease_until)`;
 * - `scheduler_job_execution_queued_idx (task, run_time) WHERE status = 'queued'` →
 *   `(status, task, run_time)`.
 */
import { EXECUTION_STATUSES } from '../execution-status.js'

/** `GET_LOCK` name that serialises schema installation across processes (MySQL docs, "Locking Functions"). */
export const MYSQL_SCHEMA_LOCK = 'fastify_mikro_scheduler.schema'

/** The change counter's table (MySQL only): one row per wake-up kind, bumped by every write that would `NOTIFY` on PostgreSQL. */
export const MYSQL_CHANGE_TABLE = 'scheduler_change'

const statusList = EXECUTION_STATUSES.map((status) => `'${status}'`).join(', ')
const auditActions = "'added', 'modified', 'rescheduled', 'paused', 'resumed', 'removed', 'run'"

/** One table: its name, the columns and indexes the install and the check expect, and its DDL. */
export interface MysqlTable {
  readonly name: string
  readonly columns: readonly string[]
  readonly indexes: readonly string[]
  readonly create: string
}

export const MYSQL_TABLES: readonly MysqlTable[] = [
  {
    name: 'scheduler_job',
    columns: ['id', 'name', 'task', 'args', 'trigger', 'next_run_time', 'next_fire_time', 'paused', 'misfire_grace_time', 'coalesce', 'max_instances', 'timeout_ms',
      'created_at', 'updated_at', 'version', 'last_error', 'capture_logs', 'retry', 'recover'],
    indexes: ['PRIMARY', 'scheduler_job_next_run_time_idx'],
    create: `CREATE TABLE IF NOT EXISTS scheduler_job (
      id varchar(191) NOT NULL PRIMARY KEY,
      name text NOT NULL,
      task varchar(191) NOT NULL,
      args json NOT NULL DEFAULT ('[]'),
      \`trigger\` json NOT NULL,
      next_run_time datetime(3) NULL,
      next_fire_time datetime(3) NULL,
      paused boolean NOT NULL DEFAULT FALSE,
      misfire_grace_time integer NULL,
      \`coalesce\` boolean NOT NULL DEFAULT TRUE,
      max_instances integer NOT NULL DEFAULT 1,
      timeout_ms integer NULL,
      created_at datetime(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
      updated_at datetime(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
      version integer NOT NULL DEFAULT 1,
      last_error mediumtext NULL,
      capture_logs boolean NOT NULL DEFAULT TRUE,
      retry json NULL,
      recover boolean NOT NULL DEFAULT FALSE,
      CONSTRAINT scheduler_job_args_is_array CHECK (JSON_TYPE(args) = 'ARRAY'),
      CONSTRAINT scheduler_job_max_instances_positive CHECK (max_instances >= 1),
      INDEX scheduler_job_next_run_time_idx (paused, next_run_time)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
  },
  {
    name: 'scheduler_job_execution',
    columns: ['id', 'job_id', 'run_time', 'status', 'started_at', 'finished_at', 'duration_ms', 'exception', 'traceback', 'owner', 'lease_until',
      'late_status', 'late_finished_at', 'late_exception', 'result', 'logs', 'attempt', 'next_attempt_at', 'start_after', 'task'],
    indexes: ['PRIMARY', 'scheduler_job_execution_occurrence_key', 'scheduler_job_execution_status_run_time_idx',
      'scheduler_job_execution_running_idx', 'scheduler_job_execution_queued_idx'],
    create: `CREATE TABLE IF NOT EXISTS scheduler_job_execution (
      id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
      job_id varchar(191) NOT NULL,
      run_time datetime(3) NOT NULL,
      status varchar(32) NOT NULL,
      started_at datetime(3) NULL,
      finished_at datetime(3) NULL,
      duration_ms double NULL,
      exception mediumtext NULL,
      traceback mediumtext NULL,
      owner varchar(191) NULL,
      lease_until datetime(3) NULL,
      late_status varchar(32) NULL,
      late_finished_at datetime(3) NULL,
      late_exception mediumtext NULL,
      result json NULL,
      logs json NULL,
      attempt integer NOT NULL DEFAULT 1,
      next_attempt_at datetime(3) NULL,
      start_after datetime(3) NULL,
      task varchar(191) NULL,
      CONSTRAINT scheduler_job_execution_occurrence_key UNIQUE (job_id, run_time, attempt),
      CONSTRAINT scheduler_job_execution_status_check CHECK (status IN (${statusList})),
      INDEX scheduler_job_execution_status_run_time_idx (status, run_time),
      INDEX scheduler_job_execution_running_idx (status, job_id, lease_until),
      INDEX scheduler_job_execution_queued_idx (status, task, run_time)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
  },
  {
    name: 'scheduler_leader',
    columns: ['lock_key', 'node_id', 'backend_pid', 'acquired_at', 'heartbeat_at'],
    indexes: ['PRIMARY'],
    // backend_pid holds the lock session's CONNECTION_ID() (bigint unsigned in MySQL).
    create: `CREATE TABLE IF NOT EXISTS scheduler_leader (
      lock_key bigint NOT NULL PRIMARY KEY,
      node_id varchar(191) NOT NULL,
      backend_pid bigint NOT NULL,
      acquired_at datetime(3) NOT NULL,
      heartbeat_at datetime(3) NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
  },
  {
    name: 'scheduler_node',
    columns: ['node_id', 'host', 'pid', 'tasks', 'roles', 'lock', 'heartbeat_ms', 'started_at', 'last_seen_at'],
    indexes: ['PRIMARY'],
    create: `CREATE TABLE IF NOT EXISTS scheduler_node (
      node_id varchar(191) NOT NULL PRIMARY KEY,
      host text NOT NULL,
      pid integer NOT NULL,
      tasks json NOT NULL DEFAULT ('[]'),
      roles json NOT NULL DEFAULT ('[]'),
      \`lock\` varchar(64) NOT NULL,
      heartbeat_ms integer NOT NULL,
      started_at datetime(3) NOT NULL,
      last_seen_at datetime(3) NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
  },
  {
    name: 'scheduler_audit',
    columns: ['id', 'at', 'action', 'job_id', 'actor', 'changes'],
    indexes: ['PRIMARY', 'scheduler_audit_job_id_at_idx', 'scheduler_audit_at_idx'],
    create: `CREATE TABLE IF NOT EXISTS scheduler_audit (
      id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
      at datetime(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)),
      action varchar(32) NOT NULL,
      job_id varchar(191) NOT NULL,
      actor text NOT NULL,
      changes json NOT NULL DEFAULT ('{}'),
      CONSTRAINT scheduler_audit_action_check CHECK (action IN (${auditActions})),
      INDEX scheduler_audit_job_id_at_idx (job_id, at DESC),
      INDEX scheduler_audit_at_idx (at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
  },
  {
    name: MYSQL_CHANGE_TABLE,
    columns: ['channel', 'counter', 'payload', 'changed_at'],
    indexes: ['PRIMARY'],
    // One row per wake-up kind ('jobs', 'queued'); `counter` only grows. Readers poll it.
    create: `CREATE TABLE IF NOT EXISTS ${MYSQL_CHANGE_TABLE} (
      channel varchar(32) NOT NULL PRIMARY KEY,
      counter bigint NOT NULL DEFAULT 0,
      payload varchar(191) NULL,
      changed_at datetime(3) NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
  }
]

/** The change counter's rows, inserted once (`INSERT IGNORE`: a second install keeps the counts). */
export const MYSQL_SEED_STATEMENTS: readonly string[] = [
  `INSERT IGNORE INTO ${MYSQL_CHANGE_TABLE} (channel, counter) VALUES ('jobs', 0), ('queued', 0)`
]

/** Statements that drop every table of the MySQL schema (tests, a host's `down()`); this deletes the execution history. */
export const MYSQL_DROP_STATEMENTS: readonly string[] = [...MYSQL_TABLES].reverse().map((table) => `DROP TABLE IF EXISTS ${table.name}`)

/**
 * The MySQL statements of schema version `index` (`versions.ts`, 0 = the first) for the `Migration`
 * classes, so a MySQL host's migrator records the same migration names as a PostgreSQL host's. The
 * first version creates every table as this release has them (MySQL arrived with the seventh
 * version, so there is no older MySQL schema to upgrade; the eighth drops a PostgreSQL index its
 * tables never had); the later ones have nothing left to do.
 * A future schema change is a new version, with its MySQL statements here.
 */
export function mysqlVersionStatements (index: number, direction: 'up' | 'down'): readonly string[] {
  if (index !== 0) return []
  return direction === 'up' ? [...MYSQL_TABLES.map((table) => table.create), ...MYSQL_SEED_STATEMENTS] : MYSQL_DROP_STATEMENTS
}
