/**
 * Issue #3, item 3: executions whose owner died. Running rows carry `owner` and `lease_until`,
 * which the owner's heartbeat extends; when the owner is killed the lease expires, another
 * process marks the row `abandoned` with the reason, and the job's `maxInstances` slot is free
 * again. A live owner's long execution is never abandoned, and at shutdown nothing stays running.
 *
 * `leaseMs` is 2000 here (a legitimate option) so the test does not wait the default 30 s. Once
 * per server (PostgreSQL, MariaDB).
 */
import t from 'tap'
import { pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, START, assertLedger, duplicateRows, executions, leaderOf, nowSql, ready, startWorker, wakeSchedulers } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const LEASE_MS = 2000

for (const db of SERVER_DATABASES) t.test(`a killed owner's running execution on ${db.name} becomes abandoned with the reason and frees its slot`, async (t) => {
  const url = await db.fresh(t, 'abandoned')
  const jobs = [
    // Never settles and has no timeout: only its owner's death or shutdown ends it.
    { id: 'stuck', trigger: { type: 'interval', seconds: 1, startDate: START }, behaviour: 'hang', maxInstances: 1, coalesce: true, misfireGraceTime: null },
    // Runs 2.5 leases long: its owner's heartbeat must keep it.
    { id: 'long', trigger: { type: 'interval', hours: 1, startDate: START }, behaviour: { sleep: 5000 }, maxInstances: 1 }
  ]
  const config = { lock: 'auto', options: { leaseMs: LEASE_MS, shutdownTimeoutMs: 1000 }, jobs }
  const workers = [1, 2].map((n) => startWorker(t, `worker ${n}`, url, config))
  await Promise.all(workers.map(async (worker) => ready(worker)))
  const leader = await leaderOf(workers)
  const standby = workers.find((worker) => worker !== leader) ?? leader

  // Run `long` now: a live owner keeps a 5 s execution alive under a 2 s lease.
  await db.query(url, `update scheduler_job set next_run_time = ${nowSql(url)}, next_fire_time = ${nowSql(url)} where id = 'long'`)
  await wakeSchedulers(url)
  const long = await pollUntil('long finished', async () => (await executions(url, 'long')).find((row) => row.status !== 'running'), 30_000)
  t.equal(long.status, 'success', `a 5 s execution under a ${LEASE_MS} ms lease succeeded (its lease was renewed), owner ${long.owner}`)

  const stuck = await pollUntil('the leader runs stuck', async () => (await executions(url, 'stuck')).find((row) => row.status === 'running' && row.owner === leader.nodeId), 30_000)
  // Two lease periods after it started it is still running, and its lease keeps moving: its live owner renews it.
  await pollUntil('stuck has run for two leases', async () => Date.now() - (stuck.started_at as Date).getTime() > 2 * LEASE_MS, 30_000)
  const renewed = await pollUntil('stuck\'s lease is renewed', async () => (await executions(url, 'stuck'))
    .find((row) => row.id === stuck.id && row.status === 'running' && (row.lease_until as Date).getTime() > (stuck.lease_until as Date).getTime()), 3 * LEASE_MS)
  t.equal(renewed.status, 'running', 'a live owner\'s execution is not abandoned while it renews its lease')
  t.ok((renewed.lease_until as Date).getTime() > Date.now() - 1000, 'its lease_until is current')

  const killedAt = Date.now()
  leader.child.kill('SIGKILL')
  await leader.exited
  const abandoned = await pollUntil('the dead owner\'s execution is abandoned', async () => {
    const row = (await executions(url, 'stuck')).find((row) => row.id === stuck.id)
    return row?.status === 'abandoned' ? row : undefined
  }, 30_000)
  const tookMs = (abandoned.finished_at as Date).getTime() - killedAt
  t.ok(tookMs <= LEASE_MS * 2 + 3000, `abandoned ${tookMs} ms after the kill (lease ${LEASE_MS} ms, reaper every ${LEASE_MS / 2} ms)`)
  t.match(abandoned.exception, /lease expired/, 'the row states why')
  t.equal(abandoned.lease_until, null)
  t.ok(reportsOf(standby, 'abandoned').some((report) => report.executionId === stuck.id), 'the surviving process reported it abandoned')

  const rerun = await pollUntil('stuck runs again on the survivor (its slot is free)', async () =>
    (await executions(url, 'stuck')).find((row) => row.owner === standby.nodeId && row.status === 'running'), 30_000)
  t.ok(rerun.run_time.getTime() > stuck.run_time.getTime(), `a new occurrence (${rerun.run_time.toISOString()}) runs in the freed slot`)

  // Graceful shutdown cuts the hanging handler off after shutdownTimeoutMs and records it.
  t.same(await stopProcess(standby, 'SIGTERM'), { code: 0, signal: null }, 'the survivor shut down cleanly', { output: tail(standby) })
  const cutOff = (await executions(url, 'stuck')).find((row) => row.id === rerun.id)
  t.equal(cutOff?.status, 'abandoned')
  t.match(cutOff?.exception, /cut off/)
  t.same((await executions(url)).filter((row) => row.status === 'running').map((row) => `${row.job_id} ${row.id}`), [], 'no execution is left running')
  t.same(await duplicateRows(url), [])
  // The killed owner's hanging handler did start: its abandoned row has one effect, the cut-off one too.
  await assertLedger(t, url, 3)
})
