/**
 * adds: `addJob` throughput with the scheduler running (each add also wakes the loop and
 * NOTIFYs), one job per call awaited in turn, then `addJobs` in batches.
 */
import { countOutcomes, openScheduler } from './harness.mjs'

export async function adds (url, { single, batched, batchSize }) {
  const bench = await openScheduler(url)
  const { scheduler, store } = bench
  try {
    scheduler.registerTask('noop', () => {})
    countOutcomes(scheduler)
    await scheduler.start()
    const runDate = new Date((await store.now()).getTime() + 86_400_000).toISOString()
    const job = (id) => ({ id, task: 'noop', trigger: { type: 'date', runDate } })

    let started = performance.now()
    for (let i = 0; i < single; i++) await scheduler.addJob(job(`single-${i}`))
    const singlePerSecond = single / ((performance.now() - started) / 1000)

    started = performance.now()
    for (let offset = 0; offset < batched; offset += batchSize) {
      await scheduler.addJobs(Array.from({ length: Math.min(batchSize, batched - offset) }, (_, i) => job(`batch-${offset + i}`)))
    }
    const batchedPerSecond = batched / ((performance.now() - started) / 1000)
    const [{ n }] = await bench.query('SELECT count(*)::int AS n FROM scheduler_job')
    if (n !== single + batched) throw new Error(`expected ${single + batched} stored jobs, found ${n}`)
    return { single, batched, batchSize, singlePerSecond, batchedPerSecond }
  } finally {
    await bench.close()
  }
}
