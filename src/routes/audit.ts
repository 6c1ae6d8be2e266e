/**
 * Audit trail routes, newest first (by `at`):
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /audit?jobId&actor&from&to&limit&offset` | 200 `{ items, total, limit, offset }`; also the trail of removed jobs |
 * | `GET /jobs/:id/audit?actor&from&to&limit&offset` | the same for one job; 404 when the job does not exist |
 *
 * `from` and `to` bound `at` (inclusive, ISO-8601 with an offset); `from` after `to` is a 400.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { JobNotFoundError } from '../errors.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import type { AuditFilter } from '../stores/audit.js'
import { timeRange } from './time-range.js'
import { AuditEntrySchema, AuditListQuery, DEFAULT_PAGE_LIMIT, errors, JobAuditQuery, JobParams, pageOf, type AuditEntryJson } from './schemas.js'
import { auditJson, type Page } from './serialize.js'

const tags = ['scheduler']

interface ListQuery {
  jobId?: string
  actor?: string
  from?: string
  to?: string
  limit?: number
  offset?: number
}

export const auditRoutes: FastifyPluginAsync<{ scheduler: Scheduler }> = async (fastify, { scheduler }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/audit', {
    schema: { tags, summary: 'List audit entries (changes made to jobs), newest first', querystring: AuditListQuery, response: { 200: pageOf(AuditEntrySchema), ...errors(400) } }
  }, async (request) => list(scheduler, request.query))

  app.get('/jobs/:id/audit', {
    schema: { tags, summary: "List a job's audit entries, newest first", params: JobParams, querystring: JobAuditQuery, response: { 200: pageOf(AuditEntrySchema), ...errors(400, 404) } }
  }, async (request) => {
    const { id } = request.params
    if (await scheduler.getJob(id) === null) throw new JobNotFoundError(id)
    return list(scheduler, { ...request.query, jobId: id })
  })
}

async function list (scheduler: Scheduler, query: ListQuery): Promise<Page<AuditEntryJson>> {
  const { limit = DEFAULT_PAGE_LIMIT, offset = 0 } = query
  const filter: AuditFilter = {}
  if (query.jobId !== undefined) filter.jobId = query.jobId
  if (query.actor !== undefined) filter.actor = query.actor
  Object.assign(filter, timeRange(query))
  const [entries, total] = await Promise.all([scheduler.getAudit({ ...filter, limit, offset }), scheduler.countAudit(filter)])
  return { items: entries.map(auditJson), total, limit, offset }
}
