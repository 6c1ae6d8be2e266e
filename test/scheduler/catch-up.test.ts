/**
 * Catch-up with `coalesce: false` and `maxInstances: 1`: after a gap, every overdue occurrence
 * runs, in order, one after another inside the one instance, each with its own execution row and
 * its own handler call (APScheduler `BaseExecutor.submit_job` / `run_job`). `maxInstances` is
 * about overlap, not catch-up. The handler keeps its own ledger of calls, independent of the table.
 */
import t from 'tap'
import { FakeClock } from '../helpers/clock.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const T0 = '2026-11-21T10:00:00.000Z'
const at = (seconds: number): Date => new Date(Date.parse(T0) + seconds * 1000)

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: overdue occurrences run in order inside one instance, each with its own row`, async (t) => {
    const clock = new FakeClock(at(-0.5))
    const { scheduler } = await schedulerOn(db, t, 'catch_up', { clock: clock.now })
    const ledger: string[] = []
    let running = 0
    let mostAtOnce = 0
    scheduler.registerTask('work', async (ctx) => {
      running++
      mostAtOnce = Math.max(mostAtOnce, running)
      ledger.push(ctx.runTime.toISOString())
      await new Promise((resolve) => setImmediate(resolve))
      running--
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'work', coalesce: false, maxInstances: 1, trigger: { type: 'interval', seconds: 1, startDate: T0 } })
    // A gap: the scheduler next claims 4.5 s later, with the occurrences at 0, 1, 2, 3 and 4 s overdue.
    clock.set(at(4.5)); scheduler.wakeup()
    const expected = [0, 1, 2, 3, 4].map((second) => at(second).toISOString())
    const rows = await waitUntil('five finished rows', async () => {
      const executions = await scheduler.getExecutions({ jobId: 'job' })
      return executions.length >= 5 && executions.every((row) => row.status !== 'running') ? executions : undefined
    }, 15_000)
    t.same(ledger, expected, 'the handler ran once per overdue occurrence, in run-time order')
    t.equal(mostAtOnce, 1, 'never two at once: one instance')
    t.same(rows.map((row) => `${row.runTime.toISOString()} ${row.status}`).sort(), expected.map((runTime) => `${runTime} success`), 'one success row per occurrence, none max_instances')
  })

  t.test(`${db.name}: with its instance busy, a catch-up batch is recorded max_instances`, async (t) => {
    const clock = new FakeClock(at(-0.5))
    const { scheduler } = await schedulerOn(db, t, 'catch_up_busy', { clock: clock.now })
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const ledger: string[] = []
    scheduler.registerTask('work', async (ctx) => { ledger.push(ctx.runTime.toISOString()); await held })
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'work', coalesce: false, maxInstances: 1, trigger: { type: 'interval', seconds: 1, startDate: T0 } })
    clock.set(at(0)); scheduler.wakeup()
    await waitUntil('the first occurrence running', () => ledger.length === 1, 10_000)
    clock.set(at(3.5)); scheduler.wakeup()
    const rows = await waitUntil('three max_instances rows', async () => {
      const skipped = await scheduler.getExecutions({ jobId: 'job', status: 'max_instances' })
      return skipped.length === 3 ? skipped : undefined
    }, 10_000)
    t.same(rows.map((row) => row.runTime.toISOString()).sort(), [1, 2, 3].map((second) => at(second).toISOString()))
    release()
    t.same(ledger, [at(0).toISOString()], 'only the running occurrence ran')
  })
}
