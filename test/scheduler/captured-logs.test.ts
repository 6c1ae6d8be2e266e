/**
 * Captured logs through real executions on PostgreSQL and MariaDB: what a handler logs through `ctx.log` is
 * stored with its execution (read back from the table itself), `captureLogs: false` on a job (or in
 * `jobDefaults`) stores none, and the option is a stored job field that `modifyJob` changes.
 */
import t from 'tap'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'

type Logs = Array<{ level: string, msg: string, fields: Record<string, unknown> }>
const logsOf = async (db: TestDatabase, url: string, id: number): Promise<Logs | null> =>
  (await db.query<{ logs: Logs | null }>(url, 'select logs from scheduler_job_execution where id = ?', [id]))[0]?.logs ?? null

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: the lines a handler logs are stored with its execution; captureLogs: false stores none`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'captured_logs')
    scheduler.registerTask('export', async (ctx, region: string) => {
      ctx.log.info({ region }, 'exporting %s', region)
      ctx.log.child({ step: 'upload' }).warn('slow upload: %d ms', 1200)
      return 'ok'
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'captured', task: 'export', args: ['eu'], trigger: { type: 'interval', hours: 1 } })
    await scheduler.addJob({ id: 'quiet', task: 'export', args: ['us'], captureLogs: false, trigger: { type: 'interval', hours: 1 } })
    t.equal((await scheduler.getJob('captured'))?.captureLogs, true, 'default: captured')
    t.equal((await scheduler.getJob('quiet'))?.captureLogs, false)

    const captured = await scheduler.waitForExecution((await scheduler.runJob('captured', { inProcess: true })).id)
    t.same((await logsOf(db, url, captured.id))?.map(({ level, msg, fields }) => ({ level, msg, fields })), [
      { level: 'info', msg: 'exporting eu', fields: { region: 'eu' } },
      { level: 'warn', msg: 'slow upload: 1200 ms', fields: { step: 'upload' } }
    ], 'both lines, in order, from the table')
    t.same(captured.logs?.map((line) => line.msg), ['exporting eu', 'slow upload: 1200 ms'], 'and in the record')

    const quiet = await scheduler.waitForExecution((await scheduler.runJob('quiet', { inProcess: true })).id)
    t.equal(await logsOf(db, url, quiet.id), null, 'captureLogs: false: no logs')
    t.equal(quiet.result, 'ok', 'the run itself is unchanged')

    await scheduler.modifyJob('quiet', { captureLogs: true })
    const now = await scheduler.waitForExecution((await scheduler.runJob('quiet', { inProcess: true })).id)
    t.same((await logsOf(db, url, now.id))?.map((line) => line.msg), ['exporting us', 'slow upload: 1200 ms'], 'modifyJob turned capture on')
  })

  t.test(`${db.name}: jobDefaults.captureLogs: false turns capture off for every job that does not say otherwise`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'captured_logs_off', { jobDefaults: { captureLogs: false } })
    scheduler.registerTask('talk', async (ctx) => { ctx.log.info('hello') })
    await scheduler.start()
    await scheduler.addJob({ id: 'default', task: 'talk', trigger: { type: 'interval', hours: 1 } })
    await scheduler.addJob({ id: 'opted-in', task: 'talk', captureLogs: true, trigger: { type: 'interval', hours: 1 } })
    const off = await scheduler.waitForExecution((await scheduler.runJob('default', { inProcess: true })).id)
    const on = await scheduler.waitForExecution((await scheduler.runJob('opted-in', { inProcess: true })).id)
    t.equal(await logsOf(db, url, off.id), null)
    t.same((await logsOf(db, url, on.id))?.map((line) => line.msg), ['hello'])
  })
}
