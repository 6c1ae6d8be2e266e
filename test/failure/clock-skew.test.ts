/**
 * Issue #3, item 7: clock skew. Two processes whose own clocks are an hour ahead and an hour
 * behind (their `Date` is shifted before anything loads), both looping (`lock: 'none'`), fire at
 * the right instants: due times, claims and leases come from the database clock (PostgreSQL's
 * `now()`, MariaDB's `UTC_TIMESTAMP(3)`). Once per server.
 */
import t from 'tap'
import { pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, START, assertLedger, duplicateRows, duplicateStarts, executions, gaps, nowSql, ready, startWorker } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const HOUR = 3_600_000

for (const db of SERVER_DATABASES) t.test(`processes whose clocks are off by an hour fire at ${db.name}'s instants`, async (t) => {
  const url = await db.fresh(t, 'clock_skew')
  const [{ now: dbNow } = { now: new Date() }] = await db.query<{ now: Date }>(url, `select ${nowSql(url)} as now`)
  const runDate = new Date(Math.ceil(dbNow.getTime() / 1000) * 1000 + 12_000)
  const jobs = [
    { id: 'interval-1s', trigger: { type: 'interval', seconds: 1, startDate: START }, coalesce: false, misfireGraceTime: null, maxInstances: 5 },
    { id: 'cron-2s', trigger: { type: 'cron', expression: '*/2 * * * * *' }, coalesce: false, misfireGraceTime: null, maxInstances: 5 },
    { id: 'date', trigger: { type: 'date', runDate: runDate.toISOString() } },
    // Outlives its 2 s lease: renewed on the database clock, it must not be abandoned.
    { id: 'slow', trigger: { type: 'interval', seconds: 5, startDate: START }, behaviour: { sleep: 3000 }, maxInstances: 1 }
  ]
  const options = { leaseMs: 2000 }
  const workers = [
    startWorker(t, 'clock +1 h', url, { lock: 'none', clockOffsetMs: HOUR, options, jobs }),
    startWorker(t, 'clock -1 h', url, { lock: 'none', clockOffsetMs: -HOUR, options, jobs })
  ]
  // From the first worker's ready on a scheduler runs (test clock: the database's machine). The date
  // job's run date is fixed before start-up; when start-up on a busy machine outlasted its 12 s it
  // cannot fire on time: it fires late by rule (a misfire), and is not timed below.
  const runningFrom = Math.min(...await Promise.all(workers.map(async (worker) => { await ready(worker); return Date.now() })))
  t.ok(workers.every((worker) => Math.abs(Number(worker.reports[0]?.at) - Date.now()) > HOUR / 2), 'the workers\' clocks are really off')

  // Wait for enough history (not a fixed time: process start-up takes longer on a loaded machine).
  await pollUntil('the date job ran, 2 slow runs finished and more than 20 executions exist', async () => {
    const rows = await executions(url)
    return rows.some((row) => row.job_id === 'date' && row.status !== 'running') &&
      rows.filter((row) => row.job_id === 'slow' && row.status !== 'running').length >= 2 &&
      rows.length > 20
  }, 60_000)
  for (const worker of workers) t.same(await stopProcess(worker, 'SIGTERM'), { code: 0, signal: null }, `${worker.name} shut down cleanly`, { output: tail(worker) })

  const rows = await executions(url)
  t.ok(rows.length > 20, `${rows.length} executions`)
  // When each handler really started: its own report, its skewed clock corrected by the known
  // offset. (The row's started_at is finished_at − duration, and finished_at is when the outcome
  // was written, which a busy machine can delay by seconds without any start being late.)
  const startedAt = new Map(workers.flatMap((worker, i) => reportsOf(worker, 'started')
    .map((report) => [Number(report.executionId), Number(report.at) - (i === 0 ? HOUR : -HOUR)] as const)))
  const dueWhileRunning = rows.filter((row) => row.job_id !== 'date' || row.run_time.getTime() >= runningFrom)
  if (dueWhileRunning.length < rows.length) t.comment('not timed: the date job, due before the workers were ready')
  const late = dueWhileRunning.filter((row) => !startedAt.has(row.id) || Math.abs((startedAt.get(row.id) as number) - row.run_time.getTime()) > 1500)
  t.same(late.map((row) => `${row.job_id} run ${row.run_time.toISOString()} started ${startedAt.has(row.id) ? new Date(startedAt.get(row.id) as number).toISOString() : 'never'}`), [],
    'every handler due while the workers ran started within 1.5 s of its run time (the database\'s instant), whatever its process\'s clock says')
  const firstRun = Math.min(...rows.map((row) => row.run_time.getTime()))
  t.ok(Math.abs(firstRun - dbNow.getTime()) < 60_000, `the first run time (${new Date(firstRun).toISOString()}) is near the database's now (${dbNow.toISOString()}), not an hour off`)
  t.same(gaps(rows.filter((row) => row.job_id === 'interval-1s'), 1000), [], 'interval-1s: every second has a row')
  t.same(gaps(rows.filter((row) => row.job_id === 'cron-2s'), 2000), [], 'cron-2s: every other second has a row')
  t.ok(rows.filter((row) => row.job_id === 'cron-2s').every((row) => row.run_time.getTime() % 2000 === 0), 'cron-2s: on even seconds')
  const date = rows.filter((row) => row.job_id === 'date')
  t.same(date.map((row) => [row.run_time.toISOString(), row.status]), [[runDate.toISOString(), 'success']], 'the date job ran once, at its run date')
  t.same(rows.filter((row) => row.status !== 'success').map((row) => `${row.job_id} ${row.status} ${row.exception}`), [], 'every execution succeeded (no lease was judged expired by a skewed clock)')
  t.same(await duplicateRows(url), [])
  t.same(duplicateStarts(workers), [], 'no handler started twice for one occurrence')
  await assertLedger(t, url, 20)
  t.ok(workers.every((worker) => reportsOf(worker, 'started').length > 0), `both skewed processes ran executions (${workers.map((worker) => reportsOf(worker, 'started').length).join(' and ')})`)
})
