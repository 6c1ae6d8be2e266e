/**
 * One worker process of the multi-process rows (scale-out, isolation):
 * `node bench/node/worker.mjs <database url> <config json>`, forked with an IPC channel by
 * cluster.mjs. It opens a Scheduler on the shared database with `config.options` (over the bench
 * defaults), registers the tasks of `config.tasks` ({ name: handler milliseconds }, the handler
 * awaits that long) and answers `loaded`; on `start` it starts and answers `ready` (so several
 * workers load their modules in parallel and still join the cluster one phase at a time). Every
 * handler call records its fire lag (handler start by this process's clock − ctx.runTime), and
 * the most handlers running at once is kept (to check maxConcurrency). On
 * `stop` it shuts down and answers `result` with what it recorded, then exits.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { countOutcomes, openScheduler } from './harness.mjs'

const [url, configJson] = process.argv.slice(2)
const config = JSON.parse(configJson)
const bench = await openScheduler(url, config.options)
const { scheduler } = bench
const calls = [] // [task, runTime ms, lag ms]
let inFlight = 0
let peak = 0 // most handlers running at once here (maxConcurrency holds if ≤ it)
for (const [task, ms] of Object.entries(config.tasks)) {
  scheduler.registerTask(task, async (ctx) => {
    const runTime = ctx.runTime.getTime()
    calls.push([task, runTime, Date.now() - runTime])
    peak = Math.max(peak, ++inFlight)
    try {
      if (ms > 0) await delay(ms)
    } finally {
      inFlight--
    }
  })
}
const counts = countOutcomes(scheduler)
process.on('message', async (message) => {
  if (message?.type === 'start') {
    await scheduler.start()
    process.send({ type: 'ready', nodeId: scheduler.status().nodeId, isLeader: scheduler.status().isLeader })
    return
  }
  if (message?.type === 'status') {
    process.send({ type: 'status', isLeader: scheduler.status().isLeader })
    return
  }
  if (message?.type !== 'stop') return
  const status = scheduler.status()
  await bench.close()
  process.send({ type: 'result', nodeId: status.nodeId, isLeader: status.isLeader, calls, peak, executed: counts.executed, failed: counts.failed }, () => process.exit(0))
})
// The coordinator is gone (killed after the bench's timeout, say): do not linger as an orphan.
process.on('disconnect', () => process.exit(1))
process.send({ type: 'loaded' })
