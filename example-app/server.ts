/**
 * One server process (alone, or one of the `WORKERS=N` workers): opens the database, builds the
 * app, listens, and shuts down gracefully on SIGINT/SIGTERM (stop the scheduler and the server with
 * `app.close()`, then close the ORM).
 */
import cluster from 'node:cluster'
import type { Config } from './config.ts'
import { buildApp } from './app.ts'
import { createExampleTables, openDatabase } from './database.ts'

/** How long a graceful shutdown may take before the process gives up and exits with 1. */
const SHUTDOWN_DEADLINE_MS = 30_000

export async function runServer (config: Config): Promise<void> {
  const orm = await openDatabase(config)
  await createExampleTables(orm)
  // A `WORKERS=N` worker runs the jobs the primary plans and never leads (cluster.ts).
  const app = await buildApp(config, orm, cluster.isWorker ? { plan: false } : {})

  let closing = false
  const close = async (signal: NodeJS.Signals): Promise<void> => {
    // Ctrl-C reaches every process of the group, and a cluster primary forwards SIGTERM too:
    // the first signal starts the shutdown, later ones only wait for it.
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    setTimeout(() => {
      app.log.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`)
      process.exit(1)
    }, SHUTDOWN_DEADLINE_MS).unref()
    try {
      await app.close()
      await orm.close()
      app.log.info('bye')
      process.exit(0)
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed')
      process.exit(1)
    }
  }
  process.on('SIGINT', (signal) => { void close(signal) })
  process.on('SIGTERM', (signal) => { void close(signal) })

  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    app.log.error({ err: error }, 'could not start')
    await app.close().catch(() => {})
    await orm.close()
    process.exit(1)
  }
}
