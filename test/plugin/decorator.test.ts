/**
 * The decorator name: `app.scheduler` by default, another name with `decorator`, a clear error
 * naming the plugin that holds a taken name (the official `@fastify/schedule` decorates
 * `app.scheduler`), and `schedulerOf(app)` whatever the name. Uses the real `@fastify/schedule`.
 */
import fastifySchedule from '@fastify/schedule'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { schedulerOf, schedulerPlugin, Scheduler } from '../../src/core.js'
import { freshDatabase, openOrm } from '../helpers/database.js'

async function setup (t: Test) {
  const url = await freshDatabase(t, 'decorator')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  return { app, orm }
}

t.test('beside @fastify/schedule: the default name fails naming it; decorator: "jobs" works, routes included', async (t) => {
  const { app, orm } = await setup(t)
  await app.register(fastifySchedule)
  await t.rejects(async () => { await app.register(schedulerPlugin, { orm, autoStart: false }) }, {
    code: 'FST_SCHEDULER_INVALID_OPTIONS',
    message: /app\.scheduler is already taken by @fastify\/schedule \(an instance of ToadScheduler\).*decorator: 'jobs'/
  }, 'the error names the plugin holding app.scheduler and the way out')

  const other = Fastify()
  t.teardown(async () => other.close())
  await other.register(fastifySchedule)
  await other.register(schedulerPlugin, { orm, decorator: 'jobs', routes: { prefix: '/jobs-admin', insecure: true } })
  await other.ready()
  const jobs = (other as unknown as { jobs: unknown }).jobs
  t.ok(jobs instanceof Scheduler, 'app.jobs is the scheduler')
  t.equal(schedulerOf(other), jobs, 'schedulerOf(app) finds it under its custom name')
  t.equal(other.scheduler.constructor.name, 'ToadScheduler', "app.scheduler still belongs to @fastify/schedule")
  const status = await other.inject({ method: 'GET', url: '/jobs-admin/status' })
  t.equal(status.statusCode, 200, 'the admin routes find the scheduler under its custom name')
})

t.test('a name that is not an identifier, or a second registration, is refused', async (t) => {
  const { app, orm } = await setup(t)
  await t.rejects(async () => { await app.register(schedulerPlugin, { orm, decorator: 'my scheduler' }) }, { message: /decorator: must be a JavaScript identifier/ })

  const twice = Fastify()
  t.teardown(async () => twice.close())
  await twice.register(schedulerPlugin, { orm, autoStart: false })
  await t.rejects(async () => { await twice.register(schedulerPlugin, { orm, autoStart: false, decorator: 'again' }) }, { message: /already registered on this instance/ })
  t.throws(() => schedulerOf(Fastify()), { message: /not registered on this Fastify instance/ })
})
