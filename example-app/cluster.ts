/**
 * `WORKERS=N`: the primary forks N workers that share the port through `node:cluster`, the way
 * `gunicorn -w N` or PM2's cluster mode run a web app, and spreads the jobs' executions over them
 * (README "Deployment", topology b, in one machine):
 * - every worker serves HTTP and runs handlers, with the plugin's `plan: false`: it starts the
 *   queued executions of its tasks (racing the other workers with `FOR UPDATE SKIP LOCKED`) and
 *   never leads;
 * - once they all listen, the primary builds the same app without listening, with `execute: false`:
 *   it takes the leader lock and plans (writes due occurrences as `queued` rows and wakes the
 *   workers with a NOTIFY), and never runs a handler. A leader that executes would start what it
 *   plans itself while it has free slots, so light load would all land on one process.
 * The database's unique key on (job_id, run_time, attempt) still guarantees one execution per
 * occurrence whatever happens.
 *
 * The primary respawns a worker that dies after it was listening; on SIGINT/SIGTERM it stops
 * planning, then forwards SIGTERM to the workers and exits once they all have (0 if they all
 * exited cleanly and the planner closed cleanly).
 */
import cluster, { type Worker } from 'node:cluster'
import type { MikroORM } from '@mikro-orm/core'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.ts'
import type { Config } from './config.ts'
import { openDatabase } from './database.ts'

export function runPrimary (config: Config): void {
  const log = (message: string): void => {
    process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, role: 'primary', msg: message })}\n`)
  }
  // All workers of this deployment agree on the start time (see jobs/welcome.ts).
  const env = { EXAMPLE_STARTED_AT: config.startedAt.toISOString() }
  const listening = new WeakSet<Worker>()
  let listened = 0
  let planner: Promise<{ app: FastifyInstance, orm: MikroORM } | null> | null = null
  let plannerClosed: Promise<void> = Promise.resolve()
  let stopping = false
  let failed = false

  // Started after the workers listen: they have registered their tasks in the node registry, so the
  // planner finds a live process for every task and flags no job as unrunnable.
  const startPlanner = async (): Promise<{ app: FastifyInstance, orm: MikroORM } | null> => {
    let orm: MikroORM | null = null
    try {
      orm = await openDatabase(config)
      const app = await buildApp(config, orm, { execute: false })
      await app.ready()
      log('planner started: the primary leads, the workers run the jobs')
      return { app, orm }
    } catch (error) {
      log(`the planner failed to start (${(error as Error).message}); stopping`)
      await orm?.close().catch(() => {})
      failed = true
      stop()
      return null
    }
  }

  const fork = (): void => {
    const worker = cluster.fork(env)
    worker.on('listening', () => {
      listening.add(worker)
      if (++listened === config.workers && planner === null && !stopping) planner = startPlanner()
    })
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
      void plannerClosed.then(() => {
        log(failed ? 'all workers stopped; some failed' : 'all workers stopped')
        process.exit(failed ? 1 : 0)
      })
    }
  })

  const stop = (): void => {
    if (stopping) return
    stopping = true
    log('stopping the planner, then the workers')
    // Planning stops first, so no run is queued for workers that are leaving.
    plannerClosed = (async () => {
      const started = await planner
      if (started === null || started === undefined) return
      try {
        await started.app.close()
        await started.orm.close()
      } catch (error) {
        log(`the planner failed to close (${(error as Error).message})`)
        failed = true
      }
    })()
    void plannerClosed.then(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  log(`starting ${config.workers} workers on port ${config.port}`)
  for (let i = 0; i < config.workers; i++) fork()
}
