/**
 * Builds the Fastify app: the scheduler plugin with the example's jobs, in the three registration
 * styles (plugin options, `app.scheduler.registerJob`, curried `registerJob`), and the
 * `/executions` route; with `SCHEDULER_ADMIN_TOKEN`, the admin REST API under `/scheduler`; with
 * `METRICS=1`, Prometheus metrics at `/metrics`.
 */
import type { MikroORM } from '@mikro-orm/core'
import Fastify, { type FastifyInstance } from 'fastify'
import { schedulerPlugin } from 'fastify-mikro-scheduler'
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { Config } from './config.ts'
import { registerFlaky } from './jobs/flaky.ts'
import { HEARTBEAT_TASK, heartbeat, heartbeatJob } from './jobs/heartbeat.ts'
import { registerMinuteReport } from './jobs/minute-report.ts'
import { WELCOME_TASK, welcome, welcomeJob } from './jobs/welcome.ts'
import { registerAdminRoutes } from './routes/admin.ts'
import { executionsRoutes } from './routes/executions.ts'
import { metricsRoute } from './routes/metrics.ts'

/**
 * What this process does for the scheduler (the plugin's `plan` and `execute` options, both true by
 * default): with `WORKERS=N` the primary plans (`execute: false`) and the workers execute (`plan: false`).
 */
export interface SchedulerRole {
  plan?: boolean
  execute?: boolean
}

export async function buildApp (config: Config, orm: MikroORM, role: SchedulerRole = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: config.logLevel } })
  const registry = config.metrics ? new Registry() : null
  if (registry !== null) collectDefaultMetrics({ register: registry })

  await app.register(schedulerPlugin, {
    orm,
    ...role,
    ...(registry === null ? {} : { metrics: { registry } }),
    // lock: 'auto' (the default): a PostgreSQL advisory lock elects the one process that plans;
    // on PGlite a lock file beside the data directory does.
    tasks: { [HEARTBEAT_TASK]: heartbeat, [WELCOME_TASK]: welcome },
    jobs: [heartbeatJob, welcomeJob(config.startedAt)]
  })
  registerMinuteReport(app)
  registerFlaky(app)

  await app.register(executionsRoutes, { orm })
  if (registry !== null) await app.register(metricsRoute, { registry })
  if (config.adminToken !== null) await registerAdminRoutes(app, config.adminToken)
  return app
}
