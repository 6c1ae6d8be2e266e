/**
 * isolation: a short job keeps its schedule while long ones occupy a process. `processes` worker
 * processes (cluster.mjs; maxConcurrency 10 each, worker 1 leads) run `jobs` date jobs due
 * together at T whose handler awaits `longSeconds` (more than the leader's slots can hold), and one
 * interval job at 1 s starting at T + 500 ms (the heartbeat: by then the long jobs fill the
 * leader's slots, so it has to run elsewhere). Lag = heartbeat handler start (the worker's clock)
 * − ctx.runTime, over the occurrences scheduled while the long jobs run, [T, T + longSeconds).
 * Exactly-once: one `success` row per long job, one long handler call each, and no heartbeat
 * occurrence in the window recorded or called twice.
 */
import { killWorkers, stopWorker } from './cluster.mjs'
import { forkWorkers, openCoordinator, untilFinished, WORKER_OPTIONS } from './scale-out.mjs'
import { lagSummary, sleep } from '../stats.mjs'

export async function isolation (url, { jobs, longSeconds, processes }) {
  const bench = await openCoordinator(url, ['long', 'heartbeat'])
  const config = { options: WORKER_OPTIONS, tasks: { long: longSeconds * 1000, heartbeat: 0 } }
  const workers = []
  try {
    workers.push(...await forkWorkers(url, config, processes))
    await Promise.all(workers.slice(1).map((w) => w.start()))
    const start = new Date(Math.ceil(((await bench.store.now()).getTime() + 1500) / 1000) * 1000)
    const windowEnd = start.getTime() + longSeconds * 1000
    await bench.scheduler.addJobs([
      { id: 'heartbeat-0', task: 'heartbeat', trigger: { type: 'interval', seconds: 1, startDate: new Date(start.getTime() + 500).toISOString() } },
      ...Array.from({ length: jobs }, (_, i) => ({ id: `long-${i}`, task: 'long', trigger: { type: 'date', runDate: start.toISOString() } }))
    ])
    if (Date.now() >= start.getTime()) throw new Error('adding the jobs took past the start instant')
    await untilFinished(bench, 'long', jobs, 120_000 + longSeconds * 2000)
    await sleep(Math.max(0, windowEnd + 500 - Date.now())) // the window's last heartbeat has started
    const results = []
    for (const w of workers) results.push(await stopWorker(w))
    workers.length = 0

    const inWindow = (runTime) => runTime >= start.getTime() && runTime < windowEnd
    const beats = results.map((r) => r.calls.filter(([task, runTime]) => task === 'heartbeat' && inWindow(runTime)))
    const longCalls = results.map((r) => r.calls.filter(([task]) => task === 'long'))
    const [long] = await bench.query(
      `SELECT count(*)::int AS rows, count(DISTINCT job_id)::int AS jobs, count(*) FILTER (WHERE status = 'success')::int AS success,
              extract(epoch FROM min(started_at)) * 1000 AS first_started, extract(epoch FROM max(started_at)) * 1000 AS last_started
       FROM scheduler_job_execution WHERE job_id LIKE 'long-%'`)
    const [beat] = await bench.query(
      `SELECT count(*)::int AS rows, count(DISTINCT run_time)::int AS occurrences
       FROM scheduler_job_execution WHERE job_id = 'heartbeat-0' AND run_time >= $1 AND run_time < $2`, [start, new Date(windowEnd)])
    const beatRunTimes = beats.flat().map(([, runTime]) => runTime)
    const exactlyOnce = long.rows === jobs && long.jobs === jobs && long.success === jobs &&
      longCalls.flat().length === jobs && beat.rows === beat.occurrences && new Set(beatRunTimes).size === beatRunTimes.length
    const lags = beats.flat().map(([, , lag]) => lag)
    const peaks = results.map((r) => r.peak)
    const over = Math.max(...peaks) > WORKER_OPTIONS.maxConcurrency
    return {
      jobs,
      longSeconds,
      processes,
      lagMs: lagSummary(lags),
      expectedBeats: longSeconds,
      longSuccess: long.success,
      longStartSpreadMs: Number(long.last_started) - Number(long.first_started),
      peakHandlers: Math.max(...peaks),
      exactlyOnce,
      note: `${long.success}/${jobs} long jobs succeeded (per process ${longCalls.map((c) => c.length).join('/')}, ` +
        `started within ${(Number(long.last_started) - Number(long.first_started)).toFixed(0)} ms of each other); ` +
        `${lags.length}/${longSeconds} heartbeats in the window (per process ${beats.map((b) => b.length).join('/')}), ${beat.rows} rows; ` +
        `most handlers at once per process ${peaks.join('/')}${over ? ` (maxConcurrency ${WORKER_OPTIONS.maxConcurrency} EXCEEDED)` : ''}`
    }
  } finally {
    killWorkers(workers)
    await bench.close()
  }
}
