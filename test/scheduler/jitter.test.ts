/**
 * Jitter: the stored next run time is the jittered one, while the execution's run time stays the
 * exact fire time, so `(job_id, run_time)` stays the occurrence key. Seeded random source; on
 * PostgreSQL and MariaDB.
 */
import t from 'tap'
import { FakeClock } from '../helpers/clock.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES, TRIGGER_COLUMN } from '../helpers/test-databases.js'

const T0 = '2026-11-21T10:00:00.000Z'
const at = (seconds: number): Date => new Date(Date.parse(T0) + seconds * 1000)

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: a jittered occurrence is claimed late but recorded at its exact fire time`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler } = await schedulerOn(db, t, 'jitter', { clock: clock.now, random: () => 0.5 })
    const seen: string[] = []
    scheduler.registerTask('work', async (ctx) => { seen.push(ctx.runTime.toISOString()) })
    await scheduler.start()
    const job = await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 60, startDate: T0, jitter: 10 } })
    t.equal(job.nextFireTime?.toISOString(), at(0).toISOString(), 'exact fire time')
    t.equal(job.nextRunTime?.toISOString(), at(5).toISOString(), 'claimed after a jitter of 0.5 × 10 s')

    await scheduler.addJob({ id: 'sentinel', task: 'work', trigger: { type: 'date', runDate: at(2).toISOString() } })
    const sentinel = scheduler.once('job:executed', ({ jobId }) => jobId === 'sentinel')
    clock.set(at(2)); scheduler.wakeup()
    await sentinel
    t.same(await scheduler.getExecutions({ jobId: 'job' }), [], 'not run before its jittered time')

    const executed = scheduler.once('job:executed', ({ jobId }) => jobId === 'job')
    clock.set(at(5)); scheduler.wakeup()
    const { execution } = await executed
    t.equal(execution.runTime.toISOString(), at(0).toISOString(), 'run_time is the exact fire time')
    t.ok(seen.includes(at(0).toISOString()), 'ctx.runTime too')
    const after = await scheduler.getJob('job')
    t.equal(after?.nextFireTime?.toISOString(), at(60).toISOString())
    t.equal(after?.nextRunTime?.toISOString(), at(65).toISOString())
  })

  t.test(`${db.name}: jitter never reaches the next fire time`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler } = await schedulerOn(db, t, 'jitter_bound', { clock: clock.now, random: () => 0.999999 })
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    const job = await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 2, startDate: T0, jitter: 60 } })
    t.equal(job.nextFireTime?.toISOString(), at(0).toISOString())
    t.ok((job.nextRunTime as Date) < at(2), `jittered run time ${job.nextRunTime?.toISOString()} stays before the next fire time`)
  })

  t.test(`${db.name}: a stored trigger of an unknown version flags the job instead of guessing`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler, url } = await schedulerOn(db, t, 'trigger_version', { clock: clock.now })
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    await scheduler.addJob({ id: 'sentinel', task: 'work', trigger: { type: 'date', runDate: T0 } })
    await db.query(url, `insert into scheduler_job (id, name, task, ${TRIGGER_COLUMN[db.name]}, next_run_time)
      values ('future', 'future', 'work', '{"type":"interval","seconds":5,"version":2}', ?)`, [at(0)])
    const sentinel = scheduler.once('job:executed')
    clock.set(at(0)); scheduler.wakeup()
    await sentinel
    t.match((await scheduler.getJob('future'))?.lastError, /version/)
    t.same(await scheduler.getExecutions({ jobId: 'future' }), [])
  })

  t.test(`${db.name}: jitter is not lateness: misfireGraceTime is measured from the jittered run time`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler } = await schedulerOn(db, t, 'jitter_grace', { clock: clock.now, random: () => 0.9 })
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    // jitter 120 s × 0.9 = 108 s after the fire time; the grace time is 60 s.
    const job = await scheduler.addJob({ id: 'job', task: 'work', misfireGraceTime: 60, trigger: { type: 'interval', seconds: 600, startDate: T0, jitter: 120 } })
    t.equal(job.nextRunTime?.toISOString(), at(108).toISOString(), 'claimed 108 s after its fire time')
    const finished = scheduler.once('job:executed')
    const missed = scheduler.once('job:missed')
    clock.set(at(110)); scheduler.wakeup()
    const first = await Promise.race([finished.then(({ execution }) => execution), missed.then(({ execution }) => execution)])
    t.equal(first.status, 'success', 'claimed 2 s after its jittered run time: on time, not missed')
    t.equal(first.runTime.toISOString(), at(0).toISOString())
  })
}
