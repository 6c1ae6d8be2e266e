/**
 * The scheduler's schema as a sequence of versions (MikroORM migrations): the first creates the
 * tables, and every later change of the schema is one more version, appended, never edited. The
 * same sequence serves three installers:
 *
 * - `install: 'auto'` (default): the plugin runs every version's `up` at start (idempotent DDL:
 *   `IF NOT EXISTS`, checks replaced in place), so existing tables upgrade in place;
 * - `install: 'migrations'`: the host's migrator runs them (`schedulerMigrations`), and the plugin
 *   only checks, with each version's `probe`, that all of them are applied;
 * - `SchedulerMigration` (the single migration of earlier releases): all of them at once.
 */
import { AUDIT_STATEMENTS, DISTRIBUTED_STATEMENTS, DROP_STATEMENTS, INITIAL_STATEMENTS, LATE_OUTCOME_STATEMENTS, NODE_STATEMENTS, REDUNDANT_INDEX_STATEMENTS, RESULT_STATEMENTS, RETRY_STATEMENTS } from './ddl.js'

export interface SchemaVersion {
  /** Migration name, as recorded in the host's migrations table: `Migration<UTC yyyyMMddHHmmss>_scheduler_<what>`. */
  readonly name: string
  /** What this version adds, for errors and logs. */
  readonly description: string
  /** Idempotent DDL that brings a schema of the previous version (or none) to this one. */
  readonly up: readonly string[]
  /** DDL that undoes `up` (the first version's drops the tables, execution history included). */
  readonly down: readonly string[]
  /** A query returning one row `{ applied: boolean }`: whether the schema already has this version. Reads the catalogs only. */
  readonly probe: string
}

/** The tables of the first version (later versions add their own; `SCHEDULER_TABLES` lists them all). */
const INITIAL_TABLES = ['scheduler_job', 'scheduler_job_execution', 'scheduler_leader']

