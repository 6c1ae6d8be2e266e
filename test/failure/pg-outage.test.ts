/**
 * Issue #3, item 4: PostgreSQL restarts, then stays unreachable for 30 s. No process crashes or
 * throws into its host; the loops log, back off and resume by themselves; the leader lock and the
 * LISTEN connection come back; no job definition is lost; occurrences that fell due during the
 * outage follow the misfire rules once the database is back.
 *
 * This stops the machine's PostgreSQL server (after any running benchmark), so it lives in the
 * serial `test/failure` directory and always starts the server again. PostgreSQL only: the test
 * machine's MariaDB is shared and is not stopped by tests, so a MariaDB outage is not staged here.
 */
import t, { type Test } from 'tap'
import { freshDatabase, query } from '../helpers/database.js'
import { assertEffects } from '../helpers/effects.js'
import { alive, pollUntil, reportsOf, restartPostgres, stopProcess, tail, withPostgresDown } from '../helpers/processes.js'
import { START, duplicateRows, duplicateStarts, executions, gaps, isLeader, lockHolders, ready, startWorker, type FailureWorker } from './fixtures/cluster.js'

const every2s = { type: 'interval', seconds: 2, startDate: START }
const JOBS = [
  { id: 'all-run', trigger: every2s, coalesce: false, misfireGraceTime: null, maxInstances: 20 },
  { id: 'grace-2s', trigger: every2s, coalesce: false, misfireGraceTime: 2, maxInstances: 20 },
  { id: 'coalesced', trigger: every2s, coalesce: true, misfireGraceTime: null, maxInstances: 20 },
  // Never due by itself: the test makes it due and NOTIFYs, to prove the LISTEN connection works.
  { id: 'wake-1', trigger: { type: 'date', runDate: '2030-01-01T00:00:00Z' } },
  { id: 'wake-2', trigger: { type: 'date', runDate: '2030-01-01T00:00:00Z' } }
]

async function jobIds (url: string): Promise<string[]> {
  return (await query<{ id: string }>(url, 'select id from scheduler_job order by id')).map((row) => row.id)
}

/**
 * Proves the leader LISTENs again: right after an `all-run` occurrence finished (the loop then
 * sleeps until the next, 2 s later, with `pollIntervalMs` 30 s), makes `wakeJob` due and NOTIFYs.
 * Only a working LISTEN starts it well before the next occurrence would wake the loop.
 */
async function checkListen (t: Test, url: string, wakeJob: string): Promise<void> {
  const after = Date.now()
  const tick = await pollUntil('a fresh all-run execution', async () => (await executions(url, 'all-run'))
    .find((row) => row.status === 'success' && (row.finished_at as Date).getTime() > after), 30_000)
  await query(url, 'update scheduler_job set next_run_time = now(), next_fire_time = now() where id = $1', [wakeJob])
  const notifiedAt = Date.now()
  await query(url, "select pg_notify('scheduler_wakeup', 'test')")
  const woken = await pollUntil(`${wakeJob} ran`, async () => (await executions(url, wakeJob))[0], 30_000)
  const latency = (woken.started_at as Date).getTime() - notifiedAt
  const nextTick = tick.run_time.getTime() + 2000
  t.ok(latency < 1000 && (woken.started_at as Date).getTime() < nextTick,
    `${wakeJob} started ${latency} ms after NOTIFY (the loop would otherwise sleep until ${new Date(nextTick).toISOString()}): LISTEN works`)
}

async function checkResumed (t: Test, url: string, workers: FailureWorker[], since: number, what: string): Promise<void> {
  await pollUntil(`all-run runs again after the ${what}`, async () => (await executions(url, 'all-run'))
    .some((row) => row.status === 'success' && row.run_time.getTime() > since), 90_000)
  for (const worker of workers) t.ok(alive(worker), `${worker.name} is still running after the ${what}`, { output: tail(worker) })
  t.same(workers.flatMap((worker) => reportsOf(worker, 'uncaught')), [], 'nothing was thrown into a host')
  const holders = await pollUntil('one holder of the leader lock', async () => {
    const pids = await lockHolders(url)
    return pids.length === 1 ? pids : undefined
  }, 30_000)
  t.equal(holders.length, 1, 'the advisory leader lock is held again, by one session')
  t.equal(workers.filter(isLeader).length, 1, 'exactly one process says it leads')
}

