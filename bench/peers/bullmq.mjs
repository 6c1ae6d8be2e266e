/**
 * BullMQ on the machine's Redis (REDIS_URL, default redis://127.0.0.1:6379): delayed jobs for
 * the burst, job schedulers with `every: 1000` for the steady row, completed jobs kept as the
 * history. Every scenario uses a fresh key prefix and obliterates its queue afterwards.
 * Its CPU and RSS figures are this process's only: Redis's own work is not counted (as
 * PostgreSQL's is not for the others).
 */
import { randomBytes } from 'node:crypto'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { lagSummary, processWindow, sleep, until } from '../stats.mjs'
import { burstResult, dueInstant, timeAdds } from './common.mjs'

const CONCURRENCY = 1000 // ours: maxConcurrency 1000
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
// BullMQ 6 under ESM takes a constructed client; each Queue/Worker gets its own.
const client = () => new Redis({ host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null })

export const VARIANTS = {
  default: {
    settings: `Worker concurrency ${CONCURRENCY} (as ours); otherwise documented defaults: completed jobs kept (removeOnComplete unset), stalled-job checks and lock renewal on`,
    trades: 'nothing: the documented defaults; durability is Redis\'s (default snapshotting, no AOF), not a database\'s',
    worker: { concurrency: CONCURRENCY }
  },
  best: {
    settings: `Worker concurrency ${CONCURRENCY}, removeOnComplete: true (the docs' advice for throughput: no completed-job bookkeeping)`,
    trades: 'no history (completed jobs are removed); durability is Redis\'s',
    worker: { concurrency: CONCURRENCY, removeOnComplete: { count: 0 } }
  }
}

/** Scheduled time of a BullMQ job: a scheduler job's own slot, else creation time + delay. */
const scheduledAt = (job) => job.opts.prevMillis ?? job.timestamp + (job.opts.delay ?? 0)

async function withQueue (name, fn) {
  const prefix = `fmsbench-${randomBytes(4).toString('hex')}`
  const queue = new Queue(name, { connection: client(), prefix })
  await queue.waitUntilReady()
  try {
    return await fn(queue, prefix)
  } finally {
    await queue.obliterate({ force: true }).catch(() => {})
    await queue.close()
  }
}

export async function burst (url, { jobs, leadMs }, variant) {
  return withQueue('burst', async (queue, prefix) => {
    const lags = []
    const done = { completed: 0, failed: 0, last: 0 }
    const worker = new Worker('burst', async (job) => { lags.push(Date.now() - scheduledAt(job)) }, { connection: client(), prefix, ...VARIANTS[variant].worker })
    worker.on('completed', () => { done.completed++; done.last = Date.now() })
    worker.on('failed', () => { done.failed++ })
    worker.on('error', (error) => process.stderr.write(`bench: bullmq worker error: ${error.message}\n`))
    try {
      await worker.waitUntilReady()
      const due = dueInstant(leadMs)
      const addStarted = Date.now()
      for (let offset = 0; offset < jobs; offset += 1000) {
        const delay = due.getTime() - Date.now()
        await queue.addBulk(Array.from({ length: Math.min(1000, jobs - offset) }, (_, i) => ({ name: 'burst', data: { i: offset + i }, opts: { delay } })))
      }
      const addSeconds = (Date.now() - addStarted) / 1000
      if (Date.now() >= due.getTime()) throw new Error(`adding ${jobs} jobs took ${addSeconds} s, past the due instant`)
      await until(() => done.completed + done.failed >= jobs, 300_000, `${jobs} completions`, 2)
      if (done.failed > 0) throw new Error(`${done.failed} jobs failed`)
      return burstResult({ jobs, due, lastRecordedAt: done.last, lags, note: `${lags.length} handler calls, ${done.completed} completions; adds took ${addSeconds.toFixed(2)} s` })
    } finally {
      await worker.close()
    }
  })
}

export async function steady (url, { jobs, seconds }, variant) {
  return withQueue('steady', async (queue, prefix) => {
    const lags = []
    let windowStart = Infinity
    let windowEnd = Infinity
    let failed = 0
    const worker = new Worker('steady', async (job) => {
      const at = scheduledAt(job)
      if (at >= windowStart && at < windowEnd) lags.push(Date.now() - at)
    }, { connection: client(), prefix, ...VARIANTS[variant].worker })
    worker.on('failed', () => { failed++ })
    worker.on('error', (error) => process.stderr.write(`bench: bullmq worker error: ${error.message}\n`))
    try {
      await worker.waitUntilReady()
      for (let offset = 0; offset < jobs; offset += 100) {
        await Promise.all(Array.from({ length: Math.min(100, jobs - offset) }, (_, i) =>
          queue.upsertJobScheduler(`steady-${offset + i}`, { every: 1000 }, { name: 'tick', data: {} })))
      }
      // The window opens at a whole second after the schedulers' first (immediate) runs.
      windowStart = dueInstant(2000).getTime()
      windowEnd = windowStart + seconds * 1000
      await sleep(windowStart - Date.now())
      const window = processWindow()
      await sleep(windowEnd - Date.now())
      const { cpuPercent, rssPeakMb } = window()
      await sleep(1000)
      return { jobs, seconds, lagMs: lagSummary(lags), cpuPercent, rssPeakMb, note: `${lags.length}/${jobs * seconds} occurrences started in the window, ${failed} failed` }
    } finally {
      await worker.close()
      for (let offset = 0; offset < jobs; offset += 100) {
        await Promise.all(Array.from({ length: Math.min(100, jobs - offset) }, (_, i) => queue.removeJobScheduler(`steady-${offset + i}`)))
      }
    }
  })
}

export async function adds (url, sizes) {
  return withQueue('adds', async (queue) => {
    const delay = 86_400_000
    return timeAdds(sizes,
      (i) => queue.add('adds', { i }, { delay }),
      (offset, n) => queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'adds', data: { i: offset + i }, opts: { delay } }))))
  })
}
