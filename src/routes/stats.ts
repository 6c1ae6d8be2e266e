/**
 * Statistics routes, the data of the admin page's charts (each chart is one bounded query of the
 * job store, see `stores/execution-stats.ts`):
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /jobs/:id/run-history?limit` | 200 the job's newest `limit` executions (1-100, default 100), oldest first, with its success rate; 404 when the job does not exist |
 * | `GET /stats/overview?minutes&until&slowest` | 200 executions per minute by status, fire lag p50/p95 and the slowest jobs over the last `minutes` (5-1440, default 60) whole UTC minutes |
 *
 * The overview's window ends with the UTC minute holding `until` (default: the database's clock),
 * so its last minute is the current, partial one; every minute of the window has an entry, zeros
 * included. Times are run times (the occurrence's fire time): a run counts in the minute it was due.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static, type TSchema } from 'typebox'
import { EXECUTION_STATUSES, STATUS_LABELS, type ExecutionStatus } from '../execution-status.js'
import { JobNotFoundError } from '../errors.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import { MAX_RUN_HISTORY, MAX_SLOWEST_JOBS, successRate, type MinuteStatusCount } from '../stores/execution-stats.js'
import { errors, JobParams } from './schemas.js'

const tags = ['scheduler']

/** Longest overview window, in minutes (one day). */
export const MAX_OVERVIEW_MINUTES = 1440
/** Overview window when none is asked for, in minutes. */
export const DEFAULT_OVERVIEW_MINUTES = 60
/** Slowest jobs listed when no `slowest` is given. */
export const DEFAULT_SLOWEST_JOBS = 5

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })
const Milliseconds = (description: string) => nullable(Type.Number({ description }))

export const RunHistoryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RUN_HISTORY, default: MAX_RUN_HISTORY, description: `How many of the newest executions, 1-${MAX_RUN_HISTORY}.` }))
}, { additionalProperties: false })

export const RunHistorySchema = Type.Object({
  jobId: Type.String(),
  limit: Type.Integer(),
  executions: Type.Array(Type.Object({
    id: Type.Integer(),
    runTime: DateTime,
    status: Type.Enum([...EXECUTION_STATUSES]),
    statusLabel: Type.String(),
    startedAt: nullable(DateTime),
    durationMs: Milliseconds('Milliseconds the handler ran; null while queued or running, or when it never ran.')
  }, { additionalProperties: false }), { description: 'Oldest first (the order of a strip drawn left to right).' }),
  finished: Type.Integer({ description: 'Executions among them with a final status (not queued, not running).' }),
  succeeded: Type.Integer({ description: 'Executions among them with status success.' }),
  successRate: nullable(Type.Number({ minimum: 0, maximum: 1, description: 'succeeded / finished; null when none finished. Missed and max_instances count as not succeeded.' }))
}, { additionalProperties: false })

export const OverviewQuery = Type.Object({
  minutes: Type.Optional(Type.Integer({ minimum: 5, maximum: MAX_OVERVIEW_MINUTES, default: DEFAULT_OVERVIEW_MINUTES, description: `Length of the window in whole minutes, 5-${MAX_OVERVIEW_MINUTES}.` })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'The window ends with the UTC minute holding this instant (ISO-8601 with offset). Default: now, by the database clock.' })),
  slowest: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SLOWEST_JOBS, default: DEFAULT_SLOWEST_JOBS, description: `How many slowest jobs, 1-${MAX_SLOWEST_JOBS}.` }))
}, { additionalProperties: false })

const StatusCounts = Type.Object(Object.fromEntries(EXECUTION_STATUSES.map((status) => [status, Type.Integer()])), { additionalProperties: false })

