/**
 * `GET /executions?limit=N`: the latest executions, newest first, each with the `owner` (node id) of
 * the process that ran it. A route of the example, not of
 * the plugin: it shows how a host reads the execution history with its own ORM.
 */
import type { MikroORM } from '@mikro-orm/core'
import type { FastifyPluginAsync } from 'fastify'
import { SchedulerJobExecution } from 'fastify-mikro-scheduler'

const querystring = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
  additionalProperties: false
} as const

export const executionsRoutes: FastifyPluginAsync<{ orm: MikroORM }> = async (app, { orm }) => {
  app.get<{ Querystring: { limit: number } }>('/executions', { schema: { querystring } }, async (request) => {
    const em = orm.em.fork()
    const rows = await em.find(SchedulerJobExecution, {}, { orderBy: { runTime: 'desc', id: 'desc' }, limit: request.query.limit })
    return {
      executions: rows.map((row) => ({
        id: row.id,
        jobId: row.jobId,
        runTime: row.runTime,
        status: row.status,
        // The node id of the process that started it (with WORKERS=N, which worker ran it), or that recorded a run
        // that never started (missed, max_instances); null while queued.
        owner: row.owner ?? null,
        startedAt: row.startedAt ?? null,
        finishedAt: row.finishedAt ?? null,
        durationMs: row.durationMs ?? null,
        exception: row.exception ?? null,
        traceback: row.traceback ?? null
      }))
    }
  })
}
