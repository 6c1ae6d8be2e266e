/**
 * Executions: handler context, outcomes (success, error, timeout), max instances, concurrency,
 * run-now, and graceful shutdown, on PostgreSQL and MariaDB.
 */
import t from 'tap'
import { FakeClock } from '../helpers/clock.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const T0 = '2026-11-21T10:00:00.000Z'
const at = (seconds: number): Date => new Date(Date.parse(T0) + seconds * 1000)

/** A promise with its resolve function, to hold a handler until the test releases it. */
function gate (): { promise: Promise<void>, open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: ctx.log and ctx.signal stay assignable, as plain properties (a wrapper replacing them)`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler } = await schedulerOn(db, t, 'ctxset', { clock: clock.now })
    const replacement = new AbortController().signal
    let kept: { log: boolean, signal: boolean } | undefined
    scheduler.registerTask('wrapped', async (ctx) => {
      const child = ctx.log.child({ step: 'wrapped' })
      ctx.log = child
      ctx.signal = replacement
      kept = { log: ctx.log === child, signal: ctx.signal === replacement }
      ctx.log.info('through the replaced logger')
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'wrapped', trigger: { type: 'date', runDate: T0 } })
    // Whichever comes first: a handler that threw on the assignment is recorded as an error.
    const ended = Promise.race([scheduler.once('job:executed'), scheduler.once('job:error')])
    clock.set(at(0))
    scheduler.wakeup()
    const { execution } = await ended
    t.equal(execution.status, 'success', `assigning ctx.log and ctx.signal does not throw (${execution.exception ?? 'no exception'})`)
    t.same(kept, { log: true, signal: true }, 'the handler reads back what it assigned')
  })

  t.test(`${db.name}: the handler gets ctx and the args, and success is recorded with timings`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler, orm } = await schedulerOn(db, t, 'ctx', { clock: clock.now })
    let seen: { args: unknown[], runTime: Date, executionId: number, aborted: boolean, forked: boolean, jobId: string } | undefined
    let sameSignal = false
    scheduler.registerTask('work', async (ctx, ...args) => {
      seen = { args, runTime: ctx.runTime, executionId: ctx.executionId, aborted: ctx.signal.aborted, forked: ctx.em !== orm.em && ctx.em.id !== orm.em.id, jobId: ctx.job.id }
      sameSignal = ctx.signal === ctx.signal
      ctx.log.info('inside the handler')
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'work', args: [1, 'two', { three: 3 }], trigger: { type: 'date', runDate: T0 } })
    const executed = scheduler.once('job:executed')
    clock.set(at(0))
    scheduler.wakeup()
    const { execution } = await executed
    t.same(seen?.args, [1, 'two', { three: 3 }])
    t.equal(seen?.runTime.toISOString(), T0)
    t.equal(seen?.executionId, execution.id)
    t.equal(seen?.aborted, false)
    t.equal(seen?.forked, true, 'ctx.em is a fork, not the global EntityManager')
    t.equal(seen?.jobId, 'job')
    t.equal(execution.status, 'success')
    t.equal(sameSignal, true, 'ctx.signal is the same object on every read')
    t.equal(execution.owner, scheduler.nodeId)
    t.equal(execution.leaseUntil, null, 'a finished execution holds no lease')
    t.ok(execution.durationMs !== null && execution.durationMs >= 0)
    const span = (execution.finishedAt as Date).getTime() - (execution.startedAt as Date).getTime()
    t.ok(Math.abs(span - (execution.durationMs as number)) <= 1, `startedAt = finishedAt - durationMs (${span} vs ${execution.durationMs})`)
  })

  t.test(`${db.name}: a throw becomes an error execution with message and traceback; non-Errors too`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'errors')
    scheduler.registerTask('boom', async () => { throw new TypeError('bad thing') })
    scheduler.registerTask('string', () => { throw 'just a string' }) // eslint-disable-line no-throw-literal
    scheduler.registerTask('huge', async () => { throw new Error('x'.repeat(1_000_000)) })
    await scheduler.start()
    for (const task of ['boom', 'string', 'huge']) await scheduler.addJob({ id: task, task, trigger: { type: 'interval', seconds: 3600 } })
    const errors = new Map<string, { exception: string | null, traceback: string | null }>()
    const done = new Promise<void>((resolve) => scheduler.on('job:error', ({ jobId, execution }) => {
      errors.set(jobId, execution)
      if (errors.size === 3) resolve()
    }))
    for (const task of ['boom', 'string', 'huge']) await scheduler.runJob(task)
    await done
    t.equal(errors.get('boom')?.exception, 'TypeError: bad thing')
    t.match(errors.get('boom')?.traceback, /TypeError: bad thing\n\s+at /)
    t.equal(errors.get('string')?.exception, 'non-Error thrown: "just a string"')
    t.equal(errors.get('string')?.traceback, null)
    const huge = errors.get('huge')?.exception as string
    t.ok(huge.length < 70_000, `a 1 MB message is stored truncated (${huge.length} chars)`)
    t.match(huge, /\[truncated: 1000007 characters in all, first 65536 kept\]$/)
  })

  t.test(`${db.name}: timeoutMs aborts the signal and records timeout`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'timeout')
    let abortReason: unknown
    scheduler.registerTask('slow', async (ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => { abortReason = ctx.signal.reason; resolve() }))
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'slow', task: 'slow', trigger: { type: 'interval', seconds: 3600 }, timeoutMs: 50 })
    const failed = scheduler.once('job:error')
    await scheduler.runJob('slow')
    const { execution } = await failed
    t.equal(execution.status, 'timeout')
    t.match(execution.exception, /timeoutMs \(50 ms\)/)
    t.match(String(abortReason), /timed out after 50 ms/)
  })

  t.test(`${db.name}: max instances is counted cluster-wide from running rows, and frees up when they finish`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler, url } = await schedulerOn(db, t, 'max_instances', { clock: clock.now })
    const hold = gate()
    let started = 0
    scheduler.registerTask('hold', async () => { started++; await hold.promise })
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'hold', trigger: { type: 'interval', seconds: 1, startDate: T0 }, maxInstances: 2 })
    const submitted = (n: number): Promise<unknown> => waitUntil(`${n} submissions`, () => started >= n)
    clock.set(at(0)); scheduler.wakeup(); await submitted(1)
    clock.set(at(1)); scheduler.wakeup(); await submitted(2)
    const skipped = scheduler.once('job:max_instances')
    clock.set(at(2)); scheduler.wakeup()
    const { execution } = await skipped
    t.equal(execution.runTime.toISOString(), at(2).toISOString())
    t.equal(started, 2, 'the third occurrence did not start')
    hold.open()
    await waitUntil('both running executions finished', async () => (await db.query(url, "select 1 from scheduler_job_execution where status = 'running'")).length === 0)
    clock.set(at(3)); scheduler.wakeup()
    await submitted(3)
    t.pass('a slot freed by finished executions is used again')
    const statuses = await db.query<{ status: string }>(url, 'select status from scheduler_job_execution order by run_time')
    t.same(statuses.map((row) => row.status).slice(0, 3), ['success', 'success', 'max_instances'])
  })

  t.test(`${db.name}: maxConcurrency bounds handlers running at once in the process`, async (t) => {
    const clock = new FakeClock(at(-1))
    const { scheduler, url } = await schedulerOn(db, t, 'concurrency', { maxConcurrency: 2, clock: clock.now })
    const hold = gate()
    let running = 0
    let peak = 0
    scheduler.registerTask('hold', async () => {
      running++; peak = Math.max(peak, running)
      await hold.promise
      running--
    })
    await scheduler.start()
    await scheduler.addJobs(Array.from({ length: 5 }, (_, i) => ({ id: `job${i}`, task: 'hold', trigger: { type: 'interval' as const, seconds: 3600, startDate: T0 } })))
    clock.set(at(0))
    scheduler.wakeup()
    await waitUntil('two handlers running', () => running === 2)
    const rows = await db.query<{ status: string, count: number | string }>(url, 'select status, count(*) as count from scheduler_job_execution group by status order by status')
    t.same(rows.map((row) => ({ status: row.status, count: Number(row.count) })), [{ status: 'queued', count: 3 }, { status: 'running', count: 2 }], 'planning does not wait for slots: two start here, three wait queued')
    hold.open()
    await waitUntil('all five ran', async () => (await db.query(url, "select 1 from scheduler_job_execution where status = 'success'")).length === 5)
    t.equal(peak, 2)
  })

  t.test(`${db.name}: runJob queues a run for the leader without moving the schedule; a full job answers max_instances`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'run_now')
    const hold = gate()
    scheduler.registerTask('hold', async () => hold.promise)
    await scheduler.start()
    const job = await scheduler.addJob({ id: 'job', task: 'hold', trigger: { type: 'cron', expression: '0 0 1 1 *' } })
    const submitted = scheduler.once('job:submitted')
    const first = await scheduler.runJob('job')
    t.equal(first.status, 'queued', 'runJob returns at once with the queued execution')
    t.equal((await submitted).executionId, first.id, 'the leader started it')
    const second = await scheduler.runJob('job')
    const refused = await scheduler.waitForExecution(second.id, { timeoutMs: 10_000 })
    t.equal(refused.status, 'max_instances', 'maxInstances 1 is taken by the first run')
    t.same((await scheduler.getJob('job'))?.nextRunTime, job.nextRunTime, 'next run time unchanged')
    await t.rejects(scheduler.waitForExecution(first.id, { timeoutMs: 50 }), { code: 'FST_SCHEDULER_WAIT_TIMEOUT', statusCode: 504, message: /did not finish within 50 ms \(it is still running\)/ })
    hold.open()
    t.equal((await scheduler.waitForExecution(first.id)).status, 'success')
    await t.rejects(scheduler.runJob('nope'), { code: 'FST_SCHEDULER_JOB_NOT_FOUND', statusCode: 404 })
    await t.rejects(scheduler.waitForExecution(987654), { code: 'FST_SCHEDULER_EXECUTION_NOT_FOUND', statusCode: 404 })
  })

  t.test(`${db.name}: runJob inProcess runs in this process at once`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'run_in_process')
    const hold = gate()
    scheduler.registerTask('hold', async () => hold.promise)
    await t.rejects(scheduler.runJob('job', { inProcess: true }), { code: 'FST_SCHEDULER_STATE' }, 'needs a started scheduler')
    await scheduler.start()
    await scheduler.addJob({ id: 'job', task: 'hold', trigger: { type: 'cron', expression: '0 0 1 1 *' } })
    const first = await scheduler.runJob('job', { inProcess: true })
    t.equal(first.status, 'running')
    t.equal(first.owner, scheduler.nodeId)
    t.equal((await scheduler.runJob('job', { inProcess: true })).status, 'max_instances')
    hold.open()
    t.equal((await scheduler.waitForExecution(first.id)).status, 'success')
  })

  t.test(`${db.name}: a queued run of a job removed before it started is abandoned`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'run_removed')
    scheduler.registerTask('work', async () => {})
    await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'cron', expression: '0 0 1 1 *' } })
    const queued = await scheduler.runJob('job')
    t.equal(queued.status, 'queued', 'a scheduler that is not started can still queue a run')
    await scheduler.removeJob('job')
    await scheduler.start()
    const done = await scheduler.waitForExecution(queued.id)
    t.equal(done.status, 'abandoned')
    t.equal(done.exception, 'the job was removed before its queued run started')
  })

  t.test(`${db.name}: shutdown waits for running executions, then cuts off the rest as abandoned`, async (t) => {
    const { scheduler } = await schedulerOn(db, t, 'shutdown', { shutdownTimeoutMs: 100 })
    let aborted = false
    scheduler.registerTask('quick', async () => {})
    scheduler.registerTask('stuck', async (ctx) => { await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => { aborted = true; resolve() })) })
    await scheduler.start()
    await scheduler.addJob({ id: 'stuck', task: 'stuck', trigger: { type: 'interval', seconds: 3600 } })
    const execution = await scheduler.runJob('stuck', { inProcess: true })
    const cutOff = scheduler.once('job:abandoned')
    await scheduler.shutdown()
    const event = await cutOff
    t.equal(event.execution.id, execution.id)
    t.equal(event.execution.status, 'abandoned')
    t.match(event.execution.exception, /shutdownTimeoutMs \(100 ms\)/)
    t.equal(aborted, true, 'the signal was aborted')
    t.equal(scheduler.running, false)
  })
}
