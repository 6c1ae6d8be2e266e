/**
 * Job routes: list, add, read, change, remove, pause, resume, run now, and fire-time previews (of a
 * stored job, and of an unsaved trigger for an add form).
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /jobs?task&paused&flagged&search&limit&offset` | 200 `{ items, total, limit, offset }`, ordered by id |
 * | `POST /jobs` | 201 the job (`Location` header); 400 invalid, 409 id taken |
 * | `GET /jobs/:id` | 200 the job; 404 |
 * | `PATCH /jobs/:id` | 200 the job; a new trigger reschedules it from now; 400, 404 |
 * | `DELETE /jobs/:id` | 204; its execution history stays; 404 |
 * | `POST /jobs/:id/pause`, `/resume` | 200 the job; 404 |
 * | `POST /jobs/:id/run?wait=ms` | 202 the `queued` execution; with `wait`, 200 with the outcome if it finished in time; 404 |
 * | `GET /jobs/:id/fire-times?count=N` | 200 `{ description, fireTimes }` (1-100, default 5); 404 |
 * | `POST /fire-times` `{ trigger, count? }` | 200 `{ description, fireTimes }` of an unsaved trigger; 400 naming the bad field |
 *
 * Every change is recorded in the audit trail with the actor of the request (`actor.ts`).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { InvalidJobError, JobNotFoundError, WaitTimeoutError } from '../errors.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import { actorOf, type ActorHook } from './actor.js'
import { firstRunTime } from '../scheduler/job-input.js'
import type { JobRecord } from '../stores/job-store.js'
import { createTrigger, describeTrigger, previewFireTimes } from '../triggers/index.js'
import type { TriggerJson } from '../triggers/types.js'
import type { JobChanges, JobDefinition } from '../types.js'
import {
  DEFAULT_PAGE_LIMIT, DEFAULT_PREVIEW, errors, ExecutionDetailSchema, FireTimesQuery, FireTimesSchema, JobChangesBody, JobListItemSchema, JobListQuery, JobParams, JobSchema,
  NewJobBody, pageOf, PreviewBody, RunQuery
} from './schemas.js'
import { executionJson, jobJson } from './serialize.js'

const tags = ['scheduler']

export const jobRoutes: FastifyPluginAsync<{ scheduler: Scheduler, actor?: ActorHook | undefined }> = async (fastify, { scheduler, actor: hook }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const by = async (request: Parameters<typeof actorOf>[0]): Promise<{ actor: string }> => ({ actor: await actorOf(request, hook) })

  app.get('/jobs', {
    schema: { tags, summary: 'List jobs, each with its last execution and average duration', querystring: JobListQuery, response: { 200: pageOf(JobListItemSchema), ...errors(400) } }
  }, async (request) => {
    const { limit = DEFAULT_PAGE_LIMIT, offset = 0, ...filter } = request.query
    const [jobs, total] = await Promise.all([scheduler.getJobs({ ...filter, limit, offset }), scheduler.countJobs(filter)])
    const stats = await scheduler.getRecentExecutionStats(jobs.map((job) => job.id))
    const items = jobs.map((job) => {
      const recent = stats.get(job.id)
      const last = recent?.lastExecution ?? null
      return { ...jobJson(job), lastExecution: last === null ? null : executionJson(last, false), averageDurationMs: recent?.averageDurationMs ?? null }
    })
    return { items, total, limit, offset }
  })

  app.post('/jobs', {
    schema: { tags, summary: 'Add a job', body: NewJobBody, response: { 201: JobSchema, ...errors(400, 409, 413) } }
  }, async (request, reply) => {
    const body = request.body as JobDefinition
    refuseNul(body.args)
    const job = await scheduler.addJob(body, await by(request))
    return reply.code(201).header('location', `${fastify.prefix}/jobs/${encodeURIComponent(job.id)}`).send(jobJson(job))
  })

  app.get('/jobs/:id', {
    schema: { tags, summary: 'Get a job', params: JobParams, response: { 200: JobSchema, ...errors(400, 404) } }
  }, async (request) => jobJson(await requireJob(scheduler, request.params.id)))

  app.patch('/jobs/:id', {
    schema: { tags, summary: 'Change a job', params: JobParams, body: JobChangesBody, response: { 200: JobSchema, ...errors(400, 404, 413) } }
  }, async (request) => {
    const changes = request.body as JobChanges
    refuseNul(changes.args)
    return jobJson(await scheduler.modifyJob(request.params.id, changes, await by(request)))
  })

  app.delete('/jobs/:id', {
    schema: { tags, summary: 'Remove a job (its executions stay)', params: JobParams, response: { 204: Type.Null({ description: 'Removed.' }), ...errors(400, 404) } }
  }, async (request, reply) => {
    await scheduler.removeJob(request.params.id, await by(request))
    return reply.code(204).send(null)
  })

  app.post('/jobs/:id/pause', {
    schema: { tags, summary: 'Pause a job', params: JobParams, response: { 200: JobSchema, ...errors(400, 404) } }
  }, async (request) => jobJson(await scheduler.pauseJob(request.params.id, await by(request))))

  app.post('/jobs/:id/resume', {
    schema: { tags, summary: 'Resume a job (next run time from now)', params: JobParams, response: { 200: JobSchema, ...errors(400, 404) } }
  }, async (request) => jobJson(await scheduler.resumeJob(request.params.id, await by(request))))

  app.post('/jobs/:id/run', {
    schema: {
      tags,
      summary: 'Run a job now, once, without changing its schedule',
      description: '202 with the queued execution at once (the leader starts it within moments); with ?wait=ms, 200 with the finished execution when it ends in time.',
      params: JobParams,
      querystring: RunQuery,
      response: { 200: ExecutionDetailSchema, 202: ExecutionDetailSchema, ...errors(400, 404) }
    }
  }, async (request, reply) => {
    const queued = await scheduler.runJob(request.params.id, await by(request))
    const wait = request.query.wait ?? 0
    if (wait === 0) return reply.code(202).send(executionJson(queued, true))
    try {
      return reply.code(200).send(executionJson(await scheduler.waitForExecution(queued.id, { timeoutMs: wait }), true))
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error
      return reply.code(202).send(executionJson(await scheduler.getExecution(queued.id) ?? queued, true))
    }
  })

  app.get('/jobs/:id/fire-times', {
    schema: {
      tags,
      summary: 'Preview the next fire times of a job',
      description: 'From its next fire time (from now when paused); none when it is finished.',
      params: JobParams,
      querystring: FireTimesQuery,
      response: { 200: FireTimesSchema, ...errors(400, 404) }
    }
  }, async (request) => {
    const job = await requireJob(scheduler, request.params.id)
    return preview(job.trigger, request.query.count ?? DEFAULT_PREVIEW, jobPreviewStart(job, now(scheduler)))
  })

  app.post('/fire-times', {
    schema: {
      tags,
      summary: 'Preview the fire times of an unsaved trigger',
      description: 'As if a job with this trigger were added now. 400 FST_SCHEDULER_INVALID_TRIGGER names the bad field.',
      body: PreviewBody,
      response: { 200: FireTimesSchema, ...errors(400, 413) }
    }
  }, async (request) => {
    const { trigger: json, count = DEFAULT_PREVIEW } = request.body
    const trigger = createTrigger(json)
    return preview(json as TriggerJson, count, firstRunTime(trigger, now(scheduler)))
  })
}

async function requireJob (scheduler: Scheduler, id: string): Promise<JobRecord> {
  const job = await scheduler.getJob(id)
  if (job === null) throw new JobNotFoundError(id)
  return job
}

/** The scheduler's clock when it has one (tests), else this process's. */
function now (scheduler: Scheduler): Date {
  return scheduler.options.clock?.() ?? new Date()
}

/** Where a stored job's upcoming fire times start: its next fire time; from now when paused (resume recomputes); null when finished. */
function jobPreviewStart (job: JobRecord, at: Date): Date | null {
  if (job.paused) return at
  return job.nextFireTime ?? job.nextRunTime
}

function preview (trigger: TriggerJson, count: number, from: Date | null): { description: string, fireTimes: string[] } {
  const description = describeTrigger(trigger)
  const fireTimes = from === null ? [] : previewFireTimes(trigger, { count, from })
  return { description, fireTimes: fireTimes.map((date) => date.toISOString()) }
}

/**
 * PostgreSQL cannot store the NUL character in `jsonb` (SQLSTATE 22P05), so args holding one are
 * refused here with a 400 instead of failing in the database.
 */
function refuseNul (args: unknown[] | undefined): void {
  if (args !== undefined && JSON.stringify(args).includes('\\u0000')) {
    throw new InvalidJobError('args', 'must not contain the NUL character (\\u0000): PostgreSQL cannot store it in jsonb')
  }
}
