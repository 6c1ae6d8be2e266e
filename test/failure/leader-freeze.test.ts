/**
 * Issue #3, item 2: a frozen leader. SIGSTOP (or a handler that blocks the event loop) keeps the
 * leader's sockets open, so the server never frees its leader lock by itself. The standbys must
 * notice that it stopped renewing its leader heartbeat and take over anyway; when the frozen
 * process resumes it must see it is no longer leader, and claim and run nothing.
 *
 * The heartbeat options (`leaderHeartbeatMs`, `leaderStaleMs`) are passed small so the test is
 * short. Both tests run once per server: PostgreSQL (the standby ends the frozen leader's session
 * with `pg_terminate_backend`) and MariaDB (`KILL CONNECTION` of the `GET_LOCK` holder).
 */
import t, { type Test } from 'tap'
import { alive, freeze, pollUntil, reportsOf, resume, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, START, assertLedger, duplicateRows, duplicateStarts, executions, type FailureWorker, gaps, leaderOf, ready, startWorker } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const HEARTBEAT = { leaderHeartbeatMs: 300, leaderStaleMs: 2000 }
/** Stale after 2 s, then one retry (1 s) and a claim: 10 s leaves room for a loaded machine. */
const TAKEOVER_BOUND_MS = 10_000

const interval = { type: 'interval', seconds: 1, startDate: START }
const ALL_RUN = { id: 'all-run', trigger: interval, coalesce: false, misfireGraceTime: null, maxInstances: 5 }

async function firstStartedBy (url: string, owners: string[], after: number): Promise<number | undefined> {
  const rows = (await executions(url)).filter((row) => row.owner !== null && owners.includes(row.owner) && row.started_at !== null && row.started_at.getTime() > after)
  const times = rows.map((row) => (row.started_at as Date).getTime())
  return times.length === 0 ? undefined : Math.min(...times)
}

/** After the freeze: the resumed process knows it lost, and runs nothing due after the freeze began. */
async function checkResumed (t: Test, url: string, frozen: FailureWorker, frozenAt: number, workers: FailureWorker[]): Promise<void> {
  await pollUntil(`${frozen.name} reports it lost leadership`, async () => reportsOf(frozen, 'lost').length > 0, 15_000)
  t.pass(`${frozen.name} noticed it is no longer leader: ${String(reportsOf(frozen, 'lost')[0]?.reason)}`)
  const others = workers.filter((worker) => worker !== frozen)
  // A few more occurrences under the new leader, with the old one awake again.
  const resumedAt = Date.now()
  await pollUntil('3 more occurrences after the resume', async () => (await executions(url, 'all-run'))
    .filter((row) => row.run_time.getTime() > resumedAt && row.status === 'success').length >= 3, 30_000)
  // Until it legitimately leads again (if ever: say the new leader is fenced in turn), it claims nothing.
  const lost = Number(reportsOf(frozen, 'lost')[0]?.at)
  const leadsAgainAt = Number(reportsOf(frozen, 'leader').find((report) => Number(report.at) > lost)?.at ?? Infinity)
  const stolen = (await executions(url)).filter((row) => row.owner === frozen.nodeId && row.run_time.getTime() > frozenAt + 100 &&
    ((row.started_at ?? row.finished_at) as Date).getTime() < leadsAgainAt)
  const lostAt = Number(reportsOf(frozen, 'lost')[0]?.at)
  t.same(stolen.map((row) => `${row.job_id} ${row.run_time.toISOString()} ${row.status} started ${row.started_at?.toISOString() ?? row.finished_at?.toISOString()}`), [],
    `the resumed process claimed nothing due after its freeze (frozen at ${new Date(frozenAt).toISOString()}, reported lost at ${new Date(lostAt).toISOString()})`)
  t.ok(alive(frozen), 'the resumed process is still running (it did not crash)')
  for (const worker of workers) {
    t.same(await stopProcess(worker, 'SIGTERM'), { code: 0, signal: null }, `${worker.name} shut down cleanly`, { output: tail(worker) })
  }
  t.same(await duplicateRows(url), [])
  t.same(duplicateStarts(workers), [], 'no handler started twice for one occurrence')
  // The frozen leader's in-flight handler may have started (abandoned row, one effect) or not.
  await assertLedger(t, url, 5)
  const rows = await executions(url, 'all-run')
  t.same(gaps(rows, 1000), [], 'all-run: no occurrence dropped')
  const bad = rows.filter((row) => row.status !== 'success' && !(row.owner === frozen.nodeId && row.status === 'abandoned'))
  t.same(bad.map((row) => `${row.run_time.toISOString()} ${row.status}`), [], 'all-run: every row succeeded (the frozen leader\'s in-flight row may be abandoned)')
  t.ok(others.length > 0)
}

