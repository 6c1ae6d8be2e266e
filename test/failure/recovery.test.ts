/**
 * Crash recovery with real processes (issue #14, Quartz's `requestsRecovery`): the leader runs a
 * job with `recover: true` and one without, both stuck in their handlers, and is killed. The
 * survivor reaps both leases; only the recovering job's occurrence gets a second attempt, which the
 * survivor runs to success. The effect ledger, written by the handlers themselves, shows one effect
 * per attempt: the killed attempt did start, the recovered one ran once, and nothing ran twice.
 *
 * `leaseMs` is 2000 so the test does not wait the default 30 s. Once per server (PostgreSQL, MariaDB).
 */
import t from 'tap'
import { pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, assertLedger, leaderOf, ready, startWorker } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const LEASE_MS = 2000

interface AttemptRow { job_id: string, run_time: Date, attempt: number, status: string, owner: string | null, next_attempt_at: Date | null, exception: string | null }

const attemptsOn = (db: TestDatabase, url: string) => async (jobId: string): Promise<AttemptRow[]> => db.query<AttemptRow>(url,
  'select job_id, run_time, attempt, status, owner, next_attempt_at, exception from scheduler_job_execution where job_id = ? order by run_time, attempt', [jobId])

for (const db of SERVER_DATABASES) t.test(`a killed owner's execution of a job with recover gets another attempt on a survivor on ${db.name}; without recover it does not`, async (t) => {
  const url = await db.fresh(t, 'recovery')
  const attempts = attemptsOn(db, url)
  // A date trigger whose run date has passed fires once, at once (APScheduler's rule).
  const once = { type: 'date', runDate: new Date().toISOString() }
  const jobs = [
    { id: 'recovering', trigger: once, behaviour: 'hang-first-attempt', recover: true, retry: { attempts: 3, backoff: 'fixed', delayMs: 0 } },
    { id: 'plain', trigger: once, behaviour: 'hang', retry: { attempts: 3, backoff: 'fixed', delayMs: 0 } }
  ]
  const config = { lock: 'auto', options: { leaseMs: LEASE_MS, shutdownTimeoutMs: 1000 }, jobs }
  const workers = [1, 2].map((n) => startWorker(t, `worker ${n}`, url, config))
  await Promise.all(workers.map(async (worker) => ready(worker)))
  const leader = await leaderOf(workers)
  const survivor = workers.find((worker) => worker !== leader) ?? leader

  for (const jobId of ['recovering', 'plain']) {
    await pollUntil(`the leader runs ${jobId}`, async () => (await attempts(jobId)).find((row) => row.status === 'running' && row.owner === leader.nodeId), 30_000)
    await pollUntil(`${jobId}'s handler started`, async () => reportsOf(leader, 'started').some((report) => report.jobId === jobId), 30_000)
  }
  leader.child.kill('SIGKILL')
  await leader.exited

  const recovered = await pollUntil('the recovered attempt succeeded on the survivor', async () =>
    (await attempts('recovering')).find((row) => row.attempt === 2 && row.status === 'success'), 30_000)
  t.equal(recovered.owner, survivor.nodeId, 'attempt 2 ran on the survivor')
  const [first, second, ...more] = await attempts('recovering')
  t.same(more, [], 'two attempts, no third')
  t.match(first, { attempt: 1, status: 'abandoned', owner: leader.nodeId, exception: /lease expired/ })
  t.ok(first?.next_attempt_at !== null, 'the abandoned attempt records when its next attempt was due')
  t.equal(second?.run_time.getTime(), first?.run_time.getTime(), 'the same occurrence')

  const plain = await pollUntil('plain is abandoned', async () => (await attempts('plain')).find((row) => row.status === 'abandoned'), 30_000)
  t.equal(plain.next_attempt_at, null, 'without recover, no next attempt is due')
  t.same((await attempts('plain')).map((row) => [row.attempt, row.status]), [[1, 'abandoned']], 'and none is queued')
  t.ok(reportsOf(survivor, 'started').every((report) => report.jobId !== 'plain'), 'the survivor never ran plain')

  t.same(await stopProcess(survivor, 'SIGTERM'), { code: 0, signal: null }, 'the survivor shut down cleanly', { output: tail(survivor) })
  t.same(await db.query(url, "select job_id, attempt from scheduler_job_execution where status in ('running', 'queued')"), [], 'nothing is left running or queued')
  // Effects: the killed attempts of both jobs started, the recovered attempt ran once.
  const check = await assertLedger(t, url, 3)
  t.equal(check.effects, 3, 'exactly three handler calls: recovering #1 and #2, plain #1')
})
