import t from 'tap'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshDatabase, openOrm, query } from '../helpers/database.js'

t.test('interval job fires on PostgreSQL and is recorded', async (t) => {
  const url = await freshDatabase(t, 'smoke')
  const orm = await openOrm(t, url)
  const scheduler = new Scheduler({ store: new MikroOrmJobStore(orm), orm })
  t.teardown(async () => scheduler.shutdown())
  const runs: Date[] = []
  scheduler.registerTask('tick', async (ctx) => { runs.push(ctx.runTime) })
  await scheduler.start()
  await scheduler.addJob({ id: 'tick', task: 'tick', trigger: { type: 'interval', seconds: 1 } })
  const executed = await scheduler.once('job:executed')
  t.equal(executed.execution.status, 'success')
  const rows = await query(url, 'select * from scheduler_job_execution')
  t.equal(rows.length >= 1, true)
  t.equal(scheduler.status().isLeader, true)
})
