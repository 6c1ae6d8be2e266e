/**
 * `maxInstances` is counted after the job row is locked, on the real PostgreSQL server.
 *
 * The race, staged step by step with real connections: claimer A has locked job J, started an
 * instance of it and advanced it (J is still due: a catch-up), but not committed yet. Claimer B's
 * claim statement starts now, so its snapshot does not see A's instance; A commits while B is still
 * reading due jobs; B then locks J's new version. A running count taken inside that statement is
 * the snapshot's (0) and admits a second instance; a count taken by a statement after the lock sees
 * A's instance.
 *
 * "While B is still reading" is made certain, not left to timing: B connects as a role of its own,
 * under a row-level security policy on `scheduler_job` whose check takes a shared advisory lock the
 * test holds (PostgreSQL docs, "Row Security Policies", "Advisory Locks"). B's statement has taken
 * its snapshot and waits inside its scan until the test, after A's commit, lets it go. The setup
 * store and A connect as the superuser, which row security does not apply to.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import type { ClaimPlanner } from '../../src/stores/job-store.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'
import { at, newJob } from './contract.js'

/** The advisory lock key B's row check waits on while the test holds it. */
const GATE_KEY = 7_215_830_777

const plan: ClaimPlanner = (job, _now, runningCount) => {
  const due = job.nextFireTime ?? job.nextRunTime as Date
  const next = new Date(due.getTime() + 1000)
  const free = runningCount < job.maxInstances
  return { run: free ? [due] : [], missed: [], maxInstances: free ? [] : [due], nextRunTime: next, nextFireTime: next, coalesced: 0 }
}

/** A client on `url`, ended at the end of `t`. */
async function client (t: { teardown(fn: () => unknown): void }, url: string): Promise<pg.Client> {
  const connection = new pg.Client({ connectionString: url })
  await connection.connect()
  t.teardown(async () => connection.end())
  return connection
}

t.test('a claimer that locks a job another claimer just committed counts that claimer\'s instance', async (t) => {
  const url = await freshDatabase(t, 'max_instances_snapshot')
  const setup = new MikroOrmJobStore(await openOrm(t, url))
  await setup.initialize()
  await setup.addJob(newJob('J', { nextRunTime: at(0), maxInstances: 1, coalesce: false }))

  // Claimer B's role, under the gated row policy; dropped with its privileges when the test ends.
  const role = `fms_claimer_b_${randomBytes(4).toString('hex')}`
  await query(url, `CREATE ROLE ${role} LOGIN`)
  t.teardown(async () => {
    await query(url, `DROP OWNED BY ${role}`)
    await query(url, `DROP ROLE ${role}`)
  })
  await query(url, `GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`)
  await query(url, `GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`)
  await query(url, `CREATE FUNCTION claim_gate() RETURNS boolean LANGUAGE sql VOLATILE AS
    'SELECT pg_advisory_lock_shared(${GATE_KEY}) IS NOT NULL AND pg_advisory_unlock_shared(${GATE_KEY})'`)
  await query(url, 'ALTER TABLE scheduler_job ENABLE ROW LEVEL SECURITY')
  await query(url, `CREATE POLICY claim_gate ON scheduler_job TO ${role} USING (claim_gate())`)
  const bUrl = new URL(url)
  bUrl.username = role
  const claimerB = new MikroOrmJobStore(await openOrm(t, bUrl.toString()))
  await claimerB.initialize()

  const gate = await client(t, url)
  await gate.query('SELECT pg_advisory_lock($1)', [GATE_KEY])

  // Claimer A: locks J, starts an instance, advances J (still due), and holds the transaction open.
  const a = await client(t, url)
  await a.query('BEGIN')
  await a.query("SELECT id FROM scheduler_job WHERE id = 'J' FOR UPDATE")
  await a.query(`INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, owner, lease_until)
    VALUES ('J', $1, 'running', $2, 'claimer-a', $2::timestamptz + interval '1 hour')`, [at(0), at(20)])
  await a.query("UPDATE scheduler_job SET next_run_time = $1, next_fire_time = $1 WHERE id = 'J'", [at(1)])

  const claimB = claimerB.claimDueJobs({ now: at(20), limit: 1, startLimit: 1, tasks: ['task.a'], owner: 'claimer-b', leaseMs: 3_600_000, plan })
  // B's claim statement has its snapshot and waits in its scan, on the gate.
  await waitUntil('claimer B waits on the gate inside its claim statement', async () => (await query(url,
    `SELECT 1 FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
     WHERE l.locktype = 'advisory' AND NOT l.granted AND s.usename = $1 AND s.query LIKE '%FROM scheduler_job AS j%'`, [role])).length > 0, 30_000)
  await a.query('COMMIT')
  await gate.query('SELECT pg_advisory_unlock($1)', [GATE_KEY])
  const claims = await claimB

  t.same(claims.map((claim) => claim.job.id), ['J'], 'B locked J after A committed (the staged race happened)')
  const running = await query<{ owner: string, run_time: Date }>(url, "select owner, run_time from scheduler_job_execution where job_id = 'J' and status = 'running' order by run_time")
  t.same(running.map((row) => row.owner), ['claimer-a'], 'one instance of J runs: B did not admit a second one')
  t.same(claims[0]?.recorded.map((execution) => execution.status), ['max_instances'], 'B recorded its occurrence max_instances')
})