/** The ordered versions; the last one is the schema this release of the library needs. */
export const SCHEMA_VERSIONS: readonly SchemaVersion[] = [
  {
    name: 'Migration20261201000000_scheduler_initial',
    description: 'the tables scheduler_job, scheduler_job_execution and scheduler_leader with their indexes and checks',
    up: INITIAL_STATEMENTS,
    down: DROP_STATEMENTS,
    probe: `SELECT (${INITIAL_TABLES.map((table) => `to_regclass('${table}') IS NOT NULL`).join(' AND ')}
      AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job') AND attname = 'next_fire_time' AND NOT attisdropped)
      AND EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                  WHERE i.indrelid = to_regclass('scheduler_job_execution') AND c.relname = 'scheduler_job_execution_running_idx')
      AND EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('scheduler_job_execution')
                  AND conname = 'scheduler_job_execution_status_check' AND pg_get_constraintdef(oid) LIKE '%''queued''%')) AS applied`
  },
  {
    name: 'Migration20261201220000_scheduler_late_outcomes',
    description: 'the late outcome columns of scheduler_job_execution (late_status, late_finished_at, late_exception)',
    up: LATE_OUTCOME_STATEMENTS,
    down: [
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS late_exception',
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS late_finished_at',
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS late_status'
    ],
    probe: `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job_execution')
      AND attname = 'late_exception' AND NOT attisdropped) AS applied`
  },
  {
    name: 'Migration20261205190000_scheduler_nodes',
    description: 'the node registry scheduler_node (every live scheduler process, its tasks, roles and last heartbeat)',
    up: NODE_STATEMENTS,
    down: ['DROP TABLE IF EXISTS scheduler_node'],
    probe: "SELECT to_regclass('scheduler_node') IS NOT NULL AS applied"
  },
  {
    name: 'Migration20261205203000_scheduler_results_logs',
    description: 'the result and logs columns of scheduler_job_execution and capture_logs of scheduler_job',
    up: RESULT_STATEMENTS,
    down: [
      'ALTER TABLE scheduler_job DROP COLUMN IF EXISTS capture_logs',
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS logs',
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS result'
    ],
    probe: `SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job_execution')
      AND attname IN ('result', 'logs') AND NOT attisdropped) = 2
      AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job')
      AND attname = 'capture_logs' AND NOT attisdropped) AS applied`
  },
  {
    name: 'Migration20261205220000_scheduler_retries',
    description: 'retries and crash recovery: the attempt, next_attempt_at and start_after columns of scheduler_job_execution, its key (job_id, run_time, attempt), and retry and recover of scheduler_job',
    up: RETRY_STATEMENTS,
    down: [
      // The old key cannot be restored over retries: refuse, saying so, rather than fail on a duplicate key.
      `DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM scheduler_job_execution WHERE attempt > 1) THEN
          RAISE EXCEPTION 'cannot undo the retries schema version: some occurrences have more than one attempt (attempt > 1); delete those rows first if you accept losing them';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'scheduler_job_execution'::regclass
                       AND conname = 'scheduler_job_execution_job_id_run_time_key') THEN
          ALTER TABLE scheduler_job_execution ADD CONSTRAINT scheduler_job_execution_job_id_run_time_key UNIQUE (job_id, run_time);
        END IF;
      END $$`,
      'ALTER TABLE scheduler_job_execution DROP CONSTRAINT IF EXISTS scheduler_job_execution_occurrence_key',
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS start_after',
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS next_attempt_at',
      'ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS attempt',
      'ALTER TABLE scheduler_job DROP COLUMN IF EXISTS recover',
      'ALTER TABLE scheduler_job DROP COLUMN IF EXISTS retry'
    ],
    probe: `SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job_execution')
      AND attname IN ('attempt', 'next_attempt_at', 'start_after') AND NOT attisdropped) = 3
      AND (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job')
      AND attname IN ('retry', 'recover') AND NOT attisdropped) = 2
      AND EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('scheduler_job_execution')
      AND conname = 'scheduler_job_execution_occurrence_key')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('scheduler_job_execution')
      AND conname = 'scheduler_job_execution_job_id_run_time_key') AS applied`
  },
  {
    name: 'Migration20261205221000_scheduler_audit',
    description: 'the audit trail scheduler_audit (every change made to a job: when, action, job, actor, changed fields)',
    up: AUDIT_STATEMENTS,
    down: ['DROP TABLE IF EXISTS scheduler_audit'],
    probe: `SELECT to_regclass('scheduler_audit') IS NOT NULL
      AND (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('scheduler_audit')
           AND c.relname IN ('scheduler_audit_job_id_at_idx', 'scheduler_audit_at_idx')) = 2 AS applied`
  },
  {
    name: 'Migration20261206000000_scheduler_distributed',
    description: 'distributed execution: the task column of scheduler_job_execution and the index workers pick queued rows through',
    up: DISTRIBUTED_STATEMENTS,
    // Dropping the column drops the index on it.
    down: ['ALTER TABLE scheduler_job_execution DROP COLUMN IF EXISTS task'],
    probe: `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('scheduler_job_execution')
      AND attname = 'task' AND NOT attisdropped)
      AND EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('scheduler_job_execution')
      AND c.relname = 'scheduler_job_execution_queued_idx') AS applied`
  },
  {
    name: 'Migration20261206140000_scheduler_redundant_index',
    description: 'drops the index scheduler_job_execution_job_id_run_time_idx, a prefix of the occurrence key (job_id, run_time, attempt)',
    up: REDUNDANT_INDEX_STATEMENTS,
    down: [`CREATE INDEX IF NOT EXISTS scheduler_job_execution_job_id_run_time_idx
      ON scheduler_job_execution (job_id, run_time DESC)`],
    probe: `SELECT NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = to_regclass('scheduler_job_execution') AND c.relname = 'scheduler_job_execution_job_id_run_time_idx') AS applied`
  }
]
