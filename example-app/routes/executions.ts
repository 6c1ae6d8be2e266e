/**
 * `GET /executions?limit=N`: the latest executions, newest first. A route of the example, not of
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
        startedAt: row.startedAt ?? null,
        finishedAt: row.finishedAt ?? null,
        durationMs: row.durationMs ?? null,
        exception: row.exception ?? null,
        traceback: row.traceback ?? null
      }))
    }
  })
}
