/**
 * How faults become responses: an unreachable database is 503 `FST_SCHEDULER_DATABASE_UNAVAILABLE`
 * with `Retry-After` (a real ORM on a closed port, and every connectivity error shape through a
 * failing store), and any other fault is a 500 that keeps its details in the log.
 */
import Fastify from 'fastify'
import { MikroORM } from '@mikro-orm/postgresql'
import t from 'tap'
import { MemoryJobStore, schedulerPlugin, schedulerRoutes, SchedulerJob, SchedulerJobExecution } from '../../src/index.js'
import { databaseUnavailableReason, errorResponse } from '../../src/routes/errors.js'
import type { JobFilter, JobRecord } from '../../src/stores/job-store.js'
import { freshDatabase, openOrm } from '../helpers/database.js'

t.test('a database on a closed port: 503 with a clear message and Retry-After', async (t) => {
  const orm = await MikroORM.init({ clientUrl: 'postgres://postgres@127.0.0.1:1/nowhere', entities: [SchedulerJob, SchedulerJobExecution], pool: { min: 0, max: 1 } })
  t.teardown(async () => orm.close(true))
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(schedulerPlugin, { orm, autoStart: false, tasks: { echo: async () => {} } })
  await app.register(schedulerRoutes, { prefix: '/scheduler', insecure: true })
  await app.ready()

  const requests = [
    { method: 'GET', url: '/scheduler/jobs' },
    { method: 'POST', url: '/scheduler/jobs', payload: { id: 'a', task: 'echo', trigger: { type: 'interval', hours: 1 } } },
    { method: 'GET', url: '/scheduler/jobs/a' },
    { method: 'POST', url: '/scheduler/jobs/a/run' },
    { method: 'GET', url: '/scheduler/executions' },
    { method: 'GET', url: '/scheduler/status' }
  ] as const
  for (const request of requests) {
    const response = await app.inject(request)
    t.equal(response.statusCode, 503, `${request.method} ${request.url}: 503`)
    t.equal(response.headers['retry-after'], '5')
    t.same(response.json(), {
      statusCode: 503,
      code: 'FST_SCHEDULER_DATABASE_UNAVAILABLE',
      error: 'Service Unavailable',
      message: "the scheduler's database is unreachable (ECONNREFUSED); nothing was changed, try again shortly"
    })
  }
  t.equal((await app.inject({ url: '/scheduler/tasks' })).statusCode, 200, 'routes that need no database still answer')
  t.equal((await app.inject({ method: 'POST', url: '/scheduler/fire-times', payload: { trigger: { type: 'interval', hours: 1 } } })).statusCode, 200)
})

/** A memory store whose job reads fail with `failure` (when set). */
class FailingStore extends MemoryJobStore {
  failure: unknown = null
  override async getJobs (filter?: JobFilter): Promise<JobRecord[]> {
    if (this.failure !== null) throw this.failure
    return super.getJobs(filter)
  }
}

const errorWith = (props: Record<string, unknown>, message = 'failed'): Error => Object.assign(new Error(message), props)

t.test('every connectivity fault shape is a 503; other faults are 500 without details', async (t) => {
  const url = await freshDatabase(t, 'routes_errors')
  const orm = await openOrm(t, url)
  const store = new FailingStore()
  const logged: unknown[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { logged.push(JSON.parse(line)) } } } })
  t.teardown(async () => app.close())
  await app.register(schedulerPlugin, { orm, store, autoStart: false })
  await app.register(schedulerRoutes, { prefix: '/scheduler', insecure: true })
  await app.ready()

  const unavailable: Array<[string, unknown, string]> = [
    ['ECONNRESET', errorWith({ code: 'ECONNRESET' }), 'ECONNRESET'],
    ['admin shutdown 57P01', errorWith({ code: '57P01' }, 'terminating connection due to administrator command'), '57P01'],
    ['crash shutdown 57P02', errorWith({ code: '57P02' }), '57P02'],
    ['cannot connect now 57P03', errorWith({ code: '57P03' }, 'the database system is starting up'), '57P03'],
    ['connection failure 08006', errorWith({ code: '08006' }), '08006'],
    ['connection does not exist 08003', errorWith({ code: '08003' }), '08003'],
    ['pg "Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly'), 'Connection terminated unexpectedly'],
    ['wrapped in a cause', new Error('query failed', { cause: errorWith({ code: 'ECONNREFUSED' }) }), 'ECONNREFUSED'],
    ['an AggregateError of refused addresses', Object.assign(new AggregateError([errorWith({ code: 'ECONNREFUSED' }), errorWith({ code: 'ECONNREFUSED' })], 'connect failed'), { code: undefined }), 'ECONNREFUSED'],
    ["MikroORM's ConnectionException", Object.assign(new Error('x'), { name: 'ConnectionException' }), 'connection failed']
  ]
  for (const [what, failure, reason] of unavailable) {
    store.failure = failure
    const response = await app.inject({ url: '/scheduler/jobs' })
    t.equal(response.statusCode, 503, what)
    t.match(response.json(), { code: 'FST_SCHEDULER_DATABASE_UNAVAILABLE', message: `the scheduler's database is unreachable (${reason})` }, what)
  }

  store.failure = errorWith({ code: '42P01' }, 'relation "secret_table" does not exist')
  const internal = await app.inject({ url: '/scheduler/jobs' })
  t.equal(internal.statusCode, 500)
  t.same(internal.json(), { statusCode: 500, code: 'FST_SCHEDULER_INTERNAL_ERROR', error: 'Internal Server Error', message: 'internal error; the server log has the details' })
  t.notMatch(internal.body, /secret_table/, 'no SQL detail in the body')
  t.ok(logged.some((line) => (line as { err?: { message?: string } }).err?.message?.includes('secret_table')), 'but it is logged')

  store.failure = null
  t.equal((await app.inject({ url: '/scheduler/jobs' })).statusCode, 200, 'back to normal')
})

t.test('errorResponse and databaseUnavailableReason, directly', async (t) => {
  t.equal(databaseUnavailableReason(null), null)
  t.equal(databaseUnavailableReason('ECONNREFUSED'), null, 'strings are not errors')
  t.equal(databaseUnavailableReason(errorWith({ code: '23505' })), null, 'a unique violation is not unavailability')
  t.equal(databaseUnavailableReason(errorWith({ code: '08P01' })), '08P01', 'any SQLSTATE of class 08')
  let deep: Error = errorWith({ code: 'ECONNREFUSED' })
  for (let i = 0; i < 10; i++) deep = new Error('wrapper', { cause: deep })
  t.equal(databaseUnavailableReason(deep), null, 'cause chains are followed a bounded depth')
  t.same(errorResponse(Object.assign(new Error('nope'), { statusCode: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND' }) as never),
    { statusCode: 404, code: 'FST_SCHEDULER_JOB_NOT_FOUND', error: 'Not Found', message: 'nope' })
  t.same(errorResponse(Object.assign(new Error('teapot'), { statusCode: 418 }) as never), { statusCode: 418, code: 'HTTP_418', error: "I'm a Teapot", message: 'teapot' }, 'a code is always present')
  t.match(errorResponse(Object.assign(new Error('bad option'), { statusCode: 500, code: 'FST_SCHEDULER_INVALID_OPTIONS' }) as never), { statusCode: 500, code: 'FST_SCHEDULER_INVALID_OPTIONS', message: 'bad option' }, "the library's own 5xx keep their message")
})
