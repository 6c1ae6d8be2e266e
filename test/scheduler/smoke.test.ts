import t from 'tap'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'

for (const db of SERVER_DATABASES) {
  t.test(`interval job fires on ${db.name} and is recorded`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'smoke')
    const runs: Date[] = []
    scheduler.registerTask('tick', async (ctx) => { runs.push(ctx.runTime) })
    await scheduler.start()
    await scheduler.addJob({ id: 'tick', task: 'tick', trigger: { type: 'interval', seconds: 1 } })
    const executed = await scheduler.once('job:executed')
    t.equal(executed.execution.status, 'success')
    const rows = await db.query(url, 'select * from scheduler_job_execution')
    t.equal(rows.length >= 1, true)
    t.equal(scheduler.status().isLeader, true)
  })
}