export const OverviewSchema = Type.Object({
  from: Type.String({ format: 'date-time', description: 'First instant of the window (inclusive).' }),
  to: Type.String({ format: 'date-time', description: 'End of the window (exclusive).' }),
  minutes: Type.Integer(),
  perMinute: Type.Array(Type.Object({
    minute: DateTime,
    total: Type.Integer(),
    counts: StatusCounts
  }, { additionalProperties: false }), { description: 'One entry per minute of the window, oldest first: executions by status of run time in that minute.' }),
  fireLag: Type.Object({
    count: Type.Integer({ description: 'Executions in the window that started.' }),
    p50Ms: Milliseconds('Median of startedAt − runTime, in milliseconds (percentile_cont).'),
    p95Ms: Milliseconds('95th percentile of startedAt − runTime, in milliseconds.'),
    maxMs: Milliseconds('Largest startedAt − runTime, in milliseconds.')
  }, { additionalProperties: false }),
  slowestJobs: Type.Array(Type.Object({
    jobId: Type.String(),
    count: Type.Integer({ description: 'Executions in the window with a duration.' }),
    meanMs: Type.Number(),
    maxMs: Type.Number()
  }, { additionalProperties: false }), { description: 'Highest mean duration first.' })
}, { additionalProperties: false })

export type OverviewJson = Static<typeof OverviewSchema>

/** The window of `minutes` whole UTC minutes that ends with the minute holding `until`. */
export function overviewWindow (until: Date, minutes: number): { from: Date, to: Date } {
  const to = Math.floor(until.getTime() / 60_000) * 60_000 + 60_000
  return { from: new Date(to - minutes * 60_000), to: new Date(to) }
}

/** Sparse (minute, status, count) rows as one entry per minute of the window, zeros included. */
export function denseMinutes (rows: MinuteStatusCount[], from: Date, minutes: number): OverviewJson['perMinute'] {
  const entries = Array.from({ length: minutes }, (_, i) => ({
    minute: new Date(from.getTime() + i * 60_000).toISOString(),
    total: 0,
    counts: Object.fromEntries(EXECUTION_STATUSES.map((status) => [status, 0])) as Record<ExecutionStatus, number>
  }))
  for (const row of rows) {
    const entry = entries[Math.round((row.minute.getTime() - from.getTime()) / 60_000)]
    if (entry === undefined) continue
    entry.counts[row.status] += row.count
    entry.total += row.count
  }
  return entries
}

/** Registered inside the guarded API context of `schedulerRoutes`. Reads through the scheduler's job store. */
export const statsRoutes: FastifyPluginAsync<{ scheduler: Scheduler }> = async (fastify, { scheduler }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const store = scheduler.options.store

  app.get('/jobs/:id/run-history', {
    schema: { tags, summary: "A job's newest executions and success rate (the run-history strip)", params: JobParams, querystring: RunHistoryQuery, response: { 200: RunHistorySchema, ...errors(400, 404) } }
  }, async (request) => {
    const { id } = request.params
    const limit = request.query.limit ?? MAX_RUN_HISTORY
    const [job, newestFirst] = await Promise.all([store.getJob(id), store.getRunHistory(id, limit)])
    if (job === null) throw new JobNotFoundError(id)
    const executions = [...newestFirst].reverse()
    return {
      jobId: id,
      limit,
      executions: executions.map((entry) => ({
        id: entry.id,
        runTime: entry.runTime.toISOString(),
        status: entry.status,
        statusLabel: STATUS_LABELS[entry.status],
        startedAt: entry.startedAt?.toISOString() ?? null,
        durationMs: entry.durationMs
      })),
      ...successRate(executions)
    }
  })

  app.get('/stats/overview', {
    schema: { tags, summary: 'Executions per minute by status, fire lag p50/p95 and the slowest jobs, over the last hour', querystring: OverviewQuery, response: { 200: OverviewSchema, ...errors(400) } }
  }, async (request) => {
    const minutes = request.query.minutes ?? DEFAULT_OVERVIEW_MINUTES
    const until = request.query.until === undefined ? await store.now() : new Date(request.query.until)
    const range = overviewWindow(until, minutes)
    const [perMinute, fireLag, slowestJobs] = await Promise.all([
      store.countExecutionsPerMinute(range),
      store.getFireLag(range),
      store.getSlowestJobs(range, request.query.slowest ?? DEFAULT_SLOWEST_JOBS)
    ])
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      minutes,
      perMinute: denseMinutes(perMinute, range.from, minutes),
      fireLag,
      slowestJobs
    }
  })
}
