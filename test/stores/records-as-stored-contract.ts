/**
 * The records a claim and an outcome answer are the rows as stored, part of the JobStore contract
 * run against every store (all-parts-contract.ts). The PostgreSQL store builds them from what it
 * sent instead of reading every column back (a claim's new ids only; an outcome's computed columns
 * only, when the claimed record is given): each answer is compared, field by field, with a fresh
 * `getExecution` of the same row, which reads every column. Every time is an explicit 2030 instant.
 */
import type { ClaimOptions, ClaimPlanner, ExecutionRecord, JobStore } from '../../src/stores/job-store.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob, openStore } from './contract.js'

const LEASE_MS = 30_000

/** `getExecution` without `result` and `logs` (claims and outcomes leave them out). */
async function stored (store: JobStore, id: number): Promise<ExecutionRecord | null> {
  const execution = await store.getExecution(id)
  if (execution === null) return null
  const { result: _result, logs: _logs, ...rest } = execution
  return rest
}

/**
 * Per job, by its id: 'due-*' runs its next run time (and, for 'due-late', records a missed and a
 * max_instances occurrence too); 'soon' gets one occurrence claimed ahead, starting 250 ms after
 * its fire time. Every job then moves an hour on.
 */
const plan: ClaimPlanner = (job) => {
  const due = job.nextRunTime as Date
  const next = new Date(due.getTime() + 3_600_000)
  const none = { run: [], missed: [], maxInstances: [], coalesced: 0, nextRunTime: next }
  if (job.id === 'soon') return { ...none, ahead: [{ runTime: due, startAt: new Date(due.getTime() + 250) }] }
  if (job.id === 'due-late') return { ...none, run: [due], missed: [at(-120)], maxInstances: [at(-60)] }
  return { ...none, run: [due] }
}

const claimAt = (now: Date, startLimit: number, store: JobStore): ClaimOptions => ({
  now, limit: 100, startLimit, tasks: ['task.a'], owner: 'node-a', leaseMs: LEASE_MS, plan, ...(store.claimsAhead === true ? { aheadMs: 5000 } : {})
})

