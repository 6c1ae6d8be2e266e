/**
 * graphile-worker on the scenario's database (its own `graphile_worker` schema): jobs added with
 * `addJobs` and `runAt`, its runner with a concurrency equal to ours. It deletes a job when it
 * completes, so it keeps no execution history. Its crontab has minute granularity, so the
 * steady row does not apply.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker'
import { burstResult, dueInstant, harnessPool, timeAdds, waitForHandlers, whenCommitted } from './common.mjs'

const CONCURRENCY = 1000 // ours: maxConcurrency 1000

export const VARIANTS = {
  default: {
    settings: `concurrency ${CONCURRENCY} (as ours), maxPoolSize 10 (as ours); otherwise documented defaults: pollInterval 2000 ms, no local queue, completions one by one`,
    trades: 'no history (completed jobs are deleted)',
    options: { concurrency: CONCURRENCY, maxPoolSize: 10 }
  },
  best: {
    settings: `concurrency ${CONCURRENCY}, maxPoolSize 10, pollInterval 500 ms, preset.worker.localQueue.size 1000, completeJobBatchDelay 0 (the docs' batching: local queue + batched completion)`,
    trades: 'no history; up to 1,000 jobs locked in one process\'s local queue; completions batched, so a crash after a handler may run a job again (after its lock expires, 4 h)',
    options: { concurrency: CONCURRENCY, maxPoolSize: 10, pollInterval: 500, preset: { worker: { localQueue: { size: 1000 }, completeJobBatchDelay: 0 } } }
  }
}

export const NOT_APPLICABLE = {
  steady: 'n/a: crontab fires at most once a minute (minute granularity)'
}

const logger = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`bench: graphile-worker: ${message}\n`)
})

export async function burst (url, { jobs, leadMs }, variant) {
  const lags = []
  const runner = await run({
    connectionString: url,
    noHandleSignals: true,
    logger,
    taskList: { burst: async (payload) => { lags.push(Date.now() - payload.due) } },
    ...VARIANTS[variant].options
  })
  const utils = await makeWorkerUtils({ connectionString: url, logger })
  const pool = harnessPool(url)
  try {
    const due = dueInstant(leadMs)
    const addStarted = Date.now()
    for (let offset = 0; offset < jobs; offset += 1000) {
      await utils.addJobs(Array.from({ length: Math.min(1000, jobs - offset) }, (_, i) => ({
        identifier: 'burst', payload: { i: offset + i, due: due.getTime() }, runAt: due
      })))
    }
    const addSeconds = (Date.now() - addStarted) / 1000
    if (Date.now() >= due.getTime()) throw new Error(`adding ${jobs} jobs took ${addSeconds} s, past the due instant`)
    await waitForHandlers(lags, jobs)
    // A completed job is deleted: the last execution is recorded when the table is empty.
    const lastRecordedAt = await whenCommitted(pool,
      `SELECT (${jobs} - count(*))::int AS n FROM graphile_worker._private_jobs`, jobs, 120_000)
    return burstResult({ jobs, due, lastRecordedAt, lags, note: `${lags.length} handler calls; no history kept; adds took ${addSeconds.toFixed(2)} s` })
  } finally {
    await pool.end()
    await utils.release()
    await runner.stop()
  }
}

export async function adds (url, sizes) {
  const utils = await makeWorkerUtils({ connectionString: url, logger })
  try {
    await utils.migrate()
    const runAt = new Date(Date.now() + 86_400_000)
    return await timeAdds(sizes,
      (i) => utils.addJob('adds', { i }, { runAt }),
      (offset, n) => utils.addJobs(Array.from({ length: n }, (_, i) => ({ identifier: 'adds', payload: { i: offset + i }, runAt }))))
  } finally {
    await utils.release()
  }
}
