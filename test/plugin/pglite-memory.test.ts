/**
 * In-memory PGlite (`dbName: 'memory://'`): one process by definition, so `lock: 'auto'` takes no lock.
 */
import { MikroORM } from '@mikro-orm/pglite'
import Fastify from 'fastify'
import t from 'tap'
import { SchedulerJob, SchedulerJobExecution, schedulerPlugin } from '../../src/index.js'

t.test('in-memory PGlite needs no lock', async (t) => {
  const orm = await MikroORM.init({ dbName: 'memory://', entities: [SchedulerJob, SchedulerJobExecution] })
  const app = Fastify()
  t.teardown(async () => { await app.close(); await orm.close() })
  await app.register(schedulerPlugin, { orm, tasks: { tick: async () => {} } })
  const acquired = new Promise((resolve) => app.scheduler.on('leader:acquired', resolve))
  await app.ready()
  await acquired
  const executed = app.scheduler.once('job:executed')
  await app.scheduler.addJob({ id: 'tick', task: 'tick', trigger: { type: 'cron', expression: '* * * * * *' } })
  t.equal((await executed).execution.status, 'success')
})
