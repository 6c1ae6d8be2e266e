/**
 * The installer at start (src/schema/install.ts) on real PostgreSQL: a process joining a running
 * cluster finds every object in place and runs no DDL, so it takes no table lock that would stall
 * the claims under way (or deadlock with one); a missing object makes it run the idempotent DDL.
 */
import pg from 'pg'
import t from 'tap'
import { installSchema } from '../../src/schema/install.js'
import { createPgClient, type PgPoolLike } from '../../src/sql/pg-client.js'
import { freshDatabase, query } from '../helpers/database.js'

async function within<T> (ms: number, pending: Promise<T>): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([pending, new Promise<'timed out'>((resolve) => { timer = setTimeout(() => resolve('timed out'), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

t.test('with every object in place, install runs no DDL: a claim holding the tables does not block it', async (t) => {
  const url = await freshDatabase(t, 'install_no_ddl')
  const pool = new pg.Pool({ connectionString: url, max: 3 })
  t.teardown(async () => pool.end())
  const sql = createPgClient(pool as unknown as PgPoolLike)
  await installSchema(sql)
  t.same(await query(url, "SELECT to_regclass('scheduler_job_execution')::text AS e"), [{ e: 'scheduler_job_execution' }])

  // As a claim in progress: row-exclusive locks on both tables, held open.
  const claim = await pool.connect()
  await claim.query('BEGIN')
  await claim.query('LOCK TABLE scheduler_job, scheduler_job_execution IN ROW EXCLUSIVE MODE')
  const second = installSchema(sql)
  const result = await within(5000, second)
  t.equal(result, undefined, 'a second install returns at once beside the open claim (no ALTER or CREATE INDEX waiting for its locks)')
  await claim.query('ROLLBACK')
  claim.release()
  await second

  // A missing index (a host's schema tool dropped it): the DDL runs and puts it back.
  await query(url, 'DROP INDEX scheduler_job_execution_running_idx')
  await installSchema(sql)
  t.same(await query(url, "SELECT to_regclass('scheduler_job_execution_running_idx')::text AS i"), [{ i: 'scheduler_job_execution_running_idx' }], 'the dropped index is created again')
})
