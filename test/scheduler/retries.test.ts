/**
 * Retries through real executions on PostgreSQL and MariaDB, driven by an injected clock and a
 * fixed random source: how many attempts run and when (expected delays are arithmetic on the policy, read
 * against the rows' own finished_at and next_attempt_at), the cap of exponential backoff, jitter,
 * and retries versus pause, removal, maxInstances and timeouts. Every handler call is counted in a
 * ledger the handler writes itself, so the number of attempts is not the scheduler's word.
 */
import t from 'tap'
import type { Scheduler } from '../../src/scheduler/scheduler.js'
import type { TaskContext } from '../../src/types.js'
import { FakeClock } from '../helpers/clock.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const T0 = '2031-03-01T12:00:00.000Z'
const at = (seconds: number): Date => new Date(Date.parse(T0) + seconds * 1000)
const HOURLY = { type: 'interval', hours: 1 } as const

interface Row { attempt: number, status: string, run_time: Date, finished_at: Date | null, next_attempt_at: Date | null, start_after: Date | null, exception: string | null }

const rowsOf = async (db: TestDatabase, url: string, jobId: string): Promise<Row[]> => db.query<Row>(url,
  'select attempt, status, run_time, finished_at, next_attempt_at, start_after, exception from scheduler_job_execution where job_id = ? order by attempt', [jobId])

/** A handler that fails and records each call (attempt, run time) in `ledger`. */
function failing (ledger: Array<{ attempt: number, runTime: number }>) {
  return async (ctx: TaskContext) => {
    ledger.push({ attempt: ctx.attempt, runTime: ctx.runTime.getTime() })
    throw new Error(`attempt ${ctx.attempt} failed`)
  }
}

/** Moves the clock and wakes the leader, then waits for `attempt` of `jobId` to have ended. */
async function runAttempt (db: TestDatabase, scheduler: Scheduler, url: string, clock: FakeClock, jobId: string, attempt: number, to: Date): Promise<Row> {
  clock.set(to)
  scheduler.wakeup()
  return waitUntil(`attempt ${attempt} of ${jobId} ended`, async () =>
    (await rowsOf(db, url, jobId)).find((row) => row.attempt === attempt && !['queued', 'running'].includes(row.status)))
}

/**
 * A started scheduler (fake clock at 0 s, no jitter) with job `id` of an always-failing task, retried
 * up to `attempts` with 1 s between attempts, whose first attempt has run (and failed) at 0 s. Its
 * trigger fires once a year (1 January), so no scheduled occurrence falls due during a test, not
 * even after `resumeJob` (an interval without `startDate` would be due again at once).
 */
