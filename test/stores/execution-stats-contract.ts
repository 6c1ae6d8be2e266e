/**
 * The execution statistics part of the JobStore contract (src/stores/execution-stats.ts), run
 * beside `jobStoreContract` against every store (memory.test.ts, pglite.test.ts, postgresql.test.ts). Rows are written through
 * the store's own claim and finish methods at explicit 2030 times, with chosen fire lags and
 * durations; every expected value below is worked out by hand from those rows (the arithmetic is
 * in the comments), never by the code under test.
 */
import type { ClaimPlanner, ExecutionRecord, JobStore } from '../../src/stores/job-store.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob, openStore } from './contract.js'

const OWNER = 'node-stats'
const LEASE_MS = 3_600_000
const ms = (date: Date | null | undefined): number | null => (date == null ? null : date.getTime())

interface Run {
  /** Seconds after 2030-01-01T00:00:00Z: the execution's run time. */
  second: number
  status: 'success' | 'error' | 'timeout' | 'running'
  /** Milliseconds from the run time to the handler's start (the fire lag). */
  lagMs?: number
  durationMs?: number
}

/**
 * Writes one execution of `jobId` at `at(run.second)`: started now (claimImmediateRun), then
 * finished at runTime + lag + duration, so the store's `startedAt = finishedAt − durationMs` is
 * runTime + lag. A `running` run stays running, started at its run time (lag 0).
 */
