/**
 * The Fastify plugin: registration, options validation, decoration and TypeScript augmentation,
 * lifecycle (schema and start at onReady, shutdown at close), and the handler's ctx.log.
 */
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t from 'tap'
import schedulerPluginDefault, { schedulerPlugin, Scheduler, SchedulerJobExecution } from '../../src/index.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'

/** A Fastify logger whose JSON lines the test can read. */
function capturedLogger (): { stream: Writable, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      callback()
    }
  })
  return { stream, lines }
}

t.test('register, start at onReady, run a job with ctx.log, stop at close', async (t) => {
  const url = await freshDatabase(t, 'plugin')
  const orm = await openOrm(t, url)
  const { stream, lines } = capturedLogger()
  const app = Fastify({ logger: { level: 'info', stream } })
  t.teardown(async () => app.close())
  t.equal(schedulerPluginDefault, schedulerPlugin, 'the plugin is also the default export')
  await app.register(schedulerPlugin, {
    orm,
    tasks: { 'reports.daily': async (ctx, region: string) => { ctx.log.info({ region }, 'report written') } },
    jobs: [{ id: 'daily', task: 'reports.daily', trigger: { type: 'cron', expression: '0 9 * * *' }, args: ['eu'] }]
  })
  t.ok(app.scheduler instanceof Scheduler, 'app.scheduler is decorated (and typed by the augmentation)')
  t.equal(app.scheduler.running, false, 'not started before ready')
  app.get('/jobs', async () => app.scheduler.getJobs())

  await app.ready()
  t.equal(app.scheduler.running, true, 'started at onReady')
  const jobs = (await app.inject({ method: 'GET', url: '/jobs' })).json<Array<{ id: string, args: unknown[] }>>()
  t.same(jobs.map((job) => [job.id, job.args]), [['daily', ['eu']]], 'configured jobs are stored at start')

  const executed = app.scheduler.once('job:executed')
  await app.scheduler.runJob('daily')
  await executed
  const logged = lines.find((line) => line.msg === 'report written')
  t.match(logged, { region: 'eu', jobId: 'daily', name: 'scheduler' }, 'ctx.log is a child of fastify.log bound to the job')
  t.ok(typeof logged?.executionId === 'number')

  const em = orm.em.fork()
  const rows = await em.find(SchedulerJobExecution, { jobId: 'daily' })
  t.equal(rows.length, 1, 'the execution table is readable through the exported entity')
  t.equal(rows[0]?.status, 'success')

  const shutdown = app.scheduler.once('scheduler:shutdown')
  await app.close()
  await shutdown
  t.equal(app.scheduler.running, false, 'stopped at close')
  t.same(await query(url, "select 1 from scheduler_job_execution where status = 'running'"), [])
})

t.test('autoStart: false leaves start to the host', async (t) => {
  const url = await freshDatabase(t, 'plugin_manual')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(schedulerPlugin, { orm, autoStart: false })
  await app.ready()
  t.equal(app.scheduler.running, false)
  await app.scheduler.start()
  t.equal(app.scheduler.running, true)
  await t.rejects(app.scheduler.start(), { code: 'FST_SCHEDULER_STATE', message: /cannot start: the scheduler is running/ })
})

t.test('invalid options are refused at registration with the option named', async (t) => {
  const url = await freshDatabase(t, 'plugin_options')
  const orm = await openOrm(t, url)
  const cases: Array<[string, unknown, RegExp]> = [
    ['no orm', {}, /option orm: is required: pass the MikroORM instance of the app/],
    ['not an orm', { orm: { foo: 1 } }, /option orm: is required/],
    ['unknown option', { orm, pollInterval: 5 }, /pollInterval: is not a scheduler option/],
    ['bad lock', { orm, lock: 'redis' }, /lock: must be 'auto', 'advisory', 'file' or 'none', got "redis"/],
    ['file lock without file', { orm, lock: 'file' }, /lockFile: is required with lock: 'file'/],
    ['bad concurrency', { orm, maxConcurrency: 0 }, /maxConcurrency: must be a positive integer, got 0/],
    ['execute not a boolean', { orm, execute: 'no' }, /execute: must be true or false, got "no"/],
    ['plan not a boolean', { orm, plan: 0 }, /plan: must be true or false, got 0/],
    ['bad poll', { orm, pollIntervalMs: 'often' }, /pollIntervalMs: must be a positive integer/],
    ['statement timeout past the stale limit', { orm, leaderStaleMs: 4000, statementTimeoutMs: 4000 }, /statementTimeoutMs: must be less than leaderStaleMs \(4000\), got 4000/],
    ['bad session url', { orm, sessionUrl: '' }, /sessionUrl: must be a non-empty connection string/],
    ['bad connect timeout', { orm, connectTimeoutMs: -5 }, /connectTimeoutMs: must be a positive integer, got -5/],
    ['bad defaults', { orm, jobDefaults: { maxInstances: -1 } }, /jobDefaults\.maxInstances: must be a positive integer/],
    ['bad tasks', { orm, tasks: 5 }, /tasks: must be an object mapping task names to handlers/],
    ['job with a missing task', { orm, jobs: [{ id: 'a', task: 'ghost', trigger: { type: 'interval', seconds: 1 } }] }, /jobs: refers to task 'ghost', which is not in the tasks option/],
    ['job with a bad trigger', { orm, tasks: { a: async () => {} }, jobs: [{ id: 'a', task: 'a', trigger: { type: 'interval' } }] }, /invalid trigger/]
  ]
  for (const [what, options, message] of cases) {
    const app = Fastify()
    await t.rejects(async () => app.register(schedulerPlugin, options as never).ready(), { message }, what)
    await app.close()
  }
  const app = Fastify()
  await app.register(schedulerPlugin, { orm, autoStart: false })
  await t.rejects(async () => app.register(schedulerPlugin, { orm, autoStart: false }).ready(), { message: /already registered/ }, "registered twice")
})
