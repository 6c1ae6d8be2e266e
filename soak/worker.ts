/**
 * One worker process of the soak (`soak/run.ts` starts, kills, freezes and restarts these). A
 * Fastify app with the scheduler plugin (`lock: 'auto'`) on `DATABASE_URL`, registering the same
 * `SOAK_JOBS` interval jobs as every other worker: `soak-0` … `soak-N`, every `SOAK_INTERVAL`
 * seconds from `SOAK_START` to `SOAK_END`, `coalesce: false` and `misfireGraceTime: null`, so
 * every occurrence must appear in the execution table exactly once.
 *
 * Every handler first records its effect in the ledger (`EFFECT_LEDGER_DIR`, one file per process:
 * test/helpers/effect-ledger.ts). Reports on stdout as JSON lines: `ready` (nodeId), `leader`,
 * `lost`, `run` (a handler started: jobId, runTime), `scheduler-error`, `boot-retry` (a start that
 * failed while the database was unreachable, tried again), `closing`, `closed`.
 * SIGTERM closes the app gracefully and exits 0.
 *
 * The library is `fastify-mikro-scheduler` (the built `dist/`), or the module `SOAK_LIBRARY`
 * names (the test suite points it at `src/index.ts`).
 */
import { pathToFileURL } from 'node:url'
// Erasable TypeScript shared with the test fixtures (type stripping needs the .ts extension).
import { recordEffect } from '../test/helpers/effect-ledger.ts'
import { closeOnSigterm, report } from '../test/helpers/worker-process.ts'

process.on('uncaughtException', (error) => {
  report('uncaught', { message: error.message, stack: error.stack })
  process.exit(70)
})
process.on('unhandledRejection', (error) => {
  report('uncaught', { message: String((error as Error)?.message ?? error), stack: (error as Error)?.stack })
  process.exit(71)
})

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

const library = process.env.SOAK_LIBRARY
const lib = await import(library === undefined || library === '' ? 'fastify-mikro-scheduler' : pathToFileURL(library).href)
const { MikroORM } = await import('@mikro-orm/postgresql')
const { default: Fastify } = await import('fastify')

const jobs = Number(env('SOAK_JOBS'))
const seconds = Number(env('SOAK_INTERVAL'))
const startDate = env('SOAK_START')
const endDate = env('SOAK_END')
const options = JSON.parse(process.env.SOAK_OPTIONS ?? '{}') as Record<string, unknown>

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The app: the ORM, Fastify with the plugin, the jobs and the reports. `app.ready()` starts the scheduler. */
async function boot (): Promise<{ app: any, orm: any }> {
  const orm = await MikroORM.init({ clientUrl: env('DATABASE_URL'), entities: [lib.SchedulerJob, lib.SchedulerJobExecution], pool: { min: 0, max: 4 } })
  const app = Fastify({ logger: false })
  try {
    await app.register(lib.schedulerPlugin, { orm, lock: 'auto', ...options })
    for (let i = 0; i < jobs; i++) {
      app.scheduler.registerJob({
        id: `soak-${i}`,
        trigger: { type: 'interval', seconds, startDate, endDate },
        coalesce: false,
        misfireGraceTime: null,
        maxInstances: 10
      }, async (ctx: { runTime: Date, executionId: number }) => {
        recordEffect(`soak-${i}`, ctx.runTime)
        report('run', { jobId: `soak-${i}`, runTime: ctx.runTime.toISOString(), executionId: ctx.executionId })
        await sleep(Math.floor(Math.random() * 50))
      })
    }
    app.scheduler.on('leader:acquired', () => report('leader'))
    app.scheduler.on('leader:lost', ({ reason }: { reason: string }) => report('lost', { reason }))
    let errors = 0
    app.scheduler.on('scheduler:error', ({ error, during }: { error: Error, during: string }) => {
      if (++errors <= 20 || errors % 100 === 0) report('scheduler-error', { during, message: error.message, count: errors })
    })
    await app.ready()
    return { app, orm }
  } catch (error) {
    await app.close().catch(() => {})
    await orm.close(true).catch(() => {})
    throw error
  }
}

// The host's own part, not the library's: a worker that boots while PostgreSQL restarts (its ORM
// cannot connect, or the scheduler's start() rejects with the database error, as documented)
// tries again for a minute, as a supervisor restarting it would. Once started, nothing may crash it.
const { app, orm } = await (async () => {
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      return await boot()
    } catch (error) {
      if (Date.now() > deadline) throw error
      report('boot-retry', { message: (error as Error).message })
      await sleep(500)
    }
  }
})()

closeOnSigterm(async () => {
  await app.close()
  await orm.close()
})

report('ready', { nodeId: app.scheduler.nodeId })
