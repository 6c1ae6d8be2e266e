/**
 * Schema version 8 (`Migration20261206140000_scheduler_redundant_index`) on real PostgreSQL: a
 * schema of the previous release, which has `scheduler_job_execution_job_id_run_time_idx (job_id,
 * run_time DESC)`, loses it on upgrade; a fresh install never has it; and a job's newest executions
 * (the admin page's list per job, the recent stats) are still read through an index (the occurrence
 * key, scanned backwards), not by scanning the history.
 */
import t, { type Test } from 'tap'
import { SCHEMA_VERSIONS } from '../../src/schema/versions.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { PREVIOUS_RELEASE_DDL } from './fixtures/previous-release.js'
const INDEX = 'scheduler_job_execution_job_id_run_time_idx'
const VERSION = SCHEMA_VERSIONS.find((version) => version.name === 'Migration20261206140000_scheduler_redundant_index')

/** Installs (or upgrades) the tables as the plugin does at start. */
async function install (t: Test, url: string): Promise<void> {
  await new MikroOrmJobStore(await openOrm(t, url)).initialize()
}

const indexExists = async (url: string): Promise<boolean> =>
  (await query<{ i: string | null }>(url, `SELECT to_regclass('${INDEX}')::text AS i`))[0]?.i === INDEX
const versionApplied = async (url: string): Promise<boolean> =>
  (await query<{ applied: boolean }>(url, VERSION?.probe ?? 'SELECT false AS applied'))[0]?.applied === true

t.ok(VERSION, 'the eighth schema version is listed')

t.test('an upgrade from the previous release drops the index; a job\'s newest executions still use an index', async (t) => {
  const url = await freshDatabase(t, 'redundant_index_upgrade')
  await query(url, PREVIOUS_RELEASE_DDL)
  t.ok(await indexExists(url), 'control: the previous release created the index')
  t.notOk(await versionApplied(url), 'and the version\'s probe says it is not applied')
  // 40,000 rows of history over 200 jobs, as the previous release kept it.
  await query(url, `INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, finished_at)
    SELECT 'job-' || (g % 200), now() - make_interval(secs => g), 'success', now(), now() FROM generate_series(1, 40000) AS g`)

  await install(t, url)
  t.notOk(await indexExists(url), 'the index is gone')
  t.ok(await versionApplied(url), 'the version\'s probe says it is applied')
  t.equal((await query<{ n: number }>(url, 'SELECT count(*)::integer AS n FROM scheduler_job_execution'))[0]?.n, 40000, 'no history row was touched')

  await query(url, 'ANALYZE scheduler_job_execution')
  const plan = (await query<{ 'QUERY PLAN': string }>(url,
    "EXPLAIN SELECT id FROM scheduler_job_execution WHERE job_id = 'job-7' ORDER BY run_time DESC, id DESC LIMIT 20"))
    .map((row) => row['QUERY PLAN']).join('\n')
  t.match(plan, /Index Scan Backward using scheduler_job_execution_occurrence_key/, 'a job\'s newest executions: the occurrence key, scanned backwards')
  t.notMatch(plan, /Seq Scan/, 'not a scan of the whole history')
})

t.test('a fresh install never has the index', async (t) => {
  const url = await freshDatabase(t, 'redundant_index_fresh')
  await install(t, url)
  t.notOk(await indexExists(url), 'no index')
  t.ok(await versionApplied(url), 'the version is applied')
})
