/**
 * Execution history routes, newest first (by run time):
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /executions?jobId&status&from&to&limit&offset` | 200 `{ items, total, limit, offset }`; also the history of removed jobs |
 * | `GET /jobs/:id/executions?status&from&to&limit&offset` | the same for one job; 404 when the job does not exist |
 * | `GET /executions/:id` | 200 the execution with its `traceback`; 404 |
 *
 * `from` and `to` bound the run time (inclusive, ISO-8601 with an offset); `from` after `to` is a 400.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ExecutionNotFoundError, JobNotFoundError } from '../errors.js'
import { timeRange } from './time-range.js'
import type { ExecutionStatus } from '../execution-status.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import type { ExecutionFilter } from '../stores/job-store.js'
import { DEFAULT_PAGE_LIMIT, errors, ExecutionDetailSchema, ExecutionListQuery, ExecutionParams, ExecutionSchema, JobExecutionsQuery, JobParams, pageOf } from './schemas.js'
import { executionJson, type Page } from './serialize.js'
import type { ExecutionJson } from './schemas.js'

const tags = ['scheduler']

interface ListQuery {
  jobId?: string
  status?: ExecutionStatus
  from?: string
  to?: string
  limit?: number
  offset?: number
}

export const executionRoutes: FastifyPluginAsync<{ scheduler: Scheduler }> = async (fastify, { scheduler }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/executions', {
    schema: { tags, summary: 'List executions, newest first', querystring: ExecutionListQuery, response: { 200: pageOf(ExecutionSchema), ...errors(400) } }
  }, async (request) => list(scheduler, request.query))

  app.get('/jobs/:id/executions', {
    schema: { tags, summary: "List a job's executions, newest first", params: JobParams, querystring: JobExecutionsQuery, response: { 200: pageOf(ExecutionSchema), ...errors(400, 404) } }
  }, async (request) => {
    const { id } = request.params
    if (await scheduler.getJob(id) === null) throw new JobNotFoundError(id)
    return list(scheduler, { ...request.query, jobId: id })
  })

  app.get('/executions/:id', {
    schema: { tags, summary: 'Get an execution with its traceback', params: ExecutionParams, response: { 200: ExecutionDetailSchema, ...errors(400, 404) } }
  }, async (request) => {
    const execution = await scheduler.getExecution(request.params.id)
    if (execution === null) throw new ExecutionNotFoundError(request.params.id)
    return executionJson(execution, true)
  })
}

async function list (scheduler: Scheduler, query: ListQuery): Promise<Page<ExecutionJson>> {
  const { limit = DEFAULT_PAGE_LIMIT, offset = 0 } = query
  const filter: ExecutionFilter = {}
  if (query.jobId !== undefined) filter.jobId = query.jobId
  if (query.status !== undefined) filter.status = query.status
  Object.assign(filter, timeRange(query))
  const [executions, total] = await Promise.all([scheduler.getExecutions({ ...filter, limit, offset }), scheduler.countExecutions(filter)])
  return { items: executions.map((execution) => executionJson(execution, false)), total, limit, offset }
}
