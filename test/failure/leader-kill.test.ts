/**
 * Issue #3, item 1: the leader is killed (SIGKILL). Its connection closes, the server frees the
 * leader lock (PostgreSQL's advisory lock, MariaDB's `GET_LOCK`), and a standby (default settings:
 * `leaderRetryMs` 1000) takes over and fires the next due occurrence within 2 s of the kill.
 * Occurrences that fell due in the gap follow the job's misfire grace time and coalesce settings:
 * run late, or recorded `missed`, never dropped. Once per server (PostgreSQL, MariaDB).
 */
import t from 'tap'
import { alive, pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, START, assertLedger, duplicateRows, duplicateStarts, executions, gaps, leaderOf, ready, startWorker } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const interval = { type: 'interval', seconds: 1, startDate: START }
const JOBS = [
  // Every occurrence must run, however late.
  { id: 'all-run', trigger: interval, coalesce: false, misfireGraceTime: null, maxInstances: 5 },
  // An occurrence more than 1 s late is recorded `missed`.
  { id: 'grace-1s', trigger: interval, coalesce: false, misfireGraceTime: 1, maxInstances: 5 }
]

for (const db of SERVER_DATABASES) t.test(`SIGKILL of the leader on ${db.name}: a standby fires the next due occurrence within 2 s; nothing in the gap is dropped`, async (t) => {
  const url = await db.fresh(t, 'leader_kill')
  // Default leader settings: the 2 s bound is for them.
  const workers = [1, 2, 3].map((n) => startWorker(t, `worker ${n}`, url, { lock: 'auto', jobs: JOBS }))
  await Promise.all(workers.map(async (worker) => ready(worker)))
  const leader = await leaderOf(workers)

  await pollUntil('the leader ran 3 occurrences', async () => reportsOf(leader, 'executed').filter((report) => report.jobId === 'all-run').length >= 3, 30_000)
  const killedAt = Date.now()
  leader.child.kill('SIGKILL')
  await leader.exited
  const standbys = workers.filter((worker) => worker !== leader)

  // The first execution another process started after the kill (started_at: database clock, same machine).
  const first = await pollUntil('an execution started by a standby', async () => {
    const rows = (await executions(url)).filter((row) => row.owner !== leader.nodeId && row.started_at !== null && row.started_at.getTime() > killedAt)
    return rows.sort((a, b) => (a.started_at as Date).getTime() - (b.started_at as Date).getTime())[0]
  }, 30_000)
  const failoverMs = (first.started_at as Date).getTime() - killedAt
  t.ok(failoverMs <= 2000, `a standby started ${first.job_id} @ ${first.run_time.toISOString()} ${failoverMs} ms after the kill (bound 2000 ms)`)

  const nextDue = await pollUntil('the first occurrence due after the kill ran', async () => {
    const row = (await executions(url, 'all-run')).find((row) => row.run_time.getTime() > killedAt)
    return row?.started_at === null ? undefined : row
  }, 30_000)
  t.ok((nextDue.started_at as Date).getTime() - killedAt <= 2000,
    `the next due occurrence (${nextDue.run_time.toISOString()}) started ${(nextDue.started_at as Date).getTime() - killedAt} ms after the kill`)
  const newLeader = await leaderOf(standbys)
  t.not(newLeader, leader)

  // Let the new leader run a few more, then stop everyone gracefully.
  await pollUntil('3 more occurrences after the failover', async () => {
    const rows = await executions(url, 'all-run')
    return rows.filter((row) => row.run_time.getTime() > killedAt && row.status === 'success').length >= 3
  }, 30_000)
  for (const worker of standbys) {
    t.same(await stopProcess(worker, 'SIGTERM'), { code: 0, signal: null }, `${worker.name} shut down cleanly`, { output: tail(worker) })
  }

  t.same(await duplicateRows(url), [], 'no occurrence has two rows')
  t.same(duplicateStarts(workers), [], 'no handler started twice for one occurrence (from what the processes printed)')
  // The killed leader's rows still running or abandoned may have zero or one effect; every other row that ran has one.
  await assertLedger(t, url, 6)
  for (const job of JOBS) {
    const rows = await executions(url, job.id)
    t.same(gaps(rows, 1000), [], `${job.id}: every occurrence from the first to the last has a row (none dropped in the gap)`)
    const allowed = job.misfireGraceTime === null ? ['success'] : ['success', 'missed']
    // The killed leader may have died between claiming and recording: its rows become abandoned, not lost.
    const wrong = rows.filter((row) => !allowed.includes(row.status) && !(row.owner === leader.nodeId && ['running', 'abandoned'].includes(row.status)))
    t.same(wrong.map((row) => `${row.run_time.toISOString()} ${row.status} ${row.owner}`), [], `${job.id}: rows are ${allowed.join(' or ')}`)
    t.comment(`${job.id}: ${rows.length} rows, statuses ${JSON.stringify(Object.fromEntries(allowed.concat('abandoned', 'running').map((s) => [s, rows.filter((row) => row.status === s).length])))}`)
  }
  t.notOk(workers.some((worker) => reportsOf(worker, 'uncaught').length > 0), 'nothing was thrown into any host')
  t.notOk(alive(leader))
})
