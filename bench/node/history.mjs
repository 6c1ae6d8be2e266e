/**
 * history: the burst on top of a long execution history, then deleting one day of it while
 * claims go on. `historyFill` stores `rows` success rows spread evenly over the last `days` days
 * (one INSERT … SELECT generate_series; run once, the repeats copy its database); `history`
 * then runs the burst of `jobs` date jobs, starts `ticking` interval jobs at 1 s, and after a
 * 5 s baseline calls `deleteOldExecutions` for everything older than `days − 1` days (the
 * oldest day) and records how long it took and the fire lag of the ticks before and during it.
 */
import { countOutcomes, openScheduler } from './harness.mjs'
import { runBurst } from './burst.mjs'
import { lagSummary, sleep } from '../stats.mjs'

const DAY_MS = 86_400_000

export async function historyFill (url, { rows, days }) {
  const bench = await openScheduler(url)
  try {
    await bench.scheduler.start() // installs the schema
    const started = Date.now()
    // 1,000 job ids, run times evenly spaced from `days` days ago to one hour ago.
    await bench.query(
      `INSERT INTO scheduler_job_execution (job_id, run_time, status, started_at, finished_at, duration_ms)
       SELECT 'history-' || (g % 1000), t, 'success', t, t + interval '5 ms', 5
       FROM generate_series(1, $1::bigint) AS g,
            LATERAL (SELECT now() - make_interval(secs => $2::double precision * (1 - g::double precision / $1) + 3600)) AS s(t)`,
      [rows, (days * DAY_MS) / 1000 - 3600])
    await bench.query('VACUUM ANALYZE scheduler_job_execution') // what autovacuum does after a bulk load
    const [{ size }] = await bench.query("SELECT pg_size_pretty(pg_total_relation_size('scheduler_job_execution')) AS size")
    return { rows, fillSeconds: (Date.now() - started) / 1000, size }
  } finally {
    await bench.close()
  }
}

export async function history (url, { rows, days, jobs, ticking, leadMs }) {
  const bench = await openScheduler(url)
  const { scheduler, store } = bench
  try {
    const ticks = []
    scheduler.registerTask('noop', (ctx) => { bench.lags?.push(Date.now() - ctx.runTime.getTime()) })
    scheduler.registerTask('tick', (ctx) => { ticks.push({ runTime: ctx.runTime.getTime(), lag: Date.now() - ctx.runTime.getTime() }) })
    const counts = countOutcomes(scheduler)
    await scheduler.start()
    const burst = await runBurst(bench, counts, { jobs, leadMs, prefix: 'burst' })

    const start = new Date(Math.ceil(((await store.now()).getTime() + 2000) / 1000) * 1000)
    await scheduler.addJobs(Array.from({ length: ticking }, (_, i) => ({
      id: `tick-${i}`, task: 'tick', trigger: { type: 'interval', seconds: 1, startDate: start.toISOString() }
    })))
    await sleep(start.getTime() + 5000 - Date.now())
    const deleteStarted = Date.now()
    const deleted = await scheduler.deleteOldExecutions(((days - 1) * DAY_MS) / 1000)
    const deleteEnded = Date.now()
    await sleep(1500) // the ticks due during the delete have started by now
    const before = ticks.filter((t) => t.runTime >= start.getTime() && t.runTime < deleteStarted).map((t) => t.lag)
    const during = ticks.filter((t) => t.runTime >= deleteStarted && t.runTime <= deleteEnded).map((t) => t.lag)
    return {
      rows,
      executionsPerSecond: burst.executionsPerSecond,
      lagMs: burst.lagMs,
      exactlyOnce: burst.exactlyOnce,
      deleteSeconds: (deleteEnded - deleteStarted) / 1000,
      deletedRows: deleted,
      tickLagBeforeMs: lagSummary(before),
      tickLagDuringMs: lagSummary(during),
      note: `${burst.note}; deleteOldExecutions removed ${deleted} rows in ${((deleteEnded - deleteStarted) / 1000).toFixed(2)} s; ` +
        `${during.length} ticks due during it (${ticking}/s)`
    }
  } finally {
    await bench.close()
  }
}
