/**
 * The audit trail of jobs written as ORM rows: every created, updated and deleted `SchedulerJob`
 * of a flush is recorded with actor 'orm', in the flush's own transaction, so a flush (or the
 * host's transaction around it) that rolls back leaves no audit row.
 */
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { MemoryJobStore, MikroOrmJobStore, Scheduler, SchedulerJob, schedulerPlugin } from '../../src/index.js'
import { SchedulerJobSubscriber } from '../../src/orm/job-subscriber.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'
import { waitUntil } from '../helpers/wait.js'

async function setup (t: Test, label: string, logLines?: string[]) {
  const url = await freshDatabase(t, label)
  const orm = await openOrm(t, url)
  const app = Fastify(logLines === undefined ? {} : { logger: { level: 'warn', stream: { write: (line: string) => { logLines.push(line) } } } })
  t.teardown(async () => app.close())
  await app.register(schedulerPlugin, { orm, tasks: { work: async () => {} }, pollIntervalMs: 30_000, autoStart: false })
  await app.ready()
  await app.scheduler.options.store.initialize()
  return { app, orm, url }
}

t.test('create, update and delete through a flush are recorded with actor "orm"', async (t) => {
  const { app, orm } = await setup(t, 'orm_audit')
  const em = orm.em.fork()
  const job = em.create(SchedulerJob, { id: 'o', task: 'work', trigger: { type: 'interval', minutes: 5 } } as never)
  await em.flush()
  job.paused = true
  await em.flush()
  job.paused = false
  await em.flush()
  job.trigger = { type: 'interval', hours: 2 }
  await em.flush()
  job.name = 'Renamed'
  job.args = ['x']
  await em.flush()
  em.remove(job)
  await em.flush()

  const rows = (await app.scheduler.getAudit({ jobId: 'o' })).reverse()
  t.same(rows.map((row) => [row.action, row.actor]), [
    ['added', 'orm'], ['paused', 'orm'], ['resumed', 'orm'], ['rescheduled', 'orm'], ['modified', 'orm'], ['removed', 'orm']
  ])
  const [added, paused, , rescheduled, modified, removed] = rows
  t.match(added?.changes, { task: { before: null, after: 'work' }, name: { before: null, after: 'o' }, maxInstances: { before: null, after: 1 } }, 'the row as written, defaults included')
  t.match(added?.changes.nextRunTime, { before: null, after: /^\d{4}-\d\d-\d\dT/ }, 'the computed next run time, as an ISO string')
  t.same(paused?.changes, { paused: { before: false, after: true } }, 'only what changed')
  t.match(rescheduled?.changes.trigger, { before: { minutes: 5 }, after: { hours: 2 } })
  t.ok('nextRunTime' in (rescheduled?.changes ?? {}), 'the subscriber\'s rescheduling is part of the change')
  t.same(modified?.changes.name, { before: 'o', after: 'Renamed' })
  t.same(modified?.changes.args, { before: [], after: ['x'] })
  t.match(removed?.changes, { name: { before: 'Renamed', after: null } })
})

t.test('a flush that fails, or a host transaction that rolls back, leaves no audit row', async (t) => {
  const { app, orm } = await setup(t, 'orm_audit_rollback')
  const em = orm.em.fork()
  em.create(SchedulerJob, { id: 'ok', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
  em.create(SchedulerJob, { id: 'bad', task: 'ghost', trigger: { type: 'interval', seconds: 5 } } as never)
  await t.rejects(em.flush(), { message: /task 'ghost' is not registered/ })

  await t.rejects(orm.em.fork().transactional(async (tx) => {
    tx.create(SchedulerJob, { id: 'rolled-back', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
    await tx.flush()
    t.equal(await tx.getConnection().execute("SELECT count(*)::int AS n FROM scheduler_audit WHERE job_id = 'rolled-back'", [], 'get', tx.getTransactionContext()).then((row) => (row as unknown as { n: number }).n), 1,
      'inside the transaction, the audit row is there with the job')
    throw new Error('the host changes its mind')
  }), { message: 'the host changes its mind' })

  t.equal(await app.scheduler.getJob('rolled-back'), null, 'the job rolled back')
  t.equal(await app.scheduler.countAudit(), 0, 'and so did its audit row')
})

t.test('a failing audit insert is rolled back to its savepoint: the flush commits, a warning is logged', async (t) => {
  const lines: string[] = []
  const { app, orm, url } = await setup(t, 'orm_audit_failure', lines)
  await query(url, 'DROP TABLE scheduler_audit')
  const em = orm.em.fork()
  em.create(SchedulerJob, { id: 'kept', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
  await em.flush()
  t.ok(await app.scheduler.getJob('kept'), 'the job was written')
  t.match(lines.join(''), /could not write the audit row of a job written through the ORM/, 'the failure is logged as a warning')
})

t.test('without a flush transaction (implicitTransactions: false) the row is written on its own; a failure is only logged', async (t) => {
  const lines: string[] = []
  const { app, orm, url } = await setup(t, 'orm_audit_no_tx', lines)
  orm.config.set('implicitTransactions', false)
  t.teardown(() => { orm.config.set('implicitTransactions', true) })
  const em = orm.em.fork()
  em.create(SchedulerJob, { id: 'plain', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
  await em.flush()
  t.match(await app.scheduler.getAudit(), [{ action: 'added', jobId: 'plain', actor: 'orm' }])
  await query(url, 'DROP TABLE scheduler_audit')
  em.create(SchedulerJob, { id: 'plain-2', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
  await em.flush()
  t.ok(await app.scheduler.getJob('plain-2'), 'the job was written')
  t.match(lines.join(''), /could not write the audit row of a job written through the ORM/)
})

t.test('with a store off the ORM\'s database, the rows go to that store once the flush has committed', async (t) => {
  const url = await freshDatabase(t, 'orm_audit_store')
  const orm = await openOrm(t, url)
  await new MikroOrmJobStore(orm).initialize()
  const scheduler = new Scheduler({ store: new MemoryJobStore(), orm, pollIntervalMs: 30_000 })
  scheduler.registerTask('work', async () => {})
  const subscriber = new SchedulerJobSubscriber(scheduler)
  orm.em.getEventManager().registerSubscriber(subscriber)
  t.teardown(() => subscriber.detach())
  const em = orm.em.fork()
  em.create(SchedulerJob, { id: 'elsewhere', task: 'work', trigger: { type: 'interval', seconds: 5 } } as never)
  await em.flush()
  await waitUntil('the audit row in the memory store', async () => (await scheduler.countAudit()) === 1)
  t.match(await scheduler.getAudit(), [{ action: 'added', jobId: 'elsewhere', actor: 'orm' }])
  t.equal((await query(url, 'SELECT count(*)::int AS n FROM scheduler_audit'))[0]?.n, 0, 'nothing in the ORM\'s table')
})
