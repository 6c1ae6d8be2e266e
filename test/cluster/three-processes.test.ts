/**
 * Three real OS processes run the scheduler on one database, as under `gunicorn -w 3`, PM2 or
 * `node:cluster`: every occurrence of a job must run exactly once, and an interval job must run
 * once per interval, not once per process. Once per server database (`SERVER_DATABASES`:
 * PostgreSQL, and MariaDB through MikroORM's MariaDB driver).
 *
 * Run with the leader lock (`advisory`: PostgreSQL's session advisory lock, `GET_LOCK` on MariaDB;
 * one process loops, the others stand by) and with `lock: 'none'` (all three loop and race for
 * every occurrence), where only the claim protocol and the database's unique occurrence key stand
 * between them and duplicates.
 *
 * The evidence is the handlers' own: each invocation appends (job, run time, pid, start time) to
 * an effect ledger outside the database (test/helpers/effect-ledger.ts). From it: no occurrence
 * ran twice, every row that says it ran did run once; with `lock: 'none'` more than one process did
 * work; with `advisory` the processes' work does not interleave: ordered by start time, the
 * ledger is runs of one pid each, and each change of pid is a handover (the new pid announced
 * leadership after the old pid's last effect and before its own first one).
 */
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Effect } from '../helpers/effect-ledger.js'
import { assertEffectsIn, effectsOf, ledgerEnv } from '../helpers/effects.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { pollUntil, startProcess, stopProcess, tail, type Worker } from './processes.js'

const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))
const JOBS = ['interval-1s', 'cron-1s']
const OCCURRENCES = 8

// Four runs of three processes each (two servers, two lock modes), serially, on a shared 2-core machine.
t.setTimeout(10 * 60_000)
/** The error code of a unique-key violation, by server (PostgreSQL's SQLSTATE, mysql2's code). */
const DUPLICATE_KEY = { postgresql: '23505', mariadb: 'ER_DUP_ENTRY' }

