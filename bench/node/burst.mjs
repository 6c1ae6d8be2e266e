/**
 * burst: N `date` jobs due at one instant T (a whole second, after the adds finish), a no-op task,
 * execution logging on. Lag = handler start (process clock) − ctx.runTime; executions/s = N /
 * (time the Nth `success` row was written − T). Exactly-once is checked on the execution table,
 * with SQL every database of the bench runs (PostgreSQL, MariaDB, SQLite). From T to the Nth
 * outcome it also measures this process's CPU (`nodeCpuMs`: every thread, the garbage collector's
 * helpers included) and the machine's `postgres` processes' (`pgCpuMs`; meaningful on a quiet
 * machine only), for profiling: the table does not print them, `--json` keeps them.
 */
import { countOutcomes, openScheduler } from './harness.mjs'
import { lagSummary, until } from '../stats.mjs'
import { postgresCpuMs } from './cpu.mjs'

export async function burst (url, { jobs, leadMs = 2000 }) {
  const bench = await openScheduler(url)
  try {
    bench.scheduler.registerTask('noop', (ctx) => { bench.lags?.push(Date.now() - ctx.runTime.getTime()) })
    const counts = countOutcomes(bench.scheduler)
    await bench.scheduler.start()
    return await runBurst(bench, counts, { jobs, leadMs, prefix: 'burst' })
  } finally {
    await bench.close()
  }
}

/**
 * Adds `jobs` date jobs `<prefix>-<i>` due together and waits for them on a started scheduler
 * whose `noop` task pushes its lag to `bench.lags`; checks exactly-once on their execution rows.
 */
export async function runBurst (bench, counts, { jobs, leadMs = 2000, prefix }) {
  const { scheduler, store } = bench
  bench.lags = []
  const executedBefore = counts.executed + counts.failed
  const due = new Date(Math.ceil(((await store.now()).getTime() + leadMs) / 1000) * 1000)
  const addStarted = Date.now()
  for (let offset = 0; offset < jobs; offset += 10_000) {
    await scheduler.addJobs(Array.from({ length: Math.min(10_000, jobs - offset) }, (_, i) => ({
      id: `${prefix}-${offset + i}`, task: 'noop', trigger: { type: 'date', runDate: due.toISOString() }
    })))
  }
  const addSeconds = (Date.now() - addStarted) / 1000
  if (Date.now() >= due.getTime()) throw new Error(`adding ${jobs} jobs took ${addSeconds} s, past the due instant`)
  let cpuAtDue = null
  let pgAtDue = null
  const cpuTimer = setTimeout(() => { cpuAtDue = process.cpuUsage(); pgAtDue = postgresCpuMs() }, due.getTime() - Date.now())
  await until(() => counts.executed + counts.failed - executedBefore >= jobs, 300_000, `${jobs} executions`)
  clearTimeout(cpuTimer)
  const cpu = cpuAtDue === null ? null : process.cpuUsage(cpuAtDue)
  const pgCpu = pgAtDue === null ? null : postgresCpuMs() - pgAtDue
  const seconds = (counts.lastExecutedAt - due.getTime()) / 1000
  const rows = await countExecutions(bench, prefix)
  const lags = bench.lags
  const exactlyOnce = rows.rows === jobs && rows.occurrences === jobs && rows.success === jobs && lags.length === jobs
  return {
    jobs,
    executionsPerSecond: jobs / seconds,
    lagMs: lagSummary(lags),
    exactlyOnce,
    nodeCpuMs: cpu === null ? null : Math.round((cpu.user + cpu.system) / 1000),
    pgCpuMs: pgCpu,
    note: `${rows.success}/${jobs} success rows, ${lags.length} handler calls; adds took ${addSeconds.toFixed(2)} s`
  }
}

/**
 * { rows, occurrences (distinct job_id, run_time), success } of the execution rows of jobs
 * `<prefix>-…`, read on the harness's own connection. One statement in SQL that PostgreSQL, MariaDB
 * and SQLite all accept: the prefix is inlined (checked to be `[a-z0-9-]`), since placeholders differ.
 */
async function countExecutions (bench, prefix) {
  if (!/^[a-z0-9-]+$/.test(prefix)) throw new Error(`bench: job id prefix '${prefix}' must be [a-z0-9-]`)
  const where = `FROM scheduler_job_execution WHERE job_id LIKE '${prefix}-%'`
  const [counts] = await bench.query(
    `SELECT count(*) AS total, sum(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS success,
            (SELECT count(*) FROM (SELECT DISTINCT job_id, run_time ${where}) AS d) AS occurrences
     ${where}`)
  return { rows: Number(counts.total), occurrences: Number(counts.occurrences), success: Number(counts.success) }
}
