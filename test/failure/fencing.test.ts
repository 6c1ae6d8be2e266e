/**
 * Issue #3, item 9: unique-key fencing. When two processes do plan the same occurrence (here: two
 * processes with `lock: 'none'`, and a job whose `next_run_time` is rewound to occurrences that
 * already ran, as a lost update or a lost lock would leave it), the `(job_id, run_time)` unique
 * key decides: the loser records nothing and runs nothing, and logs "claimed elsewhere" at info
 * level, not as an error. Once per server (PostgreSQL, MariaDB).
 */
import t from 'tap'
import { logLines, pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { PER_SERVER_FILE_TIMEOUT_MS, START, assertLedger, duplicateRows, duplicateStarts, executions, gaps, ready, startWorker, wakeSchedulers } from './fixtures/cluster.js'

t.setTimeout(PER_SERVER_FILE_TIMEOUT_MS)

const REWINDS = 3

for (const db of SERVER_DATABASES) t.test(`occurrences claimed twice on ${db.name}: the unique key decides, the loser logs "claimed elsewhere" and runs nothing`, async (t) => {
  const url = await db.fresh(t, 'fencing')
  const jobs = [{ id: 'fenced', trigger: { type: 'interval', seconds: 1, startDate: START }, coalesce: false, misfireGraceTime: null, maxInstances: 10 }]
  const workers = [1, 2].map((n) => startWorker(t, `worker ${n}`, url, { lock: 'none', log: true, jobs }))
  await Promise.all(workers.map(async (worker) => ready(worker)))

  for (let i = 0; i < REWINDS; i++) {
    const done = await pollUntil('3 more finished occurrences', async () => {
      const rows = (await executions(url, 'fenced')).filter((row) => row.status === 'success')
      return rows.length >= 3 * (i + 1) ? rows : undefined
    }, 30_000)
    // Rewind to three occurrences back: each was run; planning them again must conflict.
    const target = done.at(-3) as (typeof done)[number]
    await db.query(url, "update scheduler_job set next_run_time = ?, next_fire_time = ? where id = 'fenced'", [target.run_time, target.run_time])
    await wakeSchedulers(url)
    await pollUntil('a process logged claimed elsewhere', async () =>
      workers.flatMap(logLines).filter((line) => /claimed elsewhere/.test(line.msg)).length > i, 30_000)
  }
  const before = new Map((await executions(url, 'fenced')).map((row) => [row.id, row.status]))
  for (const worker of workers) t.same(await stopProcess(worker, 'SIGTERM'), { code: 0, signal: null }, `${worker.name} shut down cleanly`, { output: tail(worker) })

  const lines = workers.flatMap(logLines)
  const elsewhere = lines.filter((line) => /claimed elsewhere/.test(line.msg))
  t.ok(elsewhere.length >= REWINDS, `${elsewhere.length} "claimed elsewhere" log lines`)
  t.ok(elsewhere.every((line) => line.level === 30), 'logged at info level')
  t.same(lines.filter((line) => line.level >= 50).map((line) => line.msg), [], 'no error was logged')
  t.same(await duplicateRows(url), [], 'no occurrence has two rows')
  t.same(duplicateStarts(workers), [], 'no handler started twice for one occurrence')
  const rows = await executions(url, 'fenced')
  t.same(gaps(rows, 1000), [])
  t.ok(rows.every((row) => before.get(row.id) === undefined || before.get(row.id) === row.status || before.get(row.id) === 'running'), 'no recorded outcome changed')
  t.same(rows.filter((row) => row.status !== 'success').map((row) => `${row.run_time.toISOString()} ${row.status}`), [], 'every row succeeded')
  t.equal(workers.reduce((n, worker) => n + reportsOf(worker, 'started').length, 0), rows.length, 'the handlers ran once per row, no more')
  // The rewound occurrences were planned twice; the ledger shows each handler effect once.
  await assertLedger(t, url, rows.length)
})