async function firstAttemptFailed (db: TestDatabase, t: { teardown(fn: () => unknown): void }, label: string, id: string, attempts: number) {
  const clock = new FakeClock(at(0))
  const { scheduler, url } = await schedulerOn(db, t, label, { clock: clock.now, random: () => 0 })
  const ledger: Array<{ attempt: number, runTime: number }> = []
  scheduler.registerTask('flaky', failing(ledger))
  await scheduler.start()
  await scheduler.addJob({ id, task: 'flaky', trigger: { type: 'cron', expression: '0 0 1 1 *' }, retry: { attempts, backoff: 'fixed', delayMs: 1000 } })
  await scheduler.waitForExecution((await scheduler.runJob(id, { inProcess: true })).id)
  return { scheduler, url, clock, ledger }
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: exponential backoff: each attempt after delayMs × 2^(attempt − 1), capped at maxDelayMs, until attempts run out`, async (t) => {
    const clock = new FakeClock(at(0))
    const { scheduler, url } = await schedulerOn(db, t, 'retries_exponential', { clock: clock.now, random: () => 0 })
    const ledger: Array<{ attempt: number, runTime: number }> = []
    scheduler.registerTask('flaky', failing(ledger))
    const scheduled: Array<{ attempt: number, nextAttemptAt: number }> = []
    scheduler.on('job:retry_scheduled', ({ attempt, nextAttemptAt, jobId }) => { if (jobId === 'sync') scheduled.push({ attempt, nextAttemptAt: nextAttemptAt.getTime() }) })
    await scheduler.start()
    await scheduler.addJob({ id: 'sync', task: 'flaky', trigger: HOURLY, retry: { attempts: 4, backoff: 'exponential', delayMs: 10_000, maxDelayMs: 25_000 } })

    const first = await scheduler.waitForExecution((await scheduler.runJob('sync', { inProcess: true })).id)
    t.match(first, { attempt: 1, status: 'error', exception: 'Error: attempt 1 failed' })
    // random () => 0: no jitter, so each wait is the backoff itself: 10 s, 20 s, then min(25 s, 40 s).
    const expectedWaits = [10_000, 20_000, 25_000]
    let rows = await rowsOf(db, url, 'sync')
    let last = rows[0] as Row
    for (const [i, waitMs] of expectedWaits.entries()) {
      t.equal(last.next_attempt_at?.getTime(), (last.finished_at as Date).getTime() + waitMs, `attempt ${i + 1}: next attempt ${waitMs} ms after it finished`)
      last = await runAttempt(db, scheduler, url, clock, 'sync', i + 2, last.next_attempt_at as Date)
    }
    t.equal(last.next_attempt_at, null, 'attempt 4 of 4: no attempt left')
    rows = await rowsOf(db, url, 'sync')
    t.same(rows.map((row) => [row.attempt, row.status]), [[1, 'error'], [2, 'error'], [3, 'error'], [4, 'error']], 'four rows, one per attempt, every failure kept')
    t.ok(rows.every((row) => row.run_time.getTime() === first.runTime.getTime()), 'all attempts of the same occurrence (run time)')
    t.same(ledger.map((call) => call.attempt), [1, 2, 3, 4], 'the handler ran four times, seeing ctx.attempt 1..4')
    t.ok(ledger.every((call) => call.runTime === first.runTime.getTime()), 'each call saw the occurrence\'s run time')
    t.same(scheduled.map((event) => event.attempt), [2, 3, 4], 'job:retry_scheduled for attempts 2, 3 and 4')
    t.same(scheduled.map((event) => event.nextAttemptAt), rows.slice(0, 3).map((row) => row.next_attempt_at?.getTime()), 'with the stored due times')

    clock.set(at(3599)) // past every retry, before the job's first hourly fire (added at 0 s)
    scheduler.wakeup()
    await scheduler.once('scheduler:claimed')
    t.equal(ledger.length, 4, 'nothing more runs for that occurrence')
  })

  t.test(`${db.name}: fixed backoff is jittered up to 20 % shorter, never longer`, async (t) => {
    const clock = new FakeClock(at(0))
    const { scheduler, url } = await schedulerOn(db, t, 'retries_jitter', { clock: clock.now, random: () => 0.5 })
    scheduler.registerTask('flaky', failing([]))
    await scheduler.start()
    await scheduler.addJob({ id: 'fixed', task: 'flaky', trigger: HOURLY, retry: { attempts: 2, backoff: 'fixed', delayMs: 10_000 } })
    await scheduler.waitForExecution((await scheduler.runJob('fixed', { inProcess: true })).id)
    const [row] = await rowsOf(db, url, 'fixed')
    t.equal((row?.next_attempt_at as Date).getTime() - (row?.finished_at as Date).getTime(), 9000, 'random 0.5: 10 000 × (1 − 0.2 × 0.5) = 9000 ms')
  })

  t.test(`${db.name}: a paused job's retry waits, and runs once the job is resumed`, async (t) => {
    const { scheduler, url, clock, ledger } = await firstAttemptFailed(db, t, 'retries_pause', 'paused', 2)
    await scheduler.pauseJob('paused')
    clock.set(at(60))
    const claimed = scheduler.once('scheduler:claimed')
    scheduler.wakeup()
    await claimed
    t.same((await rowsOf(db, url, 'paused')).map((row) => [row.attempt, row.status]), [[1, 'error'], [2, 'queued']], 'a claim after the retry fell due left it queued')
    t.equal(ledger.length, 1, 'the handler ran once')
    await scheduler.resumeJob('paused')
    const retried = await runAttempt(db, scheduler, url, clock, 'paused', 2, at(61))
    t.equal(retried.status, 'error', 'resumed: attempt 2 ran')
    t.same(ledger.map((call) => call.attempt), [1, 2])
  })

  t.test(`${db.name}: a removed job's pending retry is recorded abandoned with the reason`, async (t) => {
    const { scheduler, url, clock, ledger } = await firstAttemptFailed(db, t, 'retries_remove', 'removed', 3)
    await scheduler.removeJob('removed')
    const row = await runAttempt(db, scheduler, url, clock, 'removed', 2, at(10))
    t.match(row, { status: 'abandoned', exception: 'the job was removed before this retry started' })
    t.equal(ledger.length, 1, 'the handler never ran again')
    t.equal((await rowsOf(db, url, 'removed')).length, 2, 'and no further attempt was queued')
  })

  t.test(`${db.name}: a retry waits for maxInstances: it never runs beside another instance, and is not recorded max_instances`, async (t) => {
    const clock = new FakeClock(at(0))
    const { scheduler, url } = await schedulerOn(db, t, 'retries_max_instances', { clock: clock.now, random: () => 0 })
    let inside = 0
    let mostInside = 0
    const calls: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    scheduler.registerTask('mixed', async (ctx: TaskContext, mode: string) => {
      inside++
      mostInside = Math.max(mostInside, inside)
      calls.push(`${ctx.job.id}#${ctx.attempt}`)
      try {
        if (ctx.attempt === 1 && mode === 'fail') throw new Error('first attempt fails')
        if (mode === 'hold') await gate
      } finally {
        inside--
      }
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'one', task: 'mixed', args: ['fail'], trigger: HOURLY, maxInstances: 1, retry: { attempts: 2, backoff: 'fixed', delayMs: 1000 } })
    await scheduler.waitForExecution((await scheduler.runJob('one', { inProcess: true })).id)
    // The job now holds its only slot with a long run (same job, other args via modifyJob).
    await scheduler.modifyJob('one', { args: ['hold'] })
    const holding = await scheduler.runJob('one', { inProcess: true })
    t.equal(holding.status, 'running')
    clock.set(at(30))
    const claimed = scheduler.once('scheduler:claimed')
    scheduler.wakeup()
    await claimed
    t.same((await rowsOf(db, url, 'one')).filter((row) => row.attempt === 2).map((row) => row.status), ['queued'], 'the due retry waits while the slot is held')
    release()
    await scheduler.waitForExecution(holding.id)
    const retried = await runAttempt(db, scheduler, url, clock, 'one', 2, at(31))
    t.equal(retried.status, 'success', 'then it runs (the held run freed the slot)')
    t.equal(mostInside, 1, 'the handler never ran twice at once (its own count)')
    t.same(calls, ['one#1', 'one#1', 'one#2'], 'first attempt, the held run, then the retry')
    const statuses = (await rowsOf(db, url, 'one')).map((row) => row.status)
    t.notOk(statuses.includes('max_instances'), 'nothing recorded max_instances')
  })

  t.test(`${db.name}: a timeout is retried like an error`, async (t) => {
    const clock = new FakeClock(at(0))
    const { scheduler, url } = await schedulerOn(db, t, 'retries_timeout', { clock: clock.now, random: () => 0 })
    const attempts: number[] = []
    scheduler.registerTask('slow', async (ctx: TaskContext) => {
      attempts.push(ctx.attempt)
      if (ctx.attempt === 1) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
    })
    await scheduler.start()
    await scheduler.addJob({ id: 'slow', task: 'slow', trigger: HOURLY, timeoutMs: 50, retry: { attempts: 2, backoff: 'fixed', delayMs: 1000 } })
    const first = await scheduler.waitForExecution((await scheduler.runJob('slow', { inProcess: true })).id)
    t.equal(first.status, 'timeout')
    t.equal(first.nextAttemptAt?.getTime(), (first.finishedAt as Date).getTime() + 1000)
    const second = await runAttempt(db, scheduler, url, clock, 'slow', 2, at(5))
    t.equal(second.status, 'success')
    t.same(attempts, [1, 2])
  })
}
