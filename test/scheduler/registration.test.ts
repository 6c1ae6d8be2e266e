/**
 * Jobs declared in code, in the three forms (scheduler.registerJob, curried registerJob, @scheduled),
 * persisted and upserted at start: a changed trigger reschedules, an unchanged one keeps
 * next run time and paused flag.
 */
import t from 'tap'
import { registerJob, scheduled } from '../../src/registration.js'
import type { TaskContext } from '../../src/types.js'
import { FakeClock } from '../helpers/clock.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'

const T0 = '2026-11-21T10:00:00.000Z'
const at = (seconds: number): Date => new Date(Date.parse(T0) + seconds * 1000)

class Reports {
  calls: string[] = []

  @scheduled({ type: 'cron', expression: '0 9 * * mon-fri', timezone: 'Asia/Shanghai' }, { maxInstances: 2 })
  async daily (ctx: TaskContext): Promise<void> {
    this.calls.push(`daily@${ctx.runTime.toISOString()}`)
  }

  @scheduled({ type: 'interval', hours: 1 }, { id: 'reports.hourly', args: ['eu'] })
  async hourly (_ctx: TaskContext, region: string): Promise<void> {
    this.calls.push(`hourly:${region}`)
  }

  notScheduled (): void {}
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: the three registration forms persist their jobs at start`, async (t) => {
    const clock = new FakeClock(at(0))
    const { scheduler } = await schedulerOn(db, t, 'forms', { clock: clock.now })
    scheduler.registerJob({ id: 'heartbeat', trigger: { type: 'interval', seconds: 3 } }, async () => {})
    const returned = registerJob(scheduler, { type: 'interval', seconds: 3 }, { id: 'test_job' })(async function testJob () {})
    t.equal(typeof returned, 'function', 'the curried form returns the handler')
    registerJob(scheduler, { type: 'cron', expression: '*/5 * * * *' })(async function cleanupSessions () {})
    t.throws(() => registerJob(scheduler, { type: 'interval', seconds: 1 })(async () => {}), { message: /id: is required for an anonymous handler/ })
    const reports = new Reports()
    t.same(scheduler.registerJobs(reports).sort(), ['Reports.daily', 'reports.hourly'])
    t.same(await scheduler.getJobs(), [], 'nothing is written before start')

    await scheduler.start()
    const jobs = await scheduler.getJobs()
    t.same(jobs.map((job) => [job.id, job.task]), [
      ['Reports.daily', 'Reports.daily'], ['cleanupSessions', 'cleanupSessions'], ['heartbeat', 'heartbeat'],
      ['reports.hourly', 'reports.hourly'], ['test_job', 'test_job']
    ])
    t.equal(jobs.find((job) => job.id === 'Reports.daily')?.maxInstances, 2)
    t.same(jobs.find((job) => job.id === 'reports.hourly')?.args, ['eu'])

    const executed = scheduler.once('job:executed', ({ jobId }) => jobId === 'reports.hourly')
    await scheduler.runJob('reports.hourly')
    await executed
    t.same(reports.calls, ['hourly:eu'], 'decorated methods run bound to their instance with the job args')

    scheduler.registerJob({ id: 'late', trigger: { type: 'interval', seconds: 3 } }, async () => {})
    const added = await scheduler.once('job:added', ({ job }) => job.id === 'late')
    t.equal(added.job.id, 'late', 'a job registered after start is stored at once')
  })

  t.test(`${db.name}: registration errors are thrown at registration, not at start`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'registration_errors')
    t.throws(() => scheduler.registerJob({ id: 'bad', trigger: { type: 'cron', expression: '' } }, async () => {}), { code: 'FST_SCHEDULER_INVALID_TRIGGER' })
    scheduler.registerJob({ id: 'twice', trigger: { type: 'interval', seconds: 1 } }, async () => {})
    t.throws(() => scheduler.registerJob({ id: 'twice', trigger: { type: 'interval', seconds: 1 } }, async () => {}), { code: 'FST_SCHEDULER_CONFLICTING_ID' })
    t.throws(() => scheduler.registerTask('twice', async () => {}), { message: /already registered to another handler/ })
    class Bad {
      static calls = 0
    }
    t.throws(() => {
      const decorate = scheduled({ type: 'interval', seconds: 1 })
      decorate(async () => {}, { kind: 'method', name: 'x', static: true, private: false, addInitializer: () => {}, access: { has: () => true, get: () => () => {} }, metadata: {} } as never)
    }, { message: /can only decorate public instance methods/ })
    t.equal(Bad.calls, 0)
  })

  t.test(`${db.name}: restarting with the same trigger keeps next run time and paused; a changed trigger reschedules`, async (t) => {
    const clock = new FakeClock(at(0))
    const first = await schedulerOn(db, t, 'upsert', { clock: clock.now })
    first.scheduler.registerJob({ id: 'job', trigger: { type: 'interval', seconds: 60 } }, async () => {})
    await first.scheduler.start()
    const original = await first.scheduler.pauseJob('job')
    await first.scheduler.shutdown()
    t.equal(original.nextRunTime?.toISOString(), at(60).toISOString())

    clock.set(at(30))
    const second = await schedulerOn(db, t, 'upsert', { clock: clock.now }, first.url)
    second.scheduler.registerJob({ id: 'job', trigger: { type: 'interval', seconds: 60 }, maxInstances: 3 }, async () => {})
    await second.scheduler.start()
    const kept = await second.scheduler.getJob('job')
    t.equal(kept?.nextRunTime?.toISOString(), at(60).toISOString(), 'unchanged trigger: next run time kept')
    t.equal(kept?.paused, true, 'unchanged trigger: paused flag kept')
    t.equal(kept?.maxInstances, 3, 'other options are brought up to date')
    await second.scheduler.shutdown()

    const third = await schedulerOn(db, t, 'upsert', { clock: clock.now }, first.url)
    third.scheduler.registerJob({ id: 'job', trigger: { type: 'interval', seconds: 10 }, maxInstances: 3 }, async () => {})
    await third.scheduler.start()
    const changed = await third.scheduler.getJob('job')
    t.equal(changed?.nextRunTime?.toISOString(), at(40).toISOString(), 'changed trigger: rescheduled from now')
    t.equal(changed?.paused, true, 'changed trigger: the paused flag set by an operator is still kept')
  })
}