/** Maximal runs of consecutive effects (by start time) made by one pid. */
interface Segment { pid: number, first: number, last: number, effects: number }
function segments (effects: Effect[]): Segment[] {
  const runs: Segment[] = []
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

for (const db of SERVER_DATABASES) {
  for (const lock of ['advisory', 'none'] as const) {
    t.test(`3 processes on ${db.name}, lock: '${lock}': every occurrence runs exactly once`, async (t) => {
      const url = await db.fresh(t, `cluster_${lock}`)
      // The worker is TypeScript importing src/: run it with the loader tap runs this file with.
      const workers: Worker[] = [1, 2, 3].map((n) => startProcess(t, `worker ${n}`, [...process.execArgv, WORKER], {
        ...process.env, ...ledgerEnv(t), DATABASE_URL: url, SCHEDULER_LOCK: lock
      }))

      await Promise.all(workers.map(async (worker) => pollUntil(`${worker.name} ready`, async () => {
        if (worker.child.exitCode !== null) throw new Error(`${worker.name} exited with ${worker.child.exitCode}:\n${tail(worker)}`)
        return worker.reports.some((report) => report.event === 'ready')
      }, 180_000)))

      // The jobs are stored while the first process starts, so nothing can fire before its `ready`.
      const firstReadyAt = Math.min(...workers.map((worker) => Number(worker.reports.find((report) => report.event === 'ready')?.at)))

      const counts = async (): Promise<Map<string, number>> => {
        const rows = await db.query<{ job_id: string, n: number | string }>(url,
          "select job_id, count(*) as n from scheduler_job_execution where status <> 'running' group by job_id")
        return new Map(rows.map((row) => [row.job_id, Number(row.n)]))
      }
      await pollUntil(`${OCCURRENCES} finished executions of each job`, async () => {
        const current = await counts()
        return JOBS.every((job) => (current.get(job) ?? 0) >= OCCURRENCES)
      }, 60_000)

      const exits = await Promise.all(workers.map(async (worker) => stopProcess(worker, 'SIGTERM')))
      const stoppedAt = Date.now()
      for (const [i, exit] of exits.entries()) {
        t.same(exit, { code: 0, signal: null }, `worker ${i + 1} shut down cleanly`, { output: tail(workers[i] as Worker) })
      }

      const duplicates = await db.query(url, `select job_id, run_time, count(*) as n from scheduler_job_execution
        group by job_id, run_time having count(*) > 1`)
      t.same(duplicates, [], 'no (job_id, run_time) has more than one execution')

      const statuses = await db.query<{ status: string, n: number | string }>(url, 'select status, count(*) as n from scheduler_job_execution group by status')
      t.same(statuses.map((row) => row.status), ['success'], 'every execution succeeded (none left running, none missed)', { statuses })

      for (const job of JOBS) {
        const rows = await db.query<{ run_time: Date }>(url, 'select run_time from scheduler_job_execution where job_id = ? order by run_time', [job])
        const gaps = rows.slice(1).map((row, i) => row.run_time.getTime() - (rows[i] as { run_time: Date }).run_time.getTime())
        t.ok(rows.length >= OCCURRENCES, `${job}: ${rows.length} executions`)
        t.same([...new Set(gaps)], [1000], `${job}: consecutive run times are exactly 1000 ms apart`, { gaps })
        const elapsedSeconds = (stoppedAt - firstReadyAt) / 1000
        t.ok(rows.length <= elapsedSeconds + 2, `${job}: ${rows.length} executions in ${elapsedSeconds.toFixed(1)} s since the first process was ready: one per second, not one per process`)
      }

      const reported = workers.flatMap((worker) => worker.reports.filter((report) => report.event === 'executed'))
      const [total] = await db.query<{ n: number | string }>(url, 'select count(*) as n from scheduler_job_execution')
      t.equal(reported.length, Number(total?.n), 'the processes together reported each execution once')

      const owners = await db.query<{ owner: string, n: number | string }>(url, 'select owner, count(*) as n from scheduler_job_execution group by owner order by owner')
      t.comment(`executions per process: ${owners.map((row) => `${row.owner}=${row.n}`).join(', ')}`)

      // The ledger: real handler invocations, counted outside the execution table.
      await assertEffectsIn(t, db, url, 2 * OCCURRENCES)
      const effects = effectsOf(t)
      const pids = workers.map((worker) => worker.child.pid as number)
      t.ok(effects.every((effect) => pids.includes(effect.pid)), 'every effect was made by one of the three processes')
      const perPid = pids.map((pid) => effects.filter((effect) => effect.pid === pid).length)
      t.comment(`effects per process (pid=count): ${pids.map((pid, i) => `${pid}=${perPid[i]}`).join(', ')}`)
      const runs = segments(effects)
      t.comment(`ledger by start time, runs of one pid: ${runs.map((run) => `${run.pid}×${run.effects}`).join(' → ')}`)
      if (lock === 'none') {
        t.ok(perPid.filter((n) => n > 0).length > 1, `more than one process ran handlers (${perPid.join(', ')})`)
      } else {
        const leaders = workers.filter((worker) => worker.reports.some((report) => report.event === 'leader'))
        t.ok(leaders.length >= 1, `leadership was taken (by ${leaders.map((worker) => worker.name).join(', ')})`)
        const acquisitions = (pid: number): number[] => workers.find((worker) => worker.child.pid === pid)?.reports
          .filter((report) => report.event === 'leader').map((report) => Number(report.at)) ?? []
        const unexplained: string[] = []
        for (const [i, run] of runs.entries()) {
          const previous = runs[i - 1]
          // The run's pid announced leadership before its first effect, and after the previous pid's last one.
          const acquired = acquisitions(run.pid).filter((at) => at <= run.first).at(-1)
          if (acquired === undefined) unexplained.push(`${run.pid} ran ${run.effects} handlers from ${run.first} without having announced leadership`)
          else if (previous !== undefined && acquired < previous.last) {
            unexplained.push(`${run.pid} (leader since ${acquired}) ran from ${run.first} while ${previous.pid} ran until ${previous.last}`)
          }
        }
        t.same(unexplained, [], `one leader at a time: the ${runs.length} runs of one pid each follow a leadership handover, and no two overlap`)
        const handovers = workers.reduce((n, worker) => n + worker.reports.filter((report) => report.event === 'leader').length, 0) - 1
        t.ok(runs.length - 1 <= handovers, `${runs.length - 1} changes of pid in the ledger, ${handovers} leadership handovers`)
      }

      // The database itself refuses a second execution of one occurrence.
      const [first] = await db.query<{ job_id: string, run_time: Date }>(url, 'select job_id, run_time from scheduler_job_execution limit 1')
      await t.rejects(db.query(url, "insert into scheduler_job_execution (job_id, run_time, status) values (?, ?, 'running')", [first?.job_id, first?.run_time]),
        { code: DUPLICATE_KEY[db.name] }, 'the unique occurrence key rejects a duplicate insert')
    })
  }
}