async function record (store: JobStore, jobId: string, run: Run): Promise<ExecutionRecord> {
  const started = await store.claimImmediateRun(jobId, { now: at(run.second), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
  if (started.status !== 'running') throw new Error(`setup: ${jobId} at ${run.second} s was not started (${started.status})`)
  if (run.status === 'running') return started
  const durationMs = run.durationMs ?? 0
  const finishedAt = new Date((ms(started.runTime) as number) + (run.lagMs ?? 0) + durationMs)
  return await store.finishExecution(started.id, { status: run.status, durationMs }, finishedAt) as ExecutionRecord
}

/** Writes `missed` rows for `jobId` at the given seconds through a claim (the job must be due at `claimAt`). */
async function recordMissed (store: JobStore, jobId: string, seconds: number[], claimAt: number): Promise<void> {
  const plan: ClaimPlanner = (job) => job.id === jobId
    ? { run: [], missed: seconds.map(at), maxInstances: [], coalesced: 0, nextRunTime: null }
    : { run: [], missed: [], maxInstances: [], coalesced: 0, nextRunTime: job.nextRunTime }
  const claims = await store.claimDueJobs({ now: at(claimAt), limit: 10, startLimit: 10, tasks: ['task.a'], owner: OWNER, leaseMs: LEASE_MS, plan })
  if (claims.find((claim) => claim.job.id === jobId)?.recorded.length !== seconds.length) throw new Error(`setup: missed rows of ${jobId} not written`)
}

export function executionStatsContract (t: TapTest, makeStore: MakeStore): void {
  const open = async (t: TapTest): Promise<JobStore> => openStore(t, makeStore)

  t.test('getRunHistory: a job\'s newest executions, newest first, with status, start and duration', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('h', { maxInstances: 100, nextRunTime: at(100_000) }))
    await store.addJob(newJob('other', { maxInstances: 100, nextRunTime: at(100_000) }))
    const runs: Run[] = [
      { second: 10, status: 'success', durationMs: 100 },
      { second: 20, status: 'error', durationMs: 250, lagMs: 40 },
      { second: 30, status: 'success', durationMs: 75.5 },
      { second: 40, status: 'timeout', durationMs: 5000, lagMs: 1000 },
      { second: 50, status: 'success', durationMs: 0 },
      { second: 60, status: 'running' }
    ]
    const written: ExecutionRecord[] = []
    for (const run of runs) written.push(await record(store, 'h', run))
    await record(store, 'other', { second: 55, status: 'success', durationMs: 9 })

    const history = await store.getRunHistory('h', 4)
    t.same(history.map((entry) => ms(entry.runTime)), [60, 50, 40, 30].map((s) => ms(at(s))), 'the 4 newest of 6, newest first; the other job\'s run at 55 s is not there')
    t.same(history.map((entry) => entry.status), ['running', 'success', 'timeout', 'success'])
    t.same(history.map((entry) => entry.durationMs), [null, 0, 5000, 75.5], 'durations as written (none while running; 0 is kept; fractions kept)')
    t.same(history.map((entry) => entry.id), [5, 4, 3, 2].map((i) => written[i]?.id), 'ids of those executions')
    t.equal(ms(history[2]?.startedAt), ms(at(40)) as number + 1000, 'the timeout started 1000 ms after its run time (its lag)')
    t.equal(ms(history[0]?.startedAt), ms(at(60)), 'the running one started at its run time')
    t.same(Object.keys(history[0] ?? {}).sort(), ['durationMs', 'id', 'runTime', 'startedAt', 'status'], 'only what a bar needs')

    t.equal((await store.getRunHistory('h', 100)).length, 6, 'fewer than the limit: all of them')
    t.same(await store.getRunHistory('nobody', 100), [], 'no executions: empty')
    await store.removeJob('h')
    t.equal((await store.getRunHistory('h', 100)).length, 6, 'a removed job keeps its history')
  })

  t.test('countExecutionsPerMinute: counts by UTC minute of run time and status, in a half-open range', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('m', { maxInstances: 100, nextRunTime: at(0) }))
    await store.addJob(newJob('n', { maxInstances: 100, nextRunTime: at(100_000) }))
    await record(store, 'n', { second: 59.999, status: 'success' }) // before the range: not counted
    await record(store, 'n', { second: 60, status: 'success' }) // minute 1 (the range's first instant)
    await record(store, 'n', { second: 61, status: 'error' }) // minute 1
    await record(store, 'n', { second: 119.5, status: 'success' }) // minute 1
    await record(store, 'm', { second: 100, status: 'success' }) // minute 1, another job
    await record(store, 'n', { second: 180, status: 'timeout' }) // minute 3
    await record(store, 'n', { second: 239, status: 'running' }) // minute 3
    await recordMissed(store, 'm', [200, 201], 400) // minute 3, twice
    await record(store, 'n', { second: 240, status: 'success' }) // the range's end: not counted
    const queued = await store.queueRun('n', at(150)) // minute 2
    t.ok(queued, 'setup: queued run written')

    const counts = await store.countExecutionsPerMinute({ from: at(60), to: at(240) })
    t.same(counts.map((row) => [ms(row.minute), row.status, row.count]), [
      [ms(at(60)), 'error', 1],
      [ms(at(60)), 'success', 3], // 60, 100 (job m), 119.5
      [ms(at(120)), 'queued', 1],
      [ms(at(180)), 'missed', 2],
      [ms(at(180)), 'running', 1],
      [ms(at(180)), 'timeout', 1]
    ], 'minute by minute, statuses in code-unit order, no zero rows; 59.999 s and 240 s are outside [60 s, 240 s)')
    t.same(await store.countExecutionsPerMinute({ from: at(1000), to: at(2000) }), [], 'an empty range: no rows')
  })

  t.test('getFireLag: p50, p95 and max of startedAt − runTime over the executions that started', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('lag', { maxInstances: 100, nextRunTime: at(0) }))
    // Lags 1000, 2000, ..., 10000 ms on finished runs at 10 s, 20 s, ..., 100 s.
    for (let i = 1; i <= 10; i++) await record(store, 'lag', { second: i * 10, status: i % 3 === 0 ? 'error' : 'success', lagMs: i * 1000, durationMs: 20 })
    await record(store, 'lag', { second: 105, status: 'running' }) // started at its run time: lag 0
    await recordMissed(store, 'lag', [106], 300) // never started: no lag
    await store.queueRun('lag', at(107)) // not started: no lag
    await record(store, 'lag', { second: 500, status: 'success', lagMs: 999_000 }) // outside the range

    const lag = await store.getFireLag({ from: at(0), to: at(200) })
    // Sorted lags: 0, 1000, ..., 10000 (11 values). percentile_cont: position = fraction × (11 − 1).
    // p50: position 5 → the 6th value, 5000. p95: position 9.5 → 9000 + 0.5 × (10000 − 9000) = 9500.
    t.equal(lag.count, 11, 'the 10 finished runs and the running one; not the missed, queued or out-of-range rows')
    t.equal(lag.p50Ms, 5000)
    t.equal(lag.p95Ms, 9500)
    t.equal(lag.maxMs, 10_000)

    const two = await store.getFireLag({ from: at(10), to: at(21) })
    // Lags 1000 and 2000: p50 at position 0.5 → 1500; p95 at position 0.95 → 1000 + 0.95 × 1000 = 1950.
    t.equal(two.count, 2)
    t.equal(two.p50Ms, 1500)
    t.ok(Math.abs((two.p95Ms as number) - 1950) < 1e-6, `p95 of two values interpolates to 1950 (got ${two.p95Ms})`)
    t.same(await store.getFireLag({ from: at(1000), to: at(2000) }), { count: 0, p50Ms: null, p95Ms: null, maxMs: null }, 'no executions: nulls')
  })

  t.test('getSlowestJobs: highest mean duration first, ties by job id, over executions with a duration in range', async (t) => {
    const store = await open(t)
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) await store.addJob(newJob(id, { maxInstances: 100, nextRunTime: id === 'e' ? at(0) : at(100_000) }))
    await record(store, 'a', { second: 1, status: 'success', durationMs: 100 })
    await record(store, 'a', { second: 2, status: 'error', durationMs: 300 }) // a: mean (100 + 300) / 2 = 200, max 300
    await record(store, 'a', { second: 3, status: 'running' }) // no duration yet: not counted
    await record(store, 'b', { second: 4, status: 'timeout', durationMs: 1000 }) // b: mean 1000
    await record(store, 'c', { second: 5, status: 'success', durationMs: 50 })
    await record(store, 'c', { second: 6, status: 'success', durationMs: 50 })
    await record(store, 'c', { second: 7, status: 'success', durationMs: 80 }) // c: mean 180 / 3 = 60, max 80
    await record(store, 'd', { second: 5000, status: 'success', durationMs: 99_999 }) // outside the range
    await recordMissed(store, 'e', [8], 100) // no duration: e is not listed
    await record(store, 'f', { second: 9, status: 'success', durationMs: 200 }) // f: mean 200, ties with a

    const range = { from: at(0), to: at(1000) }
    t.same(await store.getSlowestJobs(range, 10), [
      { jobId: 'b', count: 1, meanMs: 1000, maxMs: 1000 },
      { jobId: 'a', count: 2, meanMs: 200, maxMs: 300 },
      { jobId: 'f', count: 1, meanMs: 200, maxMs: 200 },
      { jobId: 'c', count: 3, meanMs: 60, maxMs: 80 }
    ], 'b, then a and f tied at 200 ms (by id), then c; d is out of range and e has no duration')
    t.same((await store.getSlowestJobs(range, 2)).map((job) => job.jobId), ['b', 'a'], 'the limit keeps the slowest')
    t.same(await store.getSlowestJobs({ from: at(2000), to: at(3000) }, 5), [], 'an empty range: none')
  })
}
