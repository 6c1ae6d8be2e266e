/**
 * scale-out: executions/s as worker processes are added on one database. This process only adds
 * jobs and watches the execution table (a Scheduler with `execute: false, plan: false`: a web
 * process next to workers); the handlers run in `processes` worker processes (cluster.mjs), each
 * a Scheduler with maxConcurrency 10 (the default). Worker 1 starts first and leads throughout; for
 * each count in `processes` (ascending) workers are added until that many run, then `jobs` date
 * jobs `p<count>-<i>` fall due at one instant T and their handler awaits `handlerMs` (I/O-bound).
 * executions/s = jobs / (the last `success` row's finished_at − T). Exactly-once per phase: one
 * execution row, `success`, and one handler call per job.
 */
import { SCHEDULER_OPTIONS, countOutcomes, openScheduler } from './harness.mjs'
import { forkWorker, killWorkers, stopWorker } from './cluster.mjs'
import { lagSummary, sleep } from '../stats.mjs'

/** Options of every worker: the bench's batch size, maxConcurrency back to the library default. */
export const WORKER_OPTIONS = { ...SCHEDULER_OPTIONS, maxConcurrency: Number(process.env.BENCH_WORKER_CONCURRENCY ?? 10) }

/**
 * Forks `count` workers at once (their modules load in parallel), then starts the first alone and
 * waits until it leads, so the plan step stays on one process; the others are left loaded, not started.
 */
export async function forkWorkers (url, config, count) {
  const workers = await Promise.all(Array.from({ length: count }, () => forkWorker(url, config)))
  const first = workers[0]
  await first.start()
  const deadline = Date.now() + 30_000
  while (!(await first.request('status')).isLeader) {
    if (Date.now() > deadline) throw new Error('the first worker did not take the leader lock within 30 s')
    await sleep(50)
  }
  return workers
}

/** A Scheduler that only writes (adds jobs, NOTIFYs the leader); it installs the schema. */
export async function openCoordinator (url, tasks) {
  const bench = await openScheduler(url, { execute: false, plan: false })
  for (const task of tasks) bench.scheduler.registerTask(task, () => {})
  countOutcomes(bench.scheduler)
  await bench.scheduler.start()
  return bench
}

/** Polls the execution table until `jobs` executions of `prefix-*` are finished (any status but queued/running). */
export async function untilFinished (bench, prefix, jobs, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const [{ done }] = await bench.query(
      "SELECT count(*)::int AS done FROM scheduler_job_execution WHERE job_id LIKE $1 AND status NOT IN ('queued', 'running')", [`${prefix}-%`])
    if (done >= jobs) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${jobs} executions of ${prefix}-* (${done} finished)`)
    await sleep(50)
  }
}

export async function scaleOut (url, { jobs, handlerMs, processes, leadMs = 500 + jobs }) {
  const counts = [...processes].sort((a, b) => a - b)
  const bench = await openCoordinator(url, ['io'])
  const config = { options: WORKER_OPTIONS, tasks: { io: handlerMs } }
  const workers = []
  try {
    workers.push(...await forkWorkers(url, config, counts[counts.length - 1]))
    let started = 1
    const phases = []
    for (const count of counts) {
      await Promise.all(workers.slice(started, count).map((w) => w.start()))
      started = Math.max(started, count)
      const prefix = `p${count}`
      const due = new Date((await bench.store.now()).getTime() + leadMs)
      const addStarted = Date.now()
      await bench.scheduler.addJobs(Array.from({ length: jobs }, (_, i) => ({
        id: `${prefix}-${i}`, task: 'io', trigger: { type: 'date', runDate: due.toISOString() }
      })))
      const addSeconds = (Date.now() - addStarted) / 1000
      if (Date.now() >= due.getTime()) throw new Error(`adding ${jobs} jobs took ${addSeconds} s, past the due instant`)
      await untilFinished(bench, prefix, jobs, 300_000 + jobs * handlerMs)
      const [rows] = await bench.query(
        `SELECT count(*)::int AS rows, count(DISTINCT (job_id, run_time))::int AS occurrences,
                count(*) FILTER (WHERE status = 'success')::int AS success,
                extract(epoch FROM max(finished_at) FILTER (WHERE status = 'success')) * 1000 AS last_finished
         FROM scheduler_job_execution WHERE job_id LIKE $1`, [`${prefix}-%`])
      phases.push({ count, prefix, due: due.getTime(), rows, seconds: (Number(rows.last_finished) - due.getTime()) / 1000 })
    }
    const results = []
    for (const w of workers) results.push(await stopWorker(w))
    workers.length = 0
    const executionsPerSecond = {}
    const notes = []
    let exactlyOnce = true
    let lagMs = null
    for (const phase of phases) {
      const perWorker = results.map((r) => r.calls.filter(([task, runTime]) => task === 'io' && runTime === phase.due).map(([, , lag]) => lag))
      const calls = perWorker.reduce((sum, lags) => sum + lags.length, 0)
      const ok = phase.rows.rows === jobs && phase.rows.occurrences === jobs && phase.rows.success === jobs && calls === jobs
      exactlyOnce &&= ok
      executionsPerSecond[phase.count] = jobs / phase.seconds
      if (phase.count === counts[counts.length - 1]) lagMs = lagSummary(perWorker.flat())
      notes.push(`${phase.count} process(es): ${phase.rows.success}/${jobs} success rows, ${calls} handler calls ` +
        `(per process ${perWorker.slice(0, phase.count).map((l) => l.length).join('/')}), ${phase.seconds.toFixed(2)} s`)
    }
    const maxConcurrency = WORKER_OPTIONS.maxConcurrency
    const peaks = results.map((r) => r.peak)
    const peak = Math.max(...peaks)
    if (peak > maxConcurrency) notes.push(`maxConcurrency ${maxConcurrency} EXCEEDED: most handlers at once per process ${peaks.join('/')}`)
    const first = executionsPerSecond[counts[0]]
    const last = executionsPerSecond[counts[counts.length - 1]]
    return {
      jobs,
      processes: counts,
      executionsPerSecond,
      ratio: last / first,
      lagMs,
      peakHandlers: peak,
      exactlyOnce,
      note: notes.join('; ')
    }
  } finally {
    killWorkers(workers)
    await bench.close()
  }
}
