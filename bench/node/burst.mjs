/**
 * burst: N `date` jobs due at one instant T (a whole second, after the adds finish), a no-op task,
 * execution logging on. Lag = handler start (process clock) − ctx.runTime; executions/s = N /
 * (time the Nth `success` row was written − T). Exactly-once is checked on the execution table.
 */
import { countOutcomes, openScheduler } from './harness.mjs'
import { lagSummary, until } from '../stats.mjs'

export async function burst (url, { jobs }) {
  const bench = await openScheduler(url)
  const { scheduler, store } = bench
  try {
    const lags = []
    scheduler.registerTask('noop', (ctx) => { lags.push(Date.now() - ctx.runTime.getTime()) })
    const counts = countOutcomes(scheduler)
    await scheduler.start()
    const due = new Date(Math.ceil(((await store.now()).getTime() + 2000) / 1000) * 1000)
    const addStarted = Date.now()
    await scheduler.addJobs(Array.from({ length: jobs }, (_, i) => ({
      id: `burst-${i}`, task: 'noop', trigger: { type: 'date', runDate: due.toISOString() }
    })))
    const addSeconds = (Date.now() - addStarted) / 1000
    if (Date.now() >= due.getTime()) throw new Error(`adding ${jobs} jobs took ${addSeconds}s, past the due instant`)
    await until(() => counts.executed + counts.failed >= jobs, 120_000, `${jobs} executions`)
    const seconds = (counts.lastExecutedAt - due.getTime()) / 1000
    const [rows] = await bench.query(
      `SELECT count(*)::int AS rows, count(DISTINCT (job_id, run_time))::int AS occurrences,
              count(*) FILTER (WHERE status = 'success')::int AS success FROM scheduler_job_execution`)
    const exactlyOnce = rows.rows === jobs && rows.occurrences === jobs && rows.success === jobs && lags.length === jobs
    return {
      jobs,
      executionsPerSecond: jobs / seconds,
      lagMs: lagSummary(lags),
      exactlyOnce,
      note: `${rows.success}/${jobs} success rows, ${lags.length} handler calls; adds took ${addSeconds.toFixed(2)} s`
    }
  } finally {
    await bench.close()
  }
}
