/**
 * The retry and recovery part of the JobStore contract (issue #14), run against every store
 * (memory.test.ts, pglite.test.ts, postgresql.test.ts): a failed attempt given a retry delay gets
 * `nextAttemptAt` and a queued successor; the successor waits for its `startAfter`, for its job to
 * be resumed and for a free instance slot, and is abandoned when its job is removed; the lease
 * reaper recovers an abandoned attempt of a job with `recover`. Every time is an explicit 2030
 * instant, so expected times are arithmetic on them.
 */
import type { ExecutionRecord, JobStore, QueuedClaimOptions } from '../../src/stores/job-store.js'
import type { RetryPolicy } from '../../src/scheduler/retry-policy.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob, openStore } from './contract.js'

const OWNER = 'node-a'
const LEASE_MS = 30_000
const RETRY: RetryPolicy = { attempts: 3, backoff: 'fixed', delayMs: 5000, maxDelayMs: 5000 }
const ms = (date: Date | null | undefined): number | null => (date == null ? null : date.getTime())

/** The execute step's options: a worker with the tests' task (queued retries are started by workers). */
function worker (now: Date): QueuedClaimOptions {
  return { now, limit: 100, owner: OWNER, leaseMs: LEASE_MS, tasks: ['task.a'] }
}

export function retryContract (t: TapTest, makeStore: MakeStore): void {
  const open = async (t: TapTest): Promise<JobStore> => openStore(t, makeStore)

  /** A running first attempt of job `id`, started at 0 s through run-now. */
  async function running (store: JobStore, id: string): Promise<ExecutionRecord> {
    return await store.claimImmediateRun(id, { now: at(0), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
  }

  /** The executions of a job, oldest attempt first. */
  async function attempts (store: JobStore, jobId: string): Promise<ExecutionRecord[]> {
    return (await store.getExecutions({ jobId })).sort((a, b) => a.attempt - b.attempt)
  }

  t.test('an error with a retry delay records nextAttemptAt and queues the next attempt of the same occurrence', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('flaky', { nextRunTime: null, retry: RETRY }))
    const first = await running(store, 'flaky')
    t.equal(first.attempt, 1, 'a run starts as attempt 1')
    const failed = await store.finishExecution(first.id, { status: 'error', exception: 'boom', durationMs: 1, retryDelayMs: 5000 }, at(2))
    t.equal(failed?.status, 'error')
    t.equal(ms(failed?.nextAttemptAt), ms(at(7)), 'nextAttemptAt = finished (2 s) + 5000 ms')
    const [one, two, ...rest] = await attempts(store, 'flaky')
    t.same(rest, [], 'exactly one next attempt')
    t.equal(one?.id, first.id)
    t.match(two, { jobId: 'flaky', attempt: 2, status: 'queued', startedAt: null, owner: null, nextAttemptAt: null })
    t.equal(ms(two?.runTime), ms(first.runTime), 'the same occurrence (run time)')
    t.equal(ms(two?.startAfter), ms(at(7)), 'it starts no earlier than nextAttemptAt')
    t.equal(await store.finishExecution(first.id, { status: 'error', durationMs: 1, retryDelayMs: 5000 }, at(3)), null, 'a second outcome for the row is refused')
    t.equal((await attempts(store, 'flaky')).length, 2, 'and queues nothing')
  })

  t.test('timeout and abandoned outcomes retry too; success, and an outcome without a delay, do not', async (t) => {
    const store = await open(t)
    for (const [id, status, delay, retried] of [
      ['timeout', 'timeout', 0, true], ['cut', 'abandoned', 0, true], ['ok', 'success', 1000, false], ['last', 'error', null, false]
    ] as const) {
      await store.addJob(newJob(id, { nextRunTime: null, retry: RETRY }))
      const execution = await running(store, id)
      const done = await store.finishExecution(execution.id, { status, durationMs: 1, retryDelayMs: delay }, at(4))
      t.equal(ms(done?.nextAttemptAt), retried ? ms(at(4)) : null, `${status} with delay ${String(delay)}: nextAttemptAt`)
      t.same((await attempts(store, id)).map((e) => [e.attempt, e.status]), retried ? [[1, status], [2, 'queued']] : [[1, status]], `${id}: attempts`)
    }
  })

  t.test('a late outcome (the row was abandoned meanwhile) never queues an attempt', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('late', { nextRunTime: null, retry: RETRY }))
    const execution = await running(store, 'late')
    await store.abandonExpiredExecutions('lease expired', at(31))
    const late = await store.finishExecution(execution.id, { status: 'error', durationMs: 1, retryDelayMs: 1000 }, at(32))
    t.match(late, { status: 'abandoned', lateStatus: 'error', nextAttemptAt: null })
    t.same((await attempts(store, 'late')).map((e) => e.attempt), [1], 'no retry from a late outcome (the job has no recover)')
  })

  t.test('a queued retry starts once its startAfter has passed, as the next attempt, under a lease', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('flaky', { nextRunTime: null, retry: RETRY }))
    const first = await running(store, 'flaky')
    await store.finishExecution(first.id, { status: 'error', durationMs: 1, retryDelayMs: 5000 }, at(2))
    t.same(await store.claimQueuedRuns(worker(at(6.999))), [], 'not before startAfter (7 s)')
    const [claim, ...others] = await store.claimQueuedRuns(worker(at(7)))
    t.same(others, [])
    t.equal(claim?.job.id, 'flaky')
    t.match(claim?.running, [{ attempt: 2, status: 'running', owner: OWNER }], 'attempt 2 runs')
    t.equal(ms(claim?.running[0]?.runTime), ms(first.runTime), 'for the same occurrence')
    t.equal(ms(claim?.running[0]?.leaseUntil), ms(at(7)) as number + LEASE_MS)
    t.same(await store.claimQueuedRuns(worker(at(8))), [], 'started once')
  })

  t.test('a retry of a paused job waits, and neither claims nor wakes the loop until the job is resumed', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('paused', { nextRunTime: null, retry: RETRY }))
    const first = await running(store, 'paused')
    await store.finishExecution(first.id, { status: 'error', durationMs: 1, retryDelayMs: 5000 }, at(2))
    t.equal(ms((await store.getNextQueuedStart(['task.a'])).nextStartTime), ms(at(7)), 'the pending retry is the next queued start')
    await store.updateJob('paused', { paused: true })
    t.equal((await store.getNextQueuedStart(['task.a'])).nextStartTime, null, 'a paused job\'s retry does not wake a worker')
    t.same(await store.claimQueuedRuns(worker(at(100))), [], 'nor is it started')
    t.equal((await attempts(store, 'paused'))[1]?.status, 'queued', 'it stays queued (not abandoned, not skipped)')
    await store.updateJob('paused', { paused: false })
    const [claim] = await store.claimQueuedRuns(worker(at(101)))
    t.match(claim?.running, [{ attempt: 2, status: 'running' }], 'resumed: it runs')
  })

  t.test('a retry waits for a free instance slot instead of being recorded max_instances', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('busy', { nextRunTime: null, retry: RETRY, maxInstances: 1 }))
    const first = await running(store, 'busy')
    await store.finishExecution(first.id, { status: 'error', durationMs: 1, retryDelayMs: 5000 }, at(2))
    const other = await store.claimImmediateRun('busy', { now: at(5), owner: 'node-b', leaseMs: LEASE_MS }) as ExecutionRecord
    t.equal(other.status, 'running', 'another run holds the only slot from 5 s')
    t.same(await store.claimQueuedRuns(worker(at(8))), [], 'the due retry is not started while the slot is taken')
    t.equal((await attempts(store, 'busy')).find((e) => e.attempt === 2)?.status, 'queued', 'and stays queued')
    await store.finishExecution(other.id, { status: 'success', durationMs: 1 }, at(9))
    const [claim] = await store.claimQueuedRuns(worker(at(10)))
    t.match(claim?.running, [{ attempt: 2, status: 'running' }], 'the slot is free: the retry runs')
  })

  t.test('two retries of one job with one slot: one starts, the other keeps waiting', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('pair', { nextRunTime: null, retry: RETRY, maxInstances: 2 }))
    const a = await running(store, 'pair')
    const b = await store.claimImmediateRun('pair', { now: at(1), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    await store.finishExecutions([
      { id: a.id, outcome: { status: 'error', durationMs: 1, retryDelayMs: 1000 } },
      { id: b.id, outcome: { status: 'timeout', durationMs: 1, retryDelayMs: 1000 } }
    ], at(2))
    await store.updateJob('pair', { maxInstances: 1 })
    const [claim] = await store.claimQueuedRuns(worker(at(5)))
    t.equal(claim?.running.length, 1, 'one retry takes the slot')
    t.same(claim?.recorded, [], 'nothing recorded max_instances')
    const waiting = (await store.getExecutions({ jobId: 'pair', status: 'queued' }))
    t.equal(waiting.length, 1, 'the other waits, queued')
  })

  t.test('a retry of a removed job is recorded abandoned with the reason', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('gone', { nextRunTime: null, retry: RETRY }))
    const first = await running(store, 'gone')
    await store.finishExecution(first.id, { status: 'error', durationMs: 1, retryDelayMs: 1000 }, at(2))
    await store.removeJob('gone')
    t.same(await store.claimQueuedRuns(worker(at(10))), [], 'no claim for a removed job')
    t.match((await attempts(store, 'gone'))[1], { attempt: 2, status: 'abandoned', exception: 'the job was removed before this retry started' })
  })

  t.test('the lease reaper recovers an abandoned attempt of a job with recover and attempts left', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('recovered', { nextRunTime: null, retry: { ...RETRY, attempts: 2 }, recover: true }))
    await store.addJob(newJob('plain', { nextRunTime: null, retry: RETRY }))
    await store.addJob(newJob('once', { nextRunTime: null, recover: true }))
    const execution = await running(store, 'recovered')
    await running(store, 'plain')
    await running(store, 'once')
    const reaped = await store.abandonExpiredExecutions('owner died', at(31))
    const byJob = new Map(reaped.map((e) => [e.jobId, e]))
    t.equal(ms(byJob.get('recovered')?.nextAttemptAt), ms(at(31)), 'recover: the next attempt is due at once')
    t.equal(byJob.get('plain')?.nextAttemptAt, null, 'no recover: no next attempt')
    t.equal(byJob.get('once')?.nextAttemptAt, null, 'recover without attempts left: no next attempt')
    t.same((await attempts(store, 'plain')).map((e) => e.attempt), [1])
    t.same((await attempts(store, 'once')).map((e) => e.attempt), [1])
    const [claim] = await store.claimQueuedRuns(worker(at(31)))
    t.match(claim?.running, [{ jobId: 'recovered', attempt: 2 }], 'attempt 2 starts at the next claim')
    t.equal(ms(claim?.running[0]?.runTime), ms(execution.runTime))
    await store.abandonExpiredExecutions('owner died again', at(100))
    t.same((await attempts(store, 'recovered')).map((e) => [e.attempt, e.status, ms(e.nextAttemptAt)]), [[1, 'abandoned', ms(at(31))], [2, 'abandoned', null]],
      'the second abandonment has no attempt left (retry.attempts 2): nothing more is queued')
  })

  t.test('a late success of a recovered attempt cancels the recovery still queued; a late error does not', async (t) => {
    const store = await open(t)
    for (const id of ['succeeded-late', 'failed-late']) await store.addJob(newJob(id, { nextRunTime: null, retry: RETRY, recover: true }))
    const succeeded = await running(store, 'succeeded-late')
    const failed = await running(store, 'failed-late')
    await store.abandonExpiredExecutions('owner froze', at(31))
    await store.finishExecution(succeeded.id, { status: 'success', durationMs: 1 }, at(32))
    await store.finishExecution(failed.id, { status: 'error', durationMs: 1, retryDelayMs: 1000 }, at(32))
    t.match((await attempts(store, 'succeeded-late'))[1], { attempt: 2, status: 'abandoned', exception: /finished successfully after all/ }, 'the recovery is not needed')
    t.equal(ms((await attempts(store, 'succeeded-late'))[1]?.finishedAt), ms(at(32)))
    t.same((await attempts(store, 'failed-late')).map((e) => [e.attempt, e.status]), [[1, 'abandoned'], [2, 'queued']], 'after a late error the recovery stays queued')
  })
}
