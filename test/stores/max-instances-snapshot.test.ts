/**
 * `maxInstances` is counted after the job row is locked, on the real PostgreSQL server.
 *
 * The race, staged step by step with two real connections: claimer A has locked job J, started an
 * instance of it and advanced it (J is still due: a catch-up), but not committed yet. Claimer B's
 * claim statement starts now, so its snapshot does not see A's instance; A commits while B is still
 * reading due jobs (a sequential scan and sort over many due jobs; the planner picks it when most
 * jobs are due, forced here for the test database); B then locks J's new version. A running count
 * taken inside that statement is the snapshot's (0) and admits a second instance; a count taken by
 * a statement after the lock sees A's instance.
 */
import pg from 'pg'
import t from 'tap'
import type { ClaimPlanner } from '../../src/stores/job-store.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'
import { at, newJob } from './contract.js'

const FILLERS = 30_000

const plan: ClaimPlanner = (job, _now, runningCount) => {
  const due = job.nextFireTime ?? job.nextRunTime as Date
  const next = new Date(due.getTime() + 1000)
  const free = runningCount < job.maxInstances
  return { run: free ? [due] : [], missed: [], maxInstances: free ? [] : [due], nextRunTime: next, nextFireTime: next, coalesced: 0 }
}

t.test('a claimer that locks a job another claimer just committed counts that claimer\'s instance', async (t) => {
  const url = await freshDatabase(t, 'max_instances_snapshot')
  const setup = new MikroOrmJobStore(await openOrm(t, url))
  await setup.initialize()
  await setup.addJob(newJob('J', { nextRunTime: at(0), maxInstances: 1, coalesce: false }))
  await query(url, `INSERT INTO scheduler_job
    SELECT (jsonb_populate_record(NULL::scheduler_job, to_jsonb(j) || jsonb_build_object('id', 'filler-' || g, 'next_run_time', $1::timestamptz, 'next_fire_time', $1::timestamptz))).*
    FROM scheduler_job j, generate_series(1, ${FILLERS}) g WHERE j.id = 'J'`, [at(10)])
  const [{ db }] = await query<{ db: string }>(url, 'select current_database() as db') as [{ db: string }]
  await query(url, `ALTER DATABASE "${db}" SET enable_indexscan = off`)
  await query(url, `ALTER DATABASE "${db}" SET enable_bitmapscan = off`)
  await query(url, 'ANALYZE scheduler_job')
  // Claimer B: a store on a pool opened after the settings, so its connections scan and sort.
  const claimerB = new MikroOrmJobStore(await openOrm(t, url))
  await claimerB.initialize()

  // Claimer A: locks J, starts an instance, advances J (still due), and holds the transaction open.
  const a = new pg.Client({ connectionString: url })
  await a.connect()
  t.teardown(async () => a.end())
  await a.query('BEGIN')
  await a.query("SELECT id FROM scheduler_job WHERE id = 'J' FOR UPDATE")
  await a.query(`INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, owner, lease_until)
    VALUES ('J', $1, 'running', $2, 'claimer-a', $2::timestamptz + interval '1 hour')`, [at(0), at(20)])
  await a.query("UPDATE scheduler_job SET next_run_time = $1, next_fire_time = $1 WHERE id = 'J'", [at(1)])

  const claimB = claimerB.claimDueJobs({ now: at(20), limit: 1, startLimit: 1, tasks: ['task.a'], owner: 'claimer-b', leaseMs: 3_600_000, plan })
  await waitUntil('claimer B is reading due jobs', async () => (await query(url,
    "select 1 from pg_stat_activity where state = 'active' and query like '%SKIP LOCKED%' and query like '%FROM scheduler_job AS j%'")).length > 0, 30_000)
  await a.query('COMMIT')
  const claims = await claimB

  t.same(claims.map((claim) => claim.job.id), ['J'], 'B locked J after A committed (the staged race happened)')
  const running = await query<{ owner: string, run_time: Date }>(url, "select owner, run_time from scheduler_job_execution where job_id = 'J' and status = 'running' order by run_time")
  t.same(running.map((row) => row.owner), ['claimer-a'], 'one instance of J runs: B did not admit a second one')
  t.same(claims[0]?.recorded.map((execution) => execution.status), ['max_instances'], 'B recorded its occurrence max_instances')
})
