/**
 * The statistics routes through `app.inject` on PostgreSQL: a job's run history with its success
 * rate, and the overview (executions per minute by status, fire lag percentiles, slowest jobs)
 * over an explicit window. Executions are written through the job store at 2030 times with
 * chosen lags and durations (far from the live scheduler's clock, so it never claims them); the
 * expected answers are worked out by hand in the comments. Plus validation and the guard.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import t from 'tap'
import type { ExecutionRecord, JobStore } from '../../src/stores/job-store.js'
import { at, newJob } from '../stores/contract.js'
import { routesApp } from './fixtures/app.js'

const OWNER = 'node-test'
const LEASE_MS = 3_600_000

/** One execution at `at(second)`, started `lagMs` after its run time, ran `durationMs` (or left running). */
async function run (store: JobStore, jobId: string, second: number, status: 'success' | 'error' | 'timeout' | 'running', lagMs = 0, durationMs = 0): Promise<ExecutionRecord> {
  const started = await store.claimImmediateRun(jobId, { now: at(second), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
  if (status === 'running') return started
  return await store.finishExecution(started.id, { status, durationMs }, new Date(at(second).getTime() + lagMs + durationMs)) as ExecutionRecord
}

t.test('GET /jobs/:id/run-history: oldest first, with the success rate; 404, 400', async (t) => {
  const { app } = await routesApp(t, 'routes_run_history')
  const store = app.scheduler.options.store
  await store.addJob(newJob('r', { maxInstances: 100, nextRunTime: at(0) }))
  await run(store, 'r', 10, 'success', 0, 100)
  await run(store, 'r', 20, 'error', 0, 200)
  await run(store, 'r', 30, 'success', 0, 300)
  const plan = () => ({ run: [], missed: [at(40)], maxInstances: [], coalesced: 0, nextRunTime: at(100_000) })
  await store.claimDueJobs({ now: at(45), limit: 10, startLimit: 10, tasks: ['task.a'], owner: OWNER, leaseMs: LEASE_MS, plan })
  await run(store, 'r', 50, 'running')

  const response = await app.inject({ url: '/scheduler/jobs/r/run-history' })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.same(body.executions.map((e: { runTime: string }) => e.runTime), [10, 20, 30, 40, 50].map((s) => at(s).toISOString()), 'oldest first')
  t.same(body.executions.map((e: { status: string }) => e.status), ['success', 'error', 'success', 'missed', 'running'])
  t.same(body.executions.map((e: { durationMs: number | null }) => e.durationMs), [100, 200, 300, null, null])
  t.match(body.executions[1], { statusLabel: 'Error!', startedAt: new Date(at(20).getTime()).toISOString() })
  // Finished: success, error, success, missed = 4 (the running one is not); succeeded 2; 2 / 4.
  t.match(body, { jobId: 'r', limit: 100, finished: 4, succeeded: 2, successRate: 0.5 })

  const two = (await app.inject({ url: '/scheduler/jobs/r/run-history?limit=2' })).json()
  t.same(two.executions.map((e: { status: string }) => e.status), ['missed', 'running'], 'the 2 newest, still oldest first')
  t.match(two, { finished: 1, succeeded: 0, successRate: 0 })

  await store.addJob(newJob('fresh', { nextRunTime: at(100_000) }))
  t.match((await app.inject({ url: '/scheduler/jobs/fresh/run-history' })).json(), { executions: [], finished: 0, succeeded: 0, successRate: null }, 'no runs: no rate')

  const missing = await app.inject({ url: '/scheduler/jobs/nope/run-history' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'FST_SCHEDULER_JOB_NOT_FOUND')
  for (const bad of ['limit=101', 'limit=0', 'limit=x', 'other=1']) {
    const refused = await app.inject({ url: `/scheduler/jobs/r/run-history?${bad}` })
    t.equal(refused.statusCode, 400, bad)
    t.match(refused.json().message, bad.startsWith('other') ? /other/ : /limit/, `${bad}: the message names the field`)
  }
})

t.test('GET /stats/overview: per minute by status, fire lag p50/p95, slowest jobs, over a window', async (t) => {
  const { app } = await routesApp(t, 'routes_overview')
  const store = app.scheduler.options.store
  for (const id of ['a', 'b', 'c']) await store.addJob(newJob(id, { maxInstances: 100, nextRunTime: at(100_000) }))
  await run(store, 'a', -1, 'success', 0, 9999) // before the window
  await run(store, 'a', 30, 'success', 1000, 100) // minute 0
  await run(store, 'b', 90, 'error', 3000, 300) // minute 1
  await run(store, 'a', 95, 'success', 2000, 500) // minute 1
  await run(store, 'c', 3599, 'timeout', 0, 200) // minute 59, the last one
  await run(store, 'c', 3600, 'success', 0, 99_999) // the window's end: outside

  // until = 00:59:59.5: the window is the hour [00:00, 01:00).
  const response = await app.inject({ url: `/scheduler/stats/overview?until=${encodeURIComponent(new Date(at(3599.5).getTime()).toISOString())}&slowest=2` })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.match(body, { from: at(0).toISOString(), to: at(3600).toISOString(), minutes: 60 })
  t.equal(body.perMinute.length, 60, 'one entry per minute, empty ones included')
  t.same(body.perMinute.map((m: { minute: string }) => m.minute), Array.from({ length: 60 }, (_, i) => at(i * 60).toISOString()))
  const nonZero = body.perMinute.flatMap((m: { counts: Record<string, number>, total: number }, i: number) =>
    Object.entries(m.counts).filter(([, n]) => n > 0).map(([status, n]) => [i, status, n, m.total]))
  t.same(nonZero, [[0, 'success', 1, 1], [1, 'success', 1, 2], [1, 'error', 1, 2], [59, 'timeout', 1, 1]], 'counts by minute and status')
  // Lags in the window: 1000, 3000, 2000, 0 → sorted 0, 1000, 2000, 3000. percentile_cont positions
  // 0.5 × 3 = 1.5 → 1000 + 0.5 × 1000 = 1500; 0.95 × 3 = 2.85 → 2000 + 0.85 × 1000 = 2850.
  t.match(body.fireLag, { count: 4, p50Ms: 1500, maxMs: 3000 })
  t.ok(Math.abs(body.fireLag.p95Ms - 2850) < 1e-6, `p95 2850 ms (got ${body.fireLag.p95Ms})`)
  // Means: a (100 + 500) / 2 = 300, b 300 (tie: a first by id), c 200; slowest=2 keeps a and b.
  t.same(body.slowestJobs, [{ jobId: 'a', count: 2, meanMs: 300, maxMs: 500 }, { jobId: 'b', count: 1, meanMs: 300, maxMs: 300 }])

  const now = await app.scheduler.now()
  const current = (await app.inject({ url: '/scheduler/stats/overview?minutes=5' })).json()
  const to = Date.parse(current.to)
  t.equal(to % 60_000, 0, 'without until: the window ends on a minute boundary')
  t.ok(to > now.getTime() && to <= now.getTime() + 60_000 + 5_000, 'the current minute is the last one (database clock)')
  t.equal(to - Date.parse(current.from), 5 * 60_000)
  t.equal(current.perMinute.length, 5)
  t.match(current, { fireLag: { count: 0, p50Ms: null, p95Ms: null, maxMs: null }, slowestJobs: [] }, '2030 rows are not in today\'s window')

  for (const [query, field] of [['minutes=4', 'minutes'], ['minutes=1441', 'minutes'], ['until=yesterday', 'until'], ['slowest=51', 'slowest'], ['jobId=a', 'jobId']]) {
    const refused = await app.inject({ url: `/scheduler/stats/overview?${query}` })
    t.equal(refused.statusCode, 400, query as string)
    t.match(refused.json().message, new RegExp(field as string), `${query}: the message names ${field}`)
  }
})

t.test('the statistics routes are behind the guard', async (t) => {
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.headers.authorization !== 'Bearer s3cret') await reply.code(401).send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'token' })
  }
  const { app } = await routesApp(t, 'routes_stats_guard', { routes: { insecure: false, onRequest: guard } })
  await app.scheduler.options.store.addJob(newJob('g', { nextRunTime: at(100_000) }))
  for (const url of ['/scheduler/jobs/g/run-history', '/scheduler/stats/overview']) {
    t.equal((await app.inject({ url })).statusCode, 401, `${url} without the token`)
    t.equal((await app.inject({ url, headers: { authorization: 'Bearer s3cret' } })).statusCode, 200, `${url} with it`)
  }
})
