/**
 * Read-modify-writes of a job compare its `version`: a writer landing between another's read and
 * write is not overwritten. Interleaving is forced with a store whose `getJob` lets another writer
 * run between the read and the write. On PostgreSQL and MariaDB.
 */
import t from 'tap'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import type { JobRecord } from '../../src/stores/job-store.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'

/** A store that runs `between` after each `getJob` read, before the reader goes on. */
class InterleavingStore extends MikroOrmJobStore {
  between: (() => Promise<void>) | null = null
  override async getJob (id: string): Promise<JobRecord | null> {
    const job = await super.getJob(id)
    const between = this.between
    if (between !== null) await between()
    return job
  }
}

async function setup (db: TestDatabase, t: { teardown(fn: () => unknown): void }, label: string) {
  const orm = await db.openOrm(t, await db.fresh(t, label))
  const store = new InterleavingStore(orm)
  const scheduler = new Scheduler({ store, orm, pollIntervalMs: 30_000 })
  t.teardown(async () => scheduler.shutdown())
  scheduler.registerTask('work', async () => {})
  return { store, scheduler }
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: a reschedule between resumeJob's read and write is not lost`, async (t) => {
    const { store, scheduler } = await setup(db, t, 'lost_update')
    const now = Date.now()
    const fiveDays = new Date(now + 5 * 86_400_000).toISOString()
    await scheduler.addJob({ id: 'job', task: 'work', paused: true, trigger: { type: 'date', runDate: fiveDays } })
    let interleaved = false
    store.between = async () => {
      if (interleaved) return
      interleaved = true
      store.between = null
      await scheduler.rescheduleJob('job', { type: 'interval', seconds: 60 })
    }
    await scheduler.resumeJob('job')
    t.ok(interleaved, 'the reschedule ran between the read and the write')
    const job = await scheduler.getJob('job') as JobRecord
    t.match(job.trigger, { type: 'interval', seconds: 60 }, 'the new trigger is kept')
    t.equal(job.paused, false, 'and the job is resumed')
    const nextMs = (job.nextFireTime as Date).getTime() - now
    t.ok(nextMs > 0 && nextMs < 3_600_000, `the next fire time comes from the new trigger (${job.nextFireTime?.toISOString()}), not the old date trigger (${fiveDays})`)
  })

  t.test(`${db.name}: a job that keeps changing fails the change with a conflict error (409)`, async (t) => {
    const { store, scheduler } = await setup(db, t, 'conflict')
    await scheduler.addJob({ id: 'job', task: 'work', paused: true, trigger: { type: 'interval', seconds: 60 } })
    let writes = 0
    store.between = async () => {
      store.between = null
      writes++
      await scheduler.modifyJob('job', { name: `renamed ${writes}` })
      store.between = interleave
    }
    const interleave = store.between
    await t.rejects(scheduler.resumeJob('job'), { code: 'FST_SCHEDULER_JOB_CONFLICT', statusCode: 409, message: /job 'job' kept changing/ })
    t.equal(writes, 5, 'five attempts, each overtaken by another writer')
    const job = await scheduler.getJob('job') as JobRecord
    t.equal(job.paused, true, 'nothing half-written: the job is still paused')
    t.equal(job.name, 'renamed 5', 'the other writer\'s changes are all kept')
  })
}
