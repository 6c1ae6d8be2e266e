/**
 * Job management through the scheduler API: add, modify, reschedule, pause, resume, remove,
 * validation with nothing half-written, unknown tasks flagged (never deleted), history cleanup,
 * on PostgreSQL and MariaDB.
 */
import t from 'tap'
import { FakeClock } from '../helpers/clock.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES, TRIGGER_COLUMN } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const T0 = '2026-11-21T10:00:00.000Z'
const at = (seconds: number): Date => new Date(Date.parse(T0) + seconds * 1000)
/** The job's `trigger` column in SQL: a reserved word on MariaDB. */

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: addJob stores the job with defaults and its first run time; events follow every change`, async (t) => {
    const clock = new FakeClock(at(0))
    const { scheduler } = await schedulerOn(db, t, 'crud', { clock: clock.now })
    scheduler.registerTask('work', async () => {})
    const events: string[] = []
    for (const name of ['job:added', 'job:modified', 'job:removed'] as const) scheduler.on(name, () => events.push(name))
    await scheduler.start()

    const job = await scheduler.addJob({ id: 'reports.daily', task: 'work', trigger: { type: 'cron', fields: { hour: 9 }, timezone: 'UTC' } })
    t.match(job, { id: 'reports.daily', name: 'reports.daily', task: 'work', args: [], paused: false, misfireGraceTime: null, coalesce: true, maxInstances: 1, timeoutMs: null, lastError: null, version: 1 })
    t.equal(job.nextRunTime?.toISOString(), '2026-11-22T09:00:00.000Z')

    const interval = await scheduler.addJob({ id: 'every5m', task: 'work', trigger: { type: 'interval', minutes: 5 } })
    t.equal(interval.nextRunTime?.toISOString(), at(300).toISOString(), 'an interval without startDate first fires one period after it is added (APScheduler)')

    await t.rejects(scheduler.addJob({ id: 'reports.daily', task: 'work', trigger: { type: 'interval', seconds: 1 } }), { code: 'FST_SCHEDULER_CONFLICTING_ID', statusCode: 409 })
    const replaced = await scheduler.addJob({ id: 'reports.daily', task: 'work', trigger: { type: 'interval', seconds: 10 } }, { replaceExisting: true })
    t.equal(replaced.version, 2)
    t.equal(replaced.nextRunTime?.toISOString(), at(10).toISOString())

    const modified = await scheduler.modifyJob('reports.daily', { args: ['x'], maxInstances: 3, name: 'Daily report' })
    t.match(modified, { args: ['x'], maxInstances: 3, name: 'Daily report', version: 3 })
    t.equal(modified.nextRunTime?.toISOString(), at(10).toISOString(), 'modifying without a trigger keeps the next run time')

    clock.set(at(100))
    const rescheduled = await scheduler.rescheduleJob('reports.daily', { type: 'cron', expression: '*/30 * * * * *' })
    t.equal(rescheduled.nextRunTime?.toISOString(), at(120).toISOString(), 'a new trigger computes the next run time from now')

    const paused = await scheduler.pauseJob('reports.daily')
    t.equal(paused.paused, true)
    clock.set(at(1000))
    const resumed = await scheduler.resumeJob('reports.daily')
    t.equal(resumed.paused, false)
    t.equal(resumed.nextRunTime?.toISOString(), at(1020).toISOString(), 'resume recomputes the next run time from now')

    await scheduler.removeJob('reports.daily')
    t.equal(await scheduler.getJob('reports.daily'), null)
    await t.rejects(scheduler.removeJob('reports.daily'), { code: 'FST_SCHEDULER_JOB_NOT_FOUND', statusCode: 404 })
    await t.rejects(scheduler.pauseJob('nope'), { code: 'FST_SCHEDULER_JOB_NOT_FOUND' })
    await t.rejects(scheduler.resumeJob('nope'), { code: 'FST_SCHEDULER_JOB_NOT_FOUND' })
    await t.rejects(scheduler.modifyJob('nope', { args: [] }), { code: 'FST_SCHEDULER_JOB_NOT_FOUND' })
    t.same(events, ['job:added', 'job:added', 'job:added', 'job:modified', 'job:modified', 'job:modified', 'job:modified', 'job:removed'])
    t.same((await scheduler.getJobs()).map((j) => j.id), ['every5m'])
  })

  t.test(`${db.name}: bad input is refused with the field named, and nothing is written`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'bad_input')
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    const trigger = { type: 'interval' as const, seconds: 5 }
    const cases: Array<[string, unknown, RegExp]> = [
      ['unknown task', { id: 'a', task: 'ghost', trigger }, /task 'ghost' is not registered; register it with app\.scheduler\.registerTask/],
      ['empty id', { id: '', task: 'work', trigger }, /invalid job: id: must be a non-empty string/],
      ['control characters in id', { id: 'a\nb', task: 'work', trigger }, /id: must not contain control characters/],
      ['long id', { id: 'x'.repeat(201), task: 'work', trigger }, /id: must be at most 200 characters/],
      ['args not an array', { id: 'a', task: 'work', trigger, args: { a: 1 } }, /args: must be a JSON array/],
      ['args with a function', { id: 'a', task: 'work', trigger, args: [() => 1] }, /args: must hold JSON values only/],
      ['args with a Date', { id: 'a', task: 'work', trigger, args: [new Date()] }, /args: must hold JSON values only/],
      ['bad maxInstances', { id: 'a', task: 'work', trigger, maxInstances: 0 }, /maxInstances: must be a positive integer/],
      ['huge maxInstances', { id: 'a', task: 'work', trigger, maxInstances: 2 ** 31 }, /maxInstances: must be a positive integer up to 2147483647/],
      ['huge misfireGraceTime', { id: 'a', task: 'work', trigger, misfireGraceTime: 2 ** 40 }, /misfireGraceTime: .* up to 2147483647/],
      ['NUL in an args key', { id: 'a', task: 'work', trigger, args: [{ 'k\u0000': 1 }] }, /args: must not contain the NUL character/],
      ['NUL in an args string', { id: 'a', task: 'work', trigger, args: [['a\u0000b']] }, /args: must not contain the NUL character/],
      ['bad misfireGraceTime', { id: 'a', task: 'work', trigger, misfireGraceTime: -1 }, /misfireGraceTime: must be null \(always run\) or a positive whole number of seconds/],
      ['bad timeoutMs', { id: 'a', task: 'work', trigger, timeoutMs: 1.5 }, /timeoutMs: must be null/],
      ['unknown field', { id: 'a', task: 'work', trigger, retries: 3 }, /retries: is not a job field/],
      ['bad trigger', { id: 'a', task: 'work', trigger: { type: 'interval', seconds: -5 } }, /invalid trigger/],
      ['no fire time left', { id: 'a', task: 'work', trigger: { type: 'cron', expression: '* * * * *', endDate: '2000-01-01T00:00:00Z' } }, /job 'a' would never fire: its trigger has no fire time after/]
    ]
    for (const [what, definition, message] of cases) {
      await t.rejects(scheduler.addJob(definition as never), { message }, what)
    }
    await t.rejects(scheduler.addJobs([{ id: 'ok', task: 'work', trigger }, { id: 'bad', task: 'work', trigger: { type: 'cron', expression: '61 * * * *' } }]), { code: 'FST_SCHEDULER_INVALID_TRIGGER' })
    await scheduler.addJob({ id: 'exists', task: 'work', trigger })
    await t.rejects(scheduler.addJobs([{ id: 'new', task: 'work', trigger }, { id: 'exists', task: 'work', trigger }]), { code: 'FST_SCHEDULER_CONFLICTING_ID' })
    await t.rejects(scheduler.modifyJob('exists', { trigger: { type: 'cron', fields: { hour: 24 } } }), { message: /hour/ })
    await t.rejects(scheduler.modifyJob('exists', { id: 'other' } as never), { message: /id: cannot be changed/ })
    const rows = await db.query(url, 'select id, version from scheduler_job')
    t.same(rows, [{ id: 'exists', version: 1 }], 'only the one valid job exists, unchanged')
  })

  t.test(`${db.name}: a stored job whose task is not registered is flagged and kept, then runs once its task is registered`, async (t) => {
    const clock = new FakeClock(at(-1))
    // A short heartbeat: the leader takes a task as missing only once the node registry has settled
    // (two heartbeats after its first read); until then a due run is queued for a worker that may have it.
    const first = await schedulerOn(db, t, 'unknown_task', { clock: clock.now, nodeHeartbeatMs: 100 })
    first.scheduler.registerTask('sentinel', async () => {})
    await first.scheduler.start()
    await first.scheduler.addJob({ id: 'sentinel', task: 'sentinel', trigger: { type: 'date', runDate: T0 } })
    await db.query(first.url, `insert into scheduler_job (id, name, task, ${TRIGGER_COLUMN[db.name]}, next_run_time)
      values ('orphan', 'orphan', 'reports.gone', '{"type":"interval","seconds":60,"startDate":"${T0}"}', ?)`, [at(0)])
    const sentinel = first.scheduler.once('job:executed')
    clock.set(at(0)); first.scheduler.wakeup()
    await sentinel
    // Each wake-up moves the clock one occurrence on, until a claim after the registry settled flags the job.
    let minute = 0
    const orphan = await waitUntil('the orphan is flagged', async () => {
      const job = await first.scheduler.getJob('orphan')
      if (job?.lastError !== null) return job
      clock.set(at(60 * ++minute)); first.scheduler.wakeup()
      return undefined
    }, 20_000)
    t.match(orphan?.lastError, /task 'reports\.gone' is not registered on any live process that runs jobs/)
    const flaggedAt = orphan?.nextRunTime?.getTime() as number
    t.ok(flaggedAt <= at(60 * minute).getTime(), 'flagged at a due occurrence')
    clock.set(at(60 * (minute + 5)))
    const claimed = first.scheduler.once('scheduler:claimed')
    first.scheduler.wakeup()
    await claimed
    t.equal((await first.scheduler.getJob('orphan'))?.nextRunTime?.getTime(), flaggedAt, 'the flagged job keeps its schedule: it is not claimed again')
    const statuses = (await first.scheduler.getExecutions({ jobId: 'orphan' })).map((execution) => execution.status)
    t.ok(statuses.every((status) => status === 'queued' || status === 'max_instances'), `nothing ran (${statuses.join(', ') || 'no rows'})`)
    await first.scheduler.shutdown()

    const second = await schedulerOn(db, t, 'unknown_task', { clock: clock.now }, first.url)
    const ran = second.scheduler.once('job:executed', ({ jobId }) => jobId === 'orphan')
    second.scheduler.registerTask('reports.gone', async () => {})
    await second.scheduler.start()
    await ran
    t.equal((await second.scheduler.getJob('orphan'))?.lastError, null, 'the flag is cleared at start once the task exists')
  })

  t.test(`${db.name}: a stored trigger that cannot be loaded flags the job instead of guessing`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler, url } = await schedulerOn(db, t, 'bad_stored_trigger', { clock: clock.now })
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    await scheduler.addJob({ id: 'sentinel', task: 'work', trigger: { type: 'date', runDate: T0 } })
    await db.query(url, `insert into scheduler_job (id, name, task, ${TRIGGER_COLUMN[db.name]}, next_run_time)
      values ('broken', 'broken', 'work', '{"type":"weekly"}', ?)`, [at(0)])
    const sentinel = scheduler.once('job:executed')
    clock.set(at(0)); scheduler.wakeup()
    await sentinel
    t.match((await scheduler.getJob('broken'))?.lastError, /stored trigger cannot be loaded: .*fix it with rescheduleJob/)
    const fixed = await scheduler.rescheduleJob('broken', { type: 'interval', seconds: 30 })
    t.equal(fixed.lastError, null, 'rescheduling clears the flag')
  })

  t.test(`${db.name}: paused jobs are not claimed`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler } = await schedulerOn(db, t, 'paused', { clock: clock.now })
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    await scheduler.addJob({ id: 'paused', task: 'work', trigger: { type: 'date', runDate: T0 }, paused: true })
    await scheduler.addJob({ id: 'sentinel', task: 'work', trigger: { type: 'date', runDate: T0 } })
    const sentinel = scheduler.once('job:executed')
    clock.set(at(0)); scheduler.wakeup()
    await sentinel
    t.same(await scheduler.getExecutions({ jobId: 'paused' }), [])
  })

  t.test(`${db.name}: deleteOldExecutions removes finished history older than the age`, async (t) => {
    const clock = new FakeClock(at(0))
    const { scheduler, url } = await schedulerOn(db, t, 'cleanup', { clock: clock.now })
    scheduler.registerTask('work', async () => {})
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 3600 } })
    await db.query(url, `insert into scheduler_job_execution (job_id, run_time, status) values
      ('job', ?, 'success'), ('job', ?, 'error'), ('job', ?, 'success'), ('job', ?, 'running')`,
    [at(-7200), at(-3601), at(-10), at(-7000)])
    t.equal(await scheduler.deleteOldExecutions(3600), 2)
    const left = await db.query<{ status: string }>(url, 'select status from scheduler_job_execution order by run_time')
    t.same(left.map((row) => row.status), ['running', 'success'], 'running rows are never deleted')
    await t.rejects(scheduler.deleteOldExecutions(-1), { message: /maxAgeSeconds/ })
  })

  t.test(`${db.name}: a job added in another process wakes this scheduler (NOTIFY; on MariaDB the polled change counter)`, async (t) => {
    const leader = await schedulerOn(db, t, 'notify', { pollIntervalMs: 30_000 })
    leader.scheduler.registerTask('work', async () => {})
    await leader.scheduler.start()
    await waitUntil('leadership', () => leader.scheduler.status().isLeader)
    const other = await schedulerOn(db, t, 'notify', { pollIntervalMs: 30_000 }, leader.url)
    other.scheduler.registerTask('work', async () => {})
    await other.scheduler.start()
    const executed = leader.scheduler.once('job:executed')
    await other.scheduler.addJob({ id: 'soon', task: 'work', trigger: { type: 'cron', expression: '* * * * * *' } })
    const { execution } = await executed
    t.equal(execution.jobId, 'soon', 'the leader ran a job added by the standby, long before its 30 s poll')
    t.equal(other.scheduler.status().isLeader, false)
  })
}
