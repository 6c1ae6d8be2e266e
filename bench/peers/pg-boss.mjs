/**
 * pg-boss on the scenario's database (its own `pgboss` schema): one-off jobs with `startAfter`,
 * a batch worker (`work` with `batchSize`), completed jobs kept in its job table as the history.
 * Its `schedule()` evaluates cron expressions once a minute, so the steady row does not apply.
 */
import { PgBoss } from 'pg-boss'
import { burstResult, dueInstant, harnessPool, timeAdds, waitForHandlers, whenCommitted } from './common.mjs'

export const VARIANTS = {
  default: {
    settings: 'pool max 10; work({ batchSize: 1000 }) (same batch size as ours); otherwise documented defaults: localConcurrency 1, pollingIntervalSeconds 2, completed jobs kept 7 days',
    trades: 'nothing: the documented defaults',
    work: { batchSize: 1000 }
  },
  best: {
    settings: 'pool max 10; work({ batchSize: 1000, localConcurrency: 4, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }) (the docs\' burst mode with several fetch loops, at the minimum poll)',
    trades: 'an idle poll every 0.5 s per fetch loop (4 loops) on the database; history and crash safety kept',
    work: { batchSize: 1000, localConcurrency: 4, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }
  }
}

export const NOT_APPLICABLE = {
  steady: 'n/a: schedule() fires at most once a minute (cron, minute granularity)'
}

async function open (url) {
  const boss = new PgBoss({ connectionString: url, max: 10 })
  boss.on('error', (error) => process.stderr.write(`bench: pg-boss error: ${error.message}\n`))
  await boss.start()
  return boss
}

export async function burst (url, { jobs, leadMs }, variant) {
  const boss = await open(url)
  const pool = harnessPool(url)
  try {
    await boss.createQueue('burst')
    const due = dueInstant(leadMs)
    const addStarted = Date.now()
    for (let offset = 0; offset < jobs; offset += 1000) {
      await boss.insert('burst', Array.from({ length: Math.min(1000, jobs - offset) }, (_, i) => ({
        data: { i: offset + i, due: due.getTime() }, startAfter: due
      })))
    }
    const addSeconds = (Date.now() - addStarted) / 1000
    if (Date.now() >= due.getTime()) throw new Error(`adding ${jobs} jobs took ${addSeconds} s, past the due instant`)
    const lags = []
    await boss.work('burst', VARIANTS[variant].work, async (batch) => {
      for (const job of batch) lags.push(Date.now() - job.data.due)
    })
    await waitForHandlers(lags, jobs)
    const lastRecordedAt = await whenCommitted(pool,
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'burst' AND state = 'completed'", jobs, 120_000)
    return burstResult({ jobs, due, lastRecordedAt, lags, note: `${lags.length} handler calls, ${jobs} completed jobs kept; adds took ${addSeconds.toFixed(2)} s` })
  } finally {
    await pool.end()
    await boss.stop({ graceful: true, timeout: 10_000 })
  }
}

export async function adds (url, sizes) {
  const boss = await open(url)
  try {
    await boss.createQueue('adds')
    const startAfter = new Date(Date.now() + 86_400_000)
    return await timeAdds(sizes,
      (i) => boss.send('adds', { i }, { startAfter }),
      (offset, n) => boss.insert('adds', Array.from({ length: n }, (_, i) => ({ data: { i: offset + i }, startAfter }))))
  } finally {
    await boss.stop({ graceful: true, timeout: 10_000 })
  }
}