export function recordsAsStoredContract (t: TapTest, makeStore: MakeStore): void {
  const open = async (t: TapTest): Promise<JobStore> => openStore(t, makeStore)

  t.test('every record a claim answers (running, queued, missed, max_instances, claimed ahead) is its row as stored', async (t) => {
    const store = await open(t)
    for (const id of ['due-a', 'due-b', 'due-late']) await store.addJob(newJob(id, { nextRunTime: at(0), maxInstances: 5 }))
    await store.addJob(newJob('soon', { nextRunTime: at(12), maxInstances: 5 }))
    // Two start slots for three due jobs: two run here, one is queued (and the run ahead, if any, queued too).
    const claims = await store.claimDueJobs(claimAt(at(10), 2, store))
    const records = claims.flatMap((claim) => [...claim.running, ...claim.recorded, ...(claim.queued ?? [])])
    const statuses = records.map((record) => record.status).sort()
    t.same(statuses.filter((status) => status !== 'queued'), ['max_instances', 'missed', 'running', 'running'], 'the planned rows were written')
    t.ok(statuses.filter((status) => status === 'queued').length >= 1, 'the job beyond the start limit was queued')
    for (const record of records) t.strictSame(record, await stored(store, record.id), `${record.jobId} ${record.status} at ${record.runTime.toISOString()}`)

    // With a start slot free for it, a run claimed ahead is running from its start time.
    if (store.claimsAhead === true) {
      await store.addJob(newJob('soon-2', { nextRunTime: at(32), maxInstances: 5 }))
      const later = await store.claimDueJobs({ ...claimAt(at(30), 5, store), plan: (job, now, instances, horizon) => plan({ ...job, id: 'soon' }, now, instances, horizon) })
      const ahead = later.flatMap((claim) => claim.running)
      t.equal(ahead.length, 1, 'one run claimed ahead')
      t.not(ahead[0]?.startAfter, null, 'it waits for its start time')
      for (const record of ahead) t.strictSame(record, await stored(store, record.id), 'the run claimed ahead is its row as stored')
    }
  })

  t.test('every record finishExecutions answers is its row as stored, whether or not the claimed record is given', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('f', { maxInstances: 10, retry: { attempts: 3, delayMs: 1000, backoff: 'fixed', maxDelayMs: 1000 } }))
    // r4 starts 10 s before the others; its lease alone expires, and it is marked abandoned: its outcome arrives late.
    const r4 = await store.claimImmediateRun('f', { now: at(-10), owner: 'node-a', leaseMs: LEASE_MS }) as ExecutionRecord
    const runs: ExecutionRecord[] = []
    for (let i = 0; i < 4; i++) runs.push(await store.claimImmediateRun('f', { now: at(i), owner: 'node-a', leaseMs: LEASE_MS }) as ExecutionRecord)
    t.same((await store.abandonExpiredExecutions('lease expired', at(-10 + LEASE_MS / 1000 + 1))).map((e) => e.id), [r4.id], 'only r4 is abandoned')
    const [r0, r1, r2, r3] = runs as [ExecutionRecord, ExecutionRecord, ExecutionRecord, ExecutionRecord]
    const now = at(-10 + LEASE_MS / 1000 + 2)
    for (const giveClaimed of [true, false]) {
      const claimed = (record: ExecutionRecord) => (giveClaimed ? { claimed: record } : {})
      const batch = giveClaimed
        ? [
            { id: r0.id, outcome: { status: 'success' as const, durationMs: 12.345, waitedMs: 3 }, ...claimed(r0) },
            { id: r1.id, outcome: { status: 'error' as const, exception: 'Error: boom ✓', traceback: 'Error: boom\n    at x (y.js:1:2)', durationMs: 1500, retryDelayMs: 1000 }, ...claimed(r1) },
            { id: r4.id, outcome: { status: 'success' as const, durationMs: 40_000 }, ...claimed(r4) }
          ]
        : [
            { id: r2.id, outcome: { status: 'timeout' as const, exception: 'TimeoutError: too long', durationMs: 250 } },
            { id: r3.id, outcome: { status: 'abandoned' as const, exception: 'cut off at shutdown' } }
          ]
      const answers = await store.finishExecutions(batch, now)
      t.equal(answers.length, batch.length, 'one answer per outcome')
      answers.forEach((answer, i) => t.ok(answer !== null, `outcome ${i} was written`))
      for (const answer of answers) if (answer !== null) t.strictSame(answer, await stored(store, answer.id), `claimed ${giveClaimed ? 'given' : 'not given'}: ${answer.status}${answer.lateStatus === null ? '' : ` (late ${answer.lateStatus})`}`)
    }
    t.not((await stored(store, r1.id))?.nextAttemptAt, null, 'the failed attempt has its next attempt (a computed column)')
    t.equal((await stored(store, r4.id))?.lateStatus, 'success', 'the abandoned run took its outcome late')
  })

  t.test('an occurrence a plan names twice gets one row and one record; a claim on the store clock answers its rows as stored', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('twice', { nextRunTime: at(0), maxInstances: 5 }))
    // A custom planner naming the due occurrence twice for 'twice' (run, and missed too).
    const claims = await store.claimDueJobs({
      ...claimAt(at(10), 5, store),
      plan: (job) => {
        const due = job.nextRunTime as Date
        return { run: [due, due], missed: [due], maxInstances: [], coalesced: 0, nextRunTime: null }
      }
    })
    const twice = claims.find((claim) => claim.job.id === 'twice')
    t.equal(twice?.running.length, 1, 'one running record for the occurrence named three times')
    t.same(twice?.recorded, [], 'no missed record for it either: the first naming wins')
    t.equal((await store.getExecutions({ jobId: 'twice' })).length, 1, 'one row')
    for (const record of twice?.running ?? []) t.strictSame(record, await stored(store, record.id), 'its record: as stored')

    // The store's clock (now: null), whose readings have sub-millisecond digits on PostgreSQL.
    await store.addJob(newJob('later', { nextRunTime: new Date(Date.UTC(2000, 0, 2)), maxInstances: 5 }))
    const onClock = await store.claimDueJobs({ ...claimAt(at(0), 5, store), now: null, aheadMs: 0, plan })
    const records = onClock.flatMap((claim) => claim.running)
    t.equal(records.length, 1, 'the job due in 2000 is claimed on the store clock')
    for (const record of records) t.strictSame(record, await stored(store, record.id), 'a claim on the store clock: as stored')
  })
}
