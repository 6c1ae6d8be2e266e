/**
 * fastify-mikro-scheduler: a persistent, cluster-safe job scheduler for Fastify on MikroORM +
 * PostgreSQL. See README.md for the quickstart and DESIGN notes.
 *
 * This entry point declares `app.scheduler` (the default decorator name) on Fastify's types. An
 * app where that name belongs to another plugin imports from `fastify-mikro-scheduler/core`
 * instead (same exports, no declaration) and registers with `{ decorator: 'jobs' }`.
 */
import type { Scheduler } from './scheduler/scheduler.js'

export * from './core.js'
export { schedulerPlugin as default } from './plugin.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The job scheduler of fastify-mikro-scheduler (under the default decorator name; see `decorator`). */
    scheduler: Scheduler
  }
}
