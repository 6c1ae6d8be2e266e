/**
 * The audit trail through the scheduler API on real PostgreSQL and MariaDB: every job method records its
 * action with the caller's `{ actor }` (default 'code'), the start-up sync of jobs declared in code
 * records 'code', a refused change records nothing, a failed audit write never fails the change,
 * and `deleteOldAudit` prunes by age.
 */
import t from 'tap'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'

const every = { type: 'interval', minutes: 10 } as const

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: every job method records its action, job, actor and changed fields`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'audit_api')
    scheduler.registerTask('work', async () => {})
    await scheduler.start()

    await scheduler.addJob({ id: 'a', task: 'work', trigger: every }, { actor: 'alice' })
    await scheduler.addJobs([{ id: 'b', task: 'work', trigger: every }, { id: 'c', task: 'work', trigger: every }])
    await scheduler.modifyJob('a', { name: 'Report', args: [1] }, { actor: 'bob' })
    await scheduler.rescheduleJob('a', { type: 'interval', hours: 1 }, { actor: 'bob' })
    await scheduler.pauseJob('a', { actor: 'carol' })
    await scheduler.resumeJob('a', { actor: 'carol' })
    const queued = await scheduler.runJob('a', { actor: 'dave' })
    const started = await scheduler.runJob('b', { inProcess: true, actor: 'dave' })
    await scheduler.addJob({ id: 'a', task: 'work', trigger: every, name: 'Replaced' }, { replaceExisting: true, actor: 'erin' })
    await scheduler.removeJob('c', { actor: 'frank' })

    const rows = await scheduler.getAudit()
    t.same(rows.map((row) => [row.action, row.jobId, row.actor]).reverse(), [
      ['added', 'a', 'alice'],
      ['added', 'b', 'code'],
      ['added', 'c', 'code'],
      ['modified', 'a', 'bob'],
      ['rescheduled', 'a', 'bob'],
      ['paused', 'a', 'carol'],
      ['resumed', 'a', 'carol'],
      ['run', 'a', 'dave'],
      ['run', 'b', 'dave'],
      ['modified', 'a', 'erin'],
      ['removed', 'c', 'frank']
    ], 'one row per change, in order, with its actor (code calls without { actor } record "code")')
    const of = (action: string, jobId: string) => rows.find((row) => row.action === action && row.jobId === jobId)
    t.same(of('modified', 'a')?.changes.name, { before: 'Report', after: 'Replaced' }, 'replaceExisting records the replaced fields')
    const modified = rows.filter((row) => row.action === 'modified' && row.actor === 'bob')[0]
    t.same(modified?.changes.name, { before: 'a', after: 'Report' })
    t.same(modified?.changes.args, { before: [], after: [1] })
    const rescheduled = of('rescheduled', 'a')
    t.match(rescheduled?.changes.trigger, { before: { minutes: 10 }, after: { type: 'interval', hours: 1, version: 1 } }, 'the old and new trigger, as stored')
    t.ok('nextRunTime' in (rescheduled?.changes ?? {}), 'and the next run time it moved')
    t.same(of('paused', 'a')?.changes, { paused: { before: false, after: true } })
    t.same(of('resumed', 'a')?.changes.paused, { before: true, after: false })
    t.same(of('run', 'a')?.changes, { executionId: { before: null, after: queued.id } })
    t.same(of('run', 'b')?.changes, { executionId: { before: null, after: started.id } })
    t.match(of('removed', 'c')?.changes, { task: { before: 'work', after: null } })

    t.same((await scheduler.getAudit({ jobId: 'a', actor: 'carol' })).map((row) => row.action), ['resumed', 'paused'])
    t.equal(await scheduler.countAudit({ jobId: 'a' }), 7)
  })

  t.test(`${db.name}: refused changes record nothing; a bad actor is refused before anything is written`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'audit_refused')
    scheduler.registerTask('work', async () => {})
    await scheduler.addJob({ id: 'a', task: 'work', trigger: every })
    await t.rejects(scheduler.addJob({ id: 'a', task: 'work', trigger: every }), { code: 'FST_SCHEDULER_CONFLICTING_ID' })
    await t.rejects(scheduler.pauseJob('ghost'), { code: 'FST_SCHEDULER_JOB_NOT_FOUND' })
    await t.rejects(scheduler.removeJob('ghost'), { code: 'FST_SCHEDULER_JOB_NOT_FOUND' })
    await t.rejects(scheduler.runJob('ghost'), { code: 'FST_SCHEDULER_JOB_NOT_FOUND' })
    await t.rejects(scheduler.modifyJob('a', { maxInstances: 0 }), { code: 'FST_SCHEDULER_INVALID_JOB' })
    for (const actor of ['', '   ', 42, null]) {
      await t.rejects(scheduler.pauseJob('a', { actor } as never), { code: 'FST_SCHEDULER_INVALID_JOB', message: /actor/ }, `actor ${JSON.stringify(actor)}`)
    }
    t.equal((await scheduler.getJob('a'))?.paused, false, 'nothing was written')
    t.same((await scheduler.getAudit()).map((row) => row.action), ['added'])
  })

  t.test(`${db.name}: jobs declared in code are recorded at start with actor "code"`, async (t) => {
    const { scheduler, orm } = await schedulerOn(db, t, 'audit_code_jobs')
    scheduler.registerJob({ id: 'nightly', trigger: { type: 'cron', expression: '0 3 * * *' } }, async () => {})
    await scheduler.start()
    t.same((await scheduler.getAudit()).map((row) => [row.action, row.jobId, row.actor]), [['added', 'nightly', 'code']])
    await scheduler.shutdown()

    // A later start with a changed trigger reschedules it, recorded as such.
    const again = new (scheduler.constructor as typeof import('../../src/scheduler/scheduler.js').Scheduler)({ store: scheduler.options.store, orm, pollIntervalMs: 30_000 })
    again.registerJob({ id: 'nightly', trigger: { type: 'cron', expression: '0 4 * * *' } }, async () => {})
    t.teardown(async () => again.shutdown())
    await again.start()
    const [latest] = await again.getAudit({ limit: 1 })
    t.match(latest, { action: 'rescheduled', jobId: 'nightly', actor: 'code', changes: { trigger: { before: { expression: '0 3 * * *' }, after: { expression: '0 4 * * *' } } } })
  })

  t.test(`${db.name}: a failed audit write never fails the change: it is logged and emitted as scheduler:error`, async (t) => {
    const warnings: unknown[] = []
    const log = { trace () {}, debug () {}, info () {}, error () {}, warn (obj: unknown) { warnings.push(obj) }, child () { return log } }
    const { scheduler, url } = await schedulerOn(db, t, 'audit_failure', { log: log as never })
    scheduler.registerTask('work', async () => {})
    await scheduler.addJob({ id: 'a', task: 'work', trigger: every })
    await db.query(url, 'DROP TABLE scheduler_audit')
    const errors: Array<{ during: string }> = []
    scheduler.on('scheduler:error', (event) => errors.push(event))
    const paused = await scheduler.pauseJob('a', { actor: 'alice' })
    t.equal(paused.paused, true, 'the change was made')
    t.equal((await scheduler.getJob('a'))?.paused, true, 'and committed')
    t.same(errors.map((event) => event.during), ['audit'])
    t.equal(warnings.length, 1, 'one warning logged')
  })

  t.test(`${db.name}: deleteOldAudit deletes rows older than the age by the database clock; bad ages are refused`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'audit_retention')
    scheduler.registerTask('work', async () => {})
    await scheduler.addJob({ id: 'a', task: 'work', trigger: every })
    await scheduler.pauseJob('a')
    const twoDaysAgo = { postgresql: "now() - interval '2 days'", mariadb: 'UTC_TIMESTAMP(3) - INTERVAL 2 DAY' }[db.name]
    await db.query(url, `UPDATE scheduler_audit SET at = ${twoDaysAgo} WHERE action = 'added'`)
    t.equal(await scheduler.deleteOldAudit(86_400), 1, 'the two-day-old row')
    t.same((await scheduler.getAudit()).map((row) => row.action), ['paused'])
    t.equal(await scheduler.deleteOldAudit(86_400), 0)
    for (const age of [-1, Number.NaN, Infinity, '5']) {
      await t.rejects(scheduler.deleteOldAudit(age as never), { code: 'FST_SCHEDULER_INVALID_JOB' }, `age ${String(age)}`)
    }
  })
}
