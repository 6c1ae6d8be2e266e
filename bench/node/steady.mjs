/**
 * steady: N interval jobs at 1 s, all starting at one instant T0, for S seconds. Lag = handler
 * start − ctx.runTime over the occurrences scheduled in [T0, T0 + S). CPU and peak RSS are this
 * process's over the same window.
 */
import { countOutcomes, openScheduler } from './harness.mjs'
import { lagSummary, processWindow, sleep } from '../stats.mjs'

export async function steady (url, { jobs, seconds }) {
  const bench = await openScheduler(url)
  const { scheduler, store } = bench
  try {
    const lags = []
    let windowEnd = Infinity
    scheduler.registerTask('tick', (ctx) => {
      if (ctx.runTime.getTime() < windowEnd) lags.push(Date.now() - ctx.runTime.getTime())
    })
    const counts = countOutcomes(scheduler)
    await scheduler.start()
    const start = new Date(Math.ceil(((await store.now()).getTime() + 2000) / 1000) * 1000)
    windowEnd = start.getTime() + seconds * 1000
    await scheduler.addJobs(Array.from({ length: jobs }, (_, i) => ({
      id: `steady-${i}`, task: 'tick', trigger: { type: 'interval', seconds: 1, startDate: start.toISOString() }
    })))
    await sleep(start.getTime() - Date.now())
    const window = processWindow()
    await sleep(windowEnd - Date.now())
    const { cpuPercent, rssPeakMb } = window()
    await sleep(1000) // let the last second's occurrences start before stopping
    const expected = jobs * seconds
    return {
      jobs,
      seconds,
      lagMs: lagSummary(lags),
      cpuPercent,
      rssPeakMb,
      note: `${lags.length}/${expected} occurrences started in the window, ${counts.failed} failed`
    }
  } finally {
    await bench.close()
  }
}