// Restarts wait for any running benchmark to finish first, which may take minutes.
t.setTimeout(15 * 60_000)

t.test('PostgreSQL restart, then a 30 s outage: the processes ride it out and resume by themselves', async (t) => {
  const url = await freshDatabase(t, 'pg_outage')
  // pollIntervalMs 30 s: only a NOTIFY (or a due job) wakes the loop, so LISTEN is tested.
  const config = { lock: 'auto', options: { pollIntervalMs: 30_000, leaseMs: 10_000 }, jobs: JOBS }
  const workers = [1, 2].map((n) => startWorker(t, `worker ${n}`, url, config))
  await Promise.all(workers.map(async (worker) => ready(worker)))
  await pollUntil('all-run ran twice', async () => (await executions(url, 'all-run')).filter((row) => row.status === 'success').length >= 2, 30_000)
  const ids = await jobIds(url)
  t.same(ids, JOBS.map((job) => job.id).sort())

  // 1. A restart (seconds of downtime).
  const restartedAt = Date.now()
  await restartPostgres()
  await checkResumed(t, url, workers, Date.now(), 'restart')
  await checkListen(t, url, 'wake-1')
  t.ok(workers.some((worker) => reportsOf(worker, 'scheduler-error').some((report) => Number(report.at) >= restartedAt)),
    'the restart was noticed and logged as scheduler errors (not thrown)')

  // 2. 30 s unreachable.
  const { stoppedAt, startedAt } = await withPostgresDown(30_000)
  t.comment(`PostgreSQL was down from ${new Date(stoppedAt).toISOString()} to ${new Date(startedAt).toISOString()}`)
  await checkResumed(t, url, workers, startedAt, '30 s outage')
  await checkListen(t, url, 'wake-2')
  t.same(await jobIds(url), ids, 'no job definition was lost')

  // Occurrences due during the outage, once the database is back.
  const inOutage = (rows: Awaited<ReturnType<typeof executions>>): typeof rows =>
    rows.filter((row) => row.run_time.getTime() > stoppedAt + 500 && row.run_time.getTime() < startedAt - 500)
  await pollUntil('the outage\'s occurrences are recorded', async () => inOutage(await executions(url, 'grace-2s')).length >= 12, 60_000)
  const allRun = await executions(url, 'all-run')
  t.same(gaps(allRun, 2000), [], 'all-run (misfireGraceTime null, no coalescing): every occurrence has a row')
  t.ok(inOutage(allRun).length >= 12, `all-run: ${inOutage(allRun).length} occurrences of the outage ran late`)
  const allRunBad = allRun.filter((row) => !['success', 'abandoned', 'running'].includes(row.status))
  t.same(allRunBad.map((row) => `${row.run_time.toISOString()} ${row.status}`), [], 'all-run: no row missed')
  const grace = await executions(url, 'grace-2s')
  t.same(gaps(grace, 2000), [], 'grace-2s: every occurrence has a row')
  const lateOnes = inOutage(grace).filter((row) => row.run_time.getTime() < startedAt - 5000)
  t.same(lateOnes.filter((row) => row.status !== 'missed').map((row) => `${row.run_time.toISOString()} ${row.status}`), [],
    `grace-2s: the ${lateOnes.length} occurrences more than 5 s before the restart are recorded missed`)
  const coalesced = await executions(url, 'coalesced')
  t.ok(inOutage(coalesced).length <= 1, `coalesced: the outage's occurrences ran at most once (${inOutage(coalesced).length})`)
  t.ok(coalesced.some((row) => row.run_time.getTime() > startedAt), 'coalesced: runs again after the outage')

  const abandonedOrRunning = (await executions(url)).filter((row) => ['abandoned', 'running'].includes(row.status))
  t.comment(`rows abandoned or still running (their outcome could not be recorded during the outage): ${abandonedOrRunning.length}`)

  for (const worker of workers) {
    t.same(await stopProcess(worker, 'SIGTERM'), { code: 0, signal: null }, `${worker.name} shut down cleanly`, { output: tail(worker) })
  }
  t.same(await duplicateRows(url), [])
  t.same(duplicateStarts(workers), [], 'no handler started twice for one occurrence')
  // Outcomes lost in the outage leave rows abandoned (zero or one effect); every row that says it ran has one.
  await assertEffects(t, { url }, 12)
})
