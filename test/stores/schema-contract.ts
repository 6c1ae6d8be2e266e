/**
 * Checks on the installed schema (DESIGN.md "Data model", less its `(job_id, run_time desc)` index:
 * a prefix of the occurrence key, dropped by schema version 8), run on every database a
 * `MikroOrmJobStore` supports: the unique key of an occurrence's attempt, the indexes, and no foreign key from
 * the history to the jobs (history outlives its job).
 */
import type { SqlClient } from '../../src/sql/sql-client.js'
import type { TapTest } from './contract.js'

/** `open` returns the SQL port of a store initialized on empty tables. */
export function schemaContract (t: TapTest, open: (t: TapTest) => Promise<SqlClient>): void {
  t.test('schema: UNIQUE (job_id, run_time, attempt) on the execution table', async (t) => {
    const sql = await open(t)
    const unique = await sql.query<{ name: string, columns: string[] | string }>(
      `SELECT c.conname AS name,
              array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns
       FROM pg_constraint c WHERE c.conrelid = 'scheduler_job_execution'::regclass AND c.contype = 'u'`
    )
    t.same(unique.map((row) => [...row.columns]), [['job_id', 'run_time', 'attempt']], 'exactly one unique constraint, on (job_id, run_time, attempt)')

    await sql.query(`INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', '2030-01-01T00:00:00Z', 'missed')`)
    const error = await sql.query(`INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', '2030-01-01T00:00:00Z', 'running')`)
      .then(() => null, (error: { code?: string }) => error)
    t.equal(error?.code, '23505', 'the database refuses a second row for one attempt of an occurrence')
    await sql.query(`INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status) VALUES ('j', '2030-01-01T00:00:00Z', 2, 'queued')`)
    t.pass('a second attempt of the same occurrence is accepted')
    await sql.query(`INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', '2030-01-01T00:00:00.001Z', 'missed')`)
    t.pass('another run time of the same job is accepted')
  })

  t.test('schema: indexes of DESIGN.md', async (t) => {
    const sql = await open(t)
    const rows = await sql.query<{ tablename: string, indexdef: string }>(
      `SELECT tablename, indexdef FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename IN ('scheduler_job', 'scheduler_job_execution')`
    )
    const defs = rows.map((row) => row.indexdef.replace(/^.* USING btree /, ''))
    const has = (def: string, what: string): void => { t.ok(defs.includes(def), `${what}: ${def} (found: ${defs.join('; ')})`) }
    has('(next_run_time) WHERE (NOT paused)', 'scheduler_job: partial index on next_run_time for jobs not paused')
    has('(job_id, run_time, attempt)', 'scheduler_job_execution: the occurrence key, which also serves a job\'s newest executions (scanned backwards)')
    t.notOk(defs.includes('(job_id, run_time DESC)'), 'no separate (job_id, run_time DESC) index: a prefix of the occurrence key (schema version 8 dropped it)')
    has('(status, run_time)', 'scheduler_job_execution: (status, run_time)')
    has('(id)', 'scheduler_job: primary key')
  })

  t.test('schema: no foreign key from executions to jobs', async (t) => {
    const sql = await open(t)
    const foreign = await sql.query(
      `SELECT conname FROM pg_constraint WHERE contype = 'f'
       AND conrelid IN ('scheduler_job_execution'::regclass, 'scheduler_job'::regclass)`
    )
    t.same(foreign, [], 'no foreign key constraint')
    await sql.query(`INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('never-existed', now(), 'abandoned')`)
    t.pass('an execution of a job that does not exist is accepted (history outlives jobs)')
  })

  t.test('schema: status is limited to the state machine\'s values', async (t) => {
    const sql = await open(t)
    const error = await sql.query(`INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', now(), 'started')`)
      .then(() => null, (error: { code?: string }) => error)
    t.equal(error?.code, '23514', 'an unknown status violates the check constraint')
  })
}
