/**
 * Misfire grace time and coalesce, with APScheduler's meaning, driven by an injected clock, on
 * PostgreSQL and MariaDB.
 */
import t, { type Test } from 'tap'
import type { ExecutionRecord } from '../../src/stores/job-store.js'
import { FakeClock } from '../helpers/clock.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const T0 = '2026-11-21T10:00:00.000Z'
const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString()

/** Starts a scheduler with one interval job (every 60 s from T0), jumps the clock, and returns the rows written. */
async function overdue (db: TestDatabase, t: Test, label: string, job: { misfireGraceTime: number | null, coalesce: boolean, maxInstances?: number }, jumpSeconds: number) {
  const clock = new FakeClock(at(-1))
  const { scheduler, url } = await schedulerOn(db, t, label, { clock: clock.now })
  const ran: string[] = []
  scheduler.registerTask('work', async (ctx) => { ran.push(ctx.runTime.toISOString()) })
  scheduler.registerTask('sentinel', async () => {})
  await scheduler.start()
  await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 60, startDate: T0 }, ...job })
  // A job due at the same instant as the clock jump: once it has run, the claim that handled `job` is done.
  await scheduler.addJob({ id: 'sentinel', task: 'sentinel', trigger: { type: 'date', runDate: at(jumpSeconds) } })
  const settled = waitUntil('all executions finished', async () => {
    const running = await db.query(url, "select 1 from scheduler_job_execution where status = 'running'")
    const sentinel = await db.query(url, "select 1 from scheduler_job_execution where job_id = 'sentinel' and status = 'success'")
    return sentinel.length === 1 && running.length === 0
  })
  clock.set(at(jumpSeconds))
  scheduler.wakeup()
  await settled
  const rows = await db.query<{ run_time: Date, status: string }>(url, "select run_time, status from scheduler_job_execution where job_id = 'job' order by run_time")
  const next = await scheduler.getJob('job')
  return { rows: rows.map((row) => ({ runTime: new Date(row.run_time).toISOString(), status: row.status })), ran, next: next?.nextRunTime?.toISOString() }
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: without coalesce, each overdue occurrence within the grace time runs and the others are missed`, async (t) => {
    // Due: T0 (190 s late), T0+60 (130 s), T0+120 (70 s), T0+180 (10 s). Grace 100 s.
    const { rows, ran, next } = await overdue(db, t, 'misfire_each', { misfireGraceTime: 100, coalesce: false, maxInstances: 4 }, 190)
    t.same(rows, [
      { runTime: at(0), status: 'missed' },
      { runTime: at(60), status: 'missed' },
      { runTime: at(120), status: 'success' },
      { runTime: at(180), status: 'success' }
    ])
    t.same(ran.sort(), [at(120), at(180)])
    t.equal(next, at(240), 'next run time advanced past now')
  })

  t.test(`${db.name}: with coalesce, overdue occurrences run once, at the latest run time`, async (t) => {
    const { rows, ran, next } = await overdue(db, t, 'coalesce', { misfireGraceTime: null, coalesce: true }, 190)
    t.same(rows, [{ runTime: at(180), status: 'success' }])
    t.same(ran, [at(180)])
    t.equal(next, at(240))
  })

  t.test(`${db.name}: with coalesce, a latest occurrence later than the grace time is recorded missed`, async (t) => {
    const { rows, ran } = await overdue(db, t, 'coalesce_missed', { misfireGraceTime: 5, coalesce: true }, 190)
    t.same(rows, [{ runTime: at(180), status: 'missed' }])
    t.same(ran, [])
  })

  t.test(`${db.name}: misfireGraceTime null runs every overdue occurrence however late`, async (t) => {
    const { rows } = await overdue(db, t, 'always_run', { misfireGraceTime: null, coalesce: false, maxInstances: 3 }, 130)
    t.same(rows.map((row) => row.status), ['success', 'success', 'success'])
  })

  t.test(`${db.name}: catching up without coalesce runs every overdue occurrence within the one instance (maxInstances is about overlap)`, async (t) => {
    const { rows } = await overdue(db, t, 'catch_up_max_instances', { misfireGraceTime: null, coalesce: false, maxInstances: 1 }, 130)
    t.same(rows, [
      { runTime: at(0), status: 'success' },
      { runTime: at(60), status: 'success' },
      { runTime: at(120), status: 'success' }
    ])
  })

  t.test(`${db.name}: missed occurrences emit job:missed with the execution row`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler } = await schedulerOn(db, t, 'missed_event', { clock: clock.now })
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'date', runDate: T0 }, misfireGraceTime: 1 })
    const missed = scheduler.once('job:missed')
    clock.set(at(30))
    scheduler.wakeup()
    const event: { jobId: string, execution: ExecutionRecord } = await missed
    t.equal(event.jobId, 'job')
    t.equal(event.execution.status, 'missed')
    t.equal(event.execution.runTime.toISOString(), T0)
    t.equal(event.execution.startedAt, null, 'a missed occurrence never started')
    t.equal((await scheduler.getJob('job'))?.nextRunTime, null, 'a date job is finished after its only occurrence')
  })
}
