/**
 * `WORKERS=N`: the primary forks N workers that share the port through `node:cluster`, the way
 * `gunicorn -w N` or PM2's cluster mode run a web app. Every worker registers the same jobs; the
 * scheduler's leader lock lets one of them run the loop, and the database's unique key on
 * (job_id, run_time) guarantees one execution per occurrence whatever happens.
 *
 * The primary respawns a worker that dies after it was listening, forwards SIGINT/SIGTERM to the
 * workers and exits once they all have (0 if they all exited cleanly).
 */
import cluster, { type Worker } from 'node:cluster'
import type { Config } from './config.ts'

export function runPrimary (config: Config): void {
  const log = (message: string): void => {
    process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, role: 'primary', msg: message })}\n`)
  }
  // All workers of this deployment agree on the start time (see jobs/welcome.ts).
  const env = { EXAMPLE_STARTED_AT: config.startedAt.toISOString() }
  const listening = new WeakSet<Worker>()
  let stopping = false
  let failed = false

  const fork = (): void => {
    const worker = cluster.fork(env)
    worker.on('listening', () => listening.add(worker))
  }

  cluster.on('exit', (worker, code, signal) => {
    const clean = code === 0 && signal === null
    if (stopping) {
      if (!clean) failed = true
    } else if (listening.has(worker)) {
      log(`worker ${worker.process.pid} died (code ${code}, signal ${signal}); starting a new one`)
      fork()
    } else {
      // Failing before listening (database down, port taken, bad config) would fail again: give up.
      log(`worker ${worker.process.pid} failed to start (code ${code}, signal ${signal}); stopping`)
      failed = true
      stop()
    }
    if (Object.keys(cluster.workers ?? {}).length === 0 && stopping) {
      log(failed ? 'all workers stopped; some failed' : 'all workers stopped')
      process.exit(failed ? 1 : 0)
    }
  })

  const stop = (): void => {
    if (stopping) return
    stopping = true
    log('stopping workers')
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  log(`starting ${config.workers} workers on port ${config.port}`)
  for (let i = 0; i < config.workers; i++) fork()
}
