/**
 * Issue #3, item 6: graceful shutdown (SIGTERM → `app.close()`). The leader stops claiming at
 * once, waits for its running executions up to `shutdownTimeoutMs`, records those it had to cut
 * off, and releases the leader lock, so a standby (default `leaderRetryMs`) takes over within 1 s
 * (on MariaDB the release bumps the change counter the standbys poll every 250 ms). Once per
 * server (PostgreSQL, MariaDB).
 */
import t from 'tap'
import { pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, START, assertLedger, duplicateRows, executions, gaps, leaderOf, ready, startWorker } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const SHUTDOWN_TIMEOUT_MS = 2000
const interval = { type: 'interval', seconds: 1, startDate: START }
const JOBS = [
  { id: 'tick', trigger: interval, coalesce: false, misfireGraceTime: null, maxInstances: 5 },
  // Always one running, finishing within the shutdown timeout.
  { id: 'finishes', trigger: interval, behaviour: { sleep: 1200 }, coalesce: false, misfireGraceTime: null, maxInstances: 3 },
  // Ignores its AbortSignal and would run a minute: cut off at shutdown.
  { id: 'stubborn', trigger: interval, behaviour: { sleep: 60_000, ignoreSignal: true }, coalesce: true, maxInstances: 1 }
]

for (const db of SERVER_DATABASES) t.test(`SIGTERM on ${db.name}: stop claiming, wait up to shutdownTimeoutMs, record the cut-off, hand over within 1 s`, async (t) => {
  const url = await db.fresh(t, 'shutdown')
  const workers = [1, 2].map((n) => startWorker(t, `worker ${n}`, url, { lock: 'auto', options: { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS }, jobs: JOBS }))
  await Promise.all(workers.map(async (worker) => ready(worker)))
  const leader = await leaderOf(workers)
  const standby = workers.find((worker) => worker !== leader) ?? leader
  await pollUntil('the leader runs stubborn and has finished 2 of finishes', async () =>
    reportsOf(leader, 'started').some((report) => report.jobId === 'stubborn') &&
    reportsOf(leader, 'executed').filter((report) => report.jobId === 'finishes').length >= 2, 30_000)

  const runningAtTerm = (await executions(url)).filter((row) => row.status === 'running' && row.owner === leader.nodeId)
  const termAt = Date.now()
  const exit = await stopProcess(leader, 'SIGTERM', SHUTDOWN_TIMEOUT_MS + 10_000)
  const exitedAfterMs = Date.now() - termAt
  t.same(exit, { code: 0, signal: null }, `the leader exited cleanly ${exitedAfterMs} ms after SIGTERM`, { output: tail(leader) })
  t.ok(exitedAfterMs < SHUTDOWN_TIMEOUT_MS + 5000, 'it waited no longer than shutdownTimeoutMs (plus closing)')

  // Stop claiming at once: nothing due after the signal was claimed by the leader.
  const claimedAfter = (await executions(url)).filter((row) => row.owner === leader.nodeId && row.run_time.getTime() > termAt + 200)
  t.same(claimedAfter.map((row) => `${row.job_id} ${row.run_time.toISOString()}`), [], 'the leader claimed nothing due after SIGTERM')

  // Its running executions: finished ones recorded, the stubborn one cut off and recorded.
  const after = await executions(url)
  for (const running of runningAtTerm) {
    const row = after.find((candidate) => candidate.id === running.id)
    if (running.job_id === 'stubborn') {
      t.equal(row?.status, 'abandoned', 'the execution still running at shutdownTimeoutMs is recorded abandoned')
      t.match(row?.exception, /cut off.*shutdownTimeoutMs/)
    } else {
      t.not(row?.status, 'running', `${running.job_id} ${running.run_time.toISOString()} was waited for and recorded (${row?.status})`)
    }
  }
  t.ok(runningAtTerm.some((row) => row.job_id === 'stubborn'), 'stubborn was running at SIGTERM')
  t.same(after.filter((row) => row.owner === leader.nodeId && row.status === 'running').map((row) => row.id), [], 'the leader left nothing running')

  // Handover: from the lock release (reported by the leader) to the standby's leader:acquired.
  const released = reportsOf(leader, 'lost').find((report) => report.reason === 'released at shutdown')
  t.ok(released, 'the leader released the lock at shutdown')
  const acquired = await pollUntil('the standby leads', async () => reportsOf(standby, 'leader').find((report) => Number(report.at) >= Number(released?.at)), 10_000)
  const handoverMs = Number(acquired.at) - Number(released?.at)
  t.ok(handoverMs <= 1000, `the standby took over ${handoverMs} ms after the release (bound 1000 ms)`)

  await pollUntil('the standby runs tick', async () => (await executions(url, 'tick')).some((row) => row.owner === standby.nodeId && row.status === 'success'), 10_000)
  t.same(await stopProcess(standby, 'SIGTERM'), { code: 0, signal: null }, 'the standby shut down cleanly', { output: tail(standby) })
  t.same(gaps(await executions(url, 'tick'), 1000), [], 'tick: no occurrence dropped across the handover')
  t.same(await duplicateRows(url), [])
  t.same((await executions(url)).filter((row) => row.status === 'running').map((row) => row.id), [], 'nothing is left running')
  await assertLedger(t, url, 5)
})