for (const db of SERVER_DATABASES) t.test(`SIGSTOP of the leader on ${db.name}: a standby takes over; the resumed process stands down`, async (t) => {
  const url = await db.fresh(t, 'leader_freeze')
  const workers = [1, 2, 3].map((n) => startWorker(t, `worker ${n}`, url, { lock: 'auto', options: HEARTBEAT, jobs: [ALL_RUN] }))
  t.teardown(() => { for (const worker of workers) resume(worker) })
  await Promise.all(workers.map(async (worker) => ready(worker)))
  const leader = await leaderOf(workers)
  await pollUntil('the leader ran 2 occurrences', async () => reportsOf(leader, 'executed').length >= 2, 30_000)

  const frozenAt = Date.now()
  freeze(leader)
  const others = workers.filter((worker) => worker !== leader).map((worker) => worker.nodeId)
  try {
    const takenOver = await pollUntil('a standby runs an occurrence while the leader is frozen',
      async () => firstStartedBy(url, others, frozenAt), TAKEOVER_BOUND_MS + 5000)
    t.ok(takenOver - frozenAt <= TAKEOVER_BOUND_MS, `a standby started an execution ${takenOver - frozenAt} ms after the freeze (leaderStaleMs ${HEARTBEAT.leaderStaleMs})`)
    await pollUntil('2 more occurrences while frozen', async () => (await executions(url, 'all-run'))
      .filter((row) => row.owner !== leader.nodeId && row.status === 'success').length >= 2, 30_000)
  } finally {
    resume(leader)
  }
  await checkResumed(t, url, leader, frozenAt, workers)
})

for (const db of SERVER_DATABASES) t.test(`a handler blocking the leader's event loop for 6 s on ${db.name}: a standby takes over; the leader stands down`, async (t) => {
  const url = await db.fresh(t, 'leader_block')
  // Blocks once in the whole cluster (a date job), in whichever process leads then.
  const blockAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 12_000).toISOString()
  const jobs = [ALL_RUN, { id: 'blocker', trigger: { type: 'date', runDate: blockAt }, behaviour: { block: 6000 }, maxInstances: 1 }]
  const workers = [1, 2].map((n) => startWorker(t, `worker ${n}`, url, { lock: 'auto', options: HEARTBEAT, jobs }))
  await Promise.all(workers.map(async (worker) => ready(worker)))
  const leader = await leaderOf(workers)
  const blocking = await pollUntil('the leader blocks its event loop', async () => reportsOf(leader, 'blocking')[0], 30_000)
  const blockedAt = Number(blocking.at)
  const others = workers.filter((worker) => worker !== leader).map((worker) => worker.nodeId)
  const takenOver = await pollUntil('a standby runs an occurrence during the block', async () => firstStartedBy(url, others, blockedAt), TAKEOVER_BOUND_MS + 5000)
  t.ok(takenOver - blockedAt <= TAKEOVER_BOUND_MS, `a standby started an execution ${takenOver - blockedAt} ms after the block began`)
  t.ok(takenOver - blockedAt < 6000, 'the takeover happened while the leader was still blocked')
  await checkResumed(t, url, leader, blockedAt, workers)
})
