/**
 * `three-processes.test.ts` on MariaDB: three real OS processes run the scheduler on one MariaDB
 * database (MikroORM's MariaDB driver), with the `GET_LOCK` leader lock (`advisory`) and with
 * `lock: 'none'` (all three plan and race for every occurrence, so only the claim protocol and the
 * occurrence key stand between them and duplicates). The evidence is the handlers' own effect
 * ledger, outside the database: no occurrence ran twice, every row that says it ran did run once,
 * one execution per second and job (not one per process); with `none` more than one process did
 * work, with `advisory` the ledger is runs of one pid each, each following a leadership handover.
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Effect, ExecutionRowLike } from '../helpers/effect-ledger.js'
import { assertEffects, effectsOf, ledgerEnv } from '../helpers/effects.js'
import { freshMariadbDatabase, mariadbQuery } from '../helpers/mariadb.js'
import { pollUntil, startProcess, stopProcess, tail, type Worker } from './processes.js'

const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))
const JOBS = ['interval-1s', 'cron-1s']
const OCCURRENCES = 8

/** Maximal runs of consecutive effects (by start time) made by one pid. */
function segments (effects: Effect[]): Array<{ pid: number, first: number, last: number, effects: number }> {
  const runs: Array<{ pid: number, first: number, last: number, effects: number }> = []
  for (const effect of effects) {
    const current = runs.at(-1)
    if (current?.pid === effect.pid) {
      current.last = effect.at
      current.effects++
    } else {
      runs.push({ pid: effect.pid, first: effect.at, last: effect.at, effects: 1 })
    }
  }
  return runs
}

for (const lock of ['advisory', 'none'] as const) {
  t.test(`3 processes on MariaDB, lock: '${lock}': every occurrence runs exactly once`, async (t) => {
    const url = await freshMariadbDatabase(t, `cluster_${lock}`)
    const workers: Worker[] = [1, 2, 3].map((n) => startProcess(t, `worker ${n}`, [...process.execArgv, WORKER], {
      ...process.env, ...ledgerEnv(t), DATABASE_URL: url, SCHEDULER_LOCK: lock
    }))
    await Promise.all(workers.map(async (worker) => pollUntil(`${worker.name} ready`, async () => {
      if (worker.child.exitCode !== null) throw new Error(`${worker.name} exited with ${worker.child.exitCode}:\n${tail(worker)}`)
      return worker.reports.some((report) => report.event === 'ready')
    }, 60_000)))
    const firstReadyAt = Math.min(...workers.map((worker) => Number(worker.reports.find((report) => report.event === 'ready')?.at)))

    await pollUntil(`${OCCURRENCES} finished executions of each job`, async () => {
      const rows = await mariadbQuery<{ job_id: string, n: number }>(url,
        "SELECT job_id, count(*) AS n FROM scheduler_job_execution WHERE status <> 'running' GROUP BY job_id")
      const counts = new Map(rows.map((row) => [row.job_id, Number(row.n)]))
      return JOBS.every((job) => (counts.get(job) ?? 0) >= OCCURRENCES)
    }, 60_000)

    const exits = await Promise.all(workers.map(async (worker) => stopProcess(worker, 'SIGTERM')))
    const stoppedAt = Date.now()
    for (const [i, exit] of exits.entries()) {
      t.same(exit, { code: 0, signal: null }, `worker ${i + 1} shut down cleanly`, { output: tail(workers[i] as Worker) })
    }
    const statuses = await mariadbQuery<{ status: string }>(url, 'SELECT DISTINCT status FROM scheduler_job_execution')
    t.same(statuses.map((row) => row.status), ['success'], 'every execution succeeded (none left running, none missed)')
    for (const job of JOBS) {
      const rows = await mariadbQuery<{ run_time: Date }>(url, 'SELECT run_time FROM scheduler_job_execution WHERE job_id = ? ORDER BY run_time', [job])
      const gaps = rows.slice(1).map((row, i) => row.run_time.getTime() - (rows[i] as { run_time: Date }).run_time.getTime())
      t.same([...new Set(gaps)], [1000], `${job}: consecutive run times are exactly 1000 ms apart`, { gaps })
      const elapsedSeconds = (stoppedAt - firstReadyAt) / 1000
      t.ok(rows.length <= elapsedSeconds + 2, `${job}: ${rows.length} executions in ${elapsedSeconds.toFixed(1)} s: one per second, not one per process`)
    }
    const reported = workers.flatMap((worker) => worker.reports.filter((report) => report.event === 'executed'))
    const [total] = await mariadbQuery<{ n: number }>(url, 'SELECT count(*) AS n FROM scheduler_job_execution')
    t.equal(reported.length, Number(total?.n), 'the processes together reported each execution once')

    // The ledger: real handler invocations, counted outside the execution table.
    const rows = await mariadbQuery<ExecutionRowLike>(url, 'SELECT job_id, run_time, status, attempt FROM scheduler_job_execution')
    await assertEffects(t, { rows }, 2 * OCCURRENCES)
    const effects = effectsOf(t)
    const pids = workers.map((worker) => worker.child.pid as number)
    const perPid = pids.map((pid) => effects.filter((effect) => effect.pid === pid).length)
    t.comment(`effects per process (pid=count): ${pids.map((pid, i) => `${pid}=${perPid[i]}`).join(', ')}`)
    const runs = segments(effects)
    if (lock === 'none') {
      t.ok(perPid.filter((n) => n > 0).length > 1, `more than one process ran handlers (${perPid.join(', ')})`)
    } else {
      const acquisitions = (pid: number): number[] => workers.find((worker) => worker.child.pid === pid)?.reports
        .filter((report) => report.event === 'leader').map((report) => Number(report.at)) ?? []
      const unexplained: string[] = []
      for (const [i, run] of runs.entries()) {
        const previous = runs[i - 1]
        const acquired = acquisitions(run.pid).filter((at) => at <= run.first).at(-1)
        if (acquired === undefined) unexplained.push(`${run.pid} ran ${run.effects} handlers from ${run.first} without having announced leadership`)
        else if (previous !== undefined && acquired < previous.last) unexplained.push(`${run.pid} (leader since ${acquired}) ran from ${run.first} while ${previous.pid} ran until ${previous.last}`)
      }
      t.same(unexplained, [], `one leader at a time: the ${runs.length} runs of one pid each follow a leadership handover`)
    }
  })
}
