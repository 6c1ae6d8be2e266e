/**
 * Jobs as ORM rows: creating, updating and deleting `SchedulerJob` entities with the host's own
 * `em` manages jobs; invalid rows make `flush()` throw and nothing is written.
 */
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { SchedulerJob, schedulerPlugin } from '../../src/index.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'

async function setup (t: Test) {
  const url = await freshDatabase(t, 'orm_rows')
  const orm = await openOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  await app.register(schedulerPlugin, { orm, tasks: { work: async () => {} }, pollIntervalMs: 30_000 })
  await app.ready()
  return { app, orm, url }
}

t.test('em.create + flush adds a scheduled job that runs; update reschedules; delete removes', async (t) => {
  const { app, orm } = await setup(t)
  const em = orm.em.fork()
  const executed = app.scheduler.once('job:executed', ({ jobId }) => jobId === 'from-orm')
  const job = em.create(SchedulerJob, { id: 'from-orm', task: 'work', trigger: { type: 'cron', expression: '* * * * * *' } } as never)
  await em.flush()
  t.equal(job.name, 'from-orm', 'defaults filled in: name = id')
  t.same(job.args, [])
  t.equal(job.maxInstances, 1)
  t.ok(job.nextRunTime instanceof Date, 'next run time computed')
  t.match(job.trigger, { type: 'cron', expression: '* * * * * *', version: 1 }, 'trigger normalised')
  await executed
  t.pass('the leader ran the job added as an ORM row')

  const before = (await app.scheduler.getJob('from-orm'))?.nextRunTime as Date
  job.trigger = { type: 'cron', expression: '0 0 1 1 *' }
  job.args = ['x']
  await em.flush()
  const stored = await app.scheduler.getJob('from-orm')
  t.same(stored?.args, ['x'])
  t.equal(stored?.nextRunTime?.getUTCMonth(), 0, 'rescheduled to January')
  t.not(stored?.nextRunTime?.getTime(), before.getTime())

  em.remove(job)
  await em.flush()
  t.equal(await app.scheduler.getJob('from-orm'), null)
})

t.test('an invalid row makes flush throw a clear error and writes nothing', async (t) => {
  const { orm, url } = await setup(t)
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['bad trigger', { id: 'a', task: 'work', trigger: { type: 'cron', expression: '61 * * * *' } }, /invalid trigger: expression/],
    ['unknown task', { id: 'b', task: 'ghost', trigger: { type: 'interval', seconds: 5 } }, /task 'ghost' is not registered/],
    ['bad option', { id: 'c', task: 'work', trigger: { type: 'interval', seconds: 5 }, maxInstances: 0 }, /maxInstances: must be a positive integer/]
  ]
  for (const [what, data, message] of cases) {
    const em = orm.em.fork()
    em.create(SchedulerJob, { id: 'ok', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
    em.create(SchedulerJob, data as never)
    await t.rejects(em.flush(), { message }, what)
  }
  t.same(await query(url, 'select id from scheduler_job'), [], 'nothing was written, not even the valid row of the same flush')

  const em = orm.em.fork()
  const job = em.create(SchedulerJob, { id: 'valid', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
  await em.flush()
  job.trigger = { type: 'interval', seconds: -1 }
  await t.rejects(em.flush(), { message: /invalid trigger/ }, 'an invalid update')
  const [row] = await query(url, "select trigger from scheduler_job where id = 'valid'")
  t.match(row?.trigger, { seconds: 5 }, 'the stored trigger is unchanged')
})
