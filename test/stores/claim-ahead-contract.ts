/**
 * Claiming ahead (issue #10: lag under network latency), part of the JobStore contract, run against
 * every store that claims ahead (memory.test.ts, pglite.test.ts, postgresql.test.ts): with
 * `aheadMs`, jobs due within that many milliseconds of the claim time are claimed too and planned
 * with the horizon; the occurrences a plan claims ahead are separate instances, `running` within
 * the claimer's start limit (started at, and leased from, their `startAt`) or `queued` with
 * `start_after`, and count as instances for the next claim. A plan that claims nothing ahead
 * leaves its job as it was. Every time is an explicit 2030 instant.
 */
import type { ClaimOptions, ClaimPlanner, JobStore } from '../../src/stores/job-store.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob, openStore } from './contract.js'

const LEASE_MS = 30_000
const ms = (date: Date | null | undefined): number | null => (date == null ? null : date.getTime())

interface Call { jobId: string, now: number, instances: number, horizon: number | null }

/**
 * A job not yet due gets its next run time and the second after claimed ahead (starting 500 ms
 * and 0 ms after their fire times), and moves two seconds on; with `deferAhead`, it is left as it
 * is. A due job runs its next run time and moves an hour on.
 */
function planner (deferAhead = false): { plan: ClaimPlanner, calls: Call[] } {
  const calls: Call[] = []
  const plan: ClaimPlanner = (job, now, instances, horizon) => {
    calls.push({ jobId: job.id, now: now.getTime(), instances, horizon: horizon === undefined ? null : horizon.getTime() })
    const due = job.nextRunTime as Date
    const none = { run: [], missed: [], maxInstances: [], coalesced: 0 }
    if (due <= now) return { ...none, run: [due], nextRunTime: new Date(due.getTime() + 3_600_000) }
    if (deferAhead) return { ...none, nextRunTime: job.nextRunTime, nextFireTime: job.nextFireTime }
    const second = new Date(due.getTime() + 1000)
    return { ...none, ahead: [{ runTime: due, startAt: new Date(due.getTime() + 500) }, { runTime: second, startAt: second }], nextRunTime: new Date(due.getTime() + 2000) }
  }
  return { plan, calls }
}

function claimAt (now: Date, plan: ClaimPlanner, aheadMs: number | undefined, startLimit = 10): ClaimOptions {
  return { now, limit: 100, startLimit, tasks: ['task.a'], owner: 'leader', leaseMs: LEASE_MS, plan, ...(aheadMs === undefined ? {} : { aheadMs }) }
}

export function claimAheadContract (t: TapTest, makeStore: MakeStore): void {
  const open = async (t: TapTest): Promise<JobStore> => openStore(t, makeStore)

  t.test('a store claims ahead, or says it does not and ignores aheadMs', async (t) => {
    const store = await open(t)
    if (store.claimsAhead === true) {
      t.type(store.requeueExecutions, 'function', 'a store that claims ahead can requeue the runs waiting at shutdown')
      return
    }
    await store.addJob(newJob('soon', { nextRunTime: at(12) }))
    const { plan, calls } = planner()
    t.same(await store.claimDueJobs(claimAt(at(10), plan, 3000)), [], 'a job due at 12 is not claimed at 10, whatever aheadMs says')
    t.same(calls, [], 'nor planned')
    t.equal(ms((await store.getJob('soon'))?.nextRunTime), ms(at(12)))
  })

  const ahead = (name: string, fn: (t: TapTest) => Promise<void>): void => {
    t.test(name, async (t) => {
      const { store } = await makeStore(t)
      if (store.claimsAhead !== true) {
        await t.skip('this store does not claim ahead (its claim ignores aheadMs: see the test above)', async () => {})
        return
      }
      await fn(t)
    })
  }

  ahead('aheadMs claims jobs due within the window, each occurrence running from its start time', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('due', { nextRunTime: at(9) }))
    await store.addJob(newJob('soon', { nextRunTime: at(12) }))
    await store.addJob(newJob('later', { nextRunTime: at(14) }))
    const { plan, calls } = planner()
    const claims = await store.claimDueJobs(claimAt(at(10), plan, 3000))
    t.same(claims.map((claim) => claim.job.id), ['due', 'soon'], 'due at 9 and 12 are within 10 + 3 s; 14 is not')
    t.same(calls.map((call) => [call.jobId, call.now, call.horizon]), [['due', ms(at(10)), ms(at(13))], ['soon', ms(at(10)), ms(at(13))]],
      'the planner is told the claim time and the horizon')
    const [due, soon] = claims
    t.match(due, { catchUp: true, running: [{ status: 'running', startAfter: null }] }, 'a due job runs as before')
    t.notOk(due?.ahead, 'a due job is not claimed ahead')
    t.equal(ms(due?.running[0]?.startedAt), ms(at(10)))
    t.match(soon, { ahead: true }, 'claimed ahead: each run starts at its startAfter')
    t.same(soon?.running.map((e) => [ms(e.runTime), ms(e.startAfter), ms(e.startedAt), ms(e.leaseUntil), e.status, e.owner]), [
      [ms(at(12)), ms(at(12.5)), ms(at(12.5)), ms(at(12.5)) as number + LEASE_MS, 'running', 'leader'],
      [ms(at(13)), ms(at(13)), ms(at(13)), ms(at(13)) as number + LEASE_MS, 'running', 'leader']
    ], 'started at, and leased from, their start times')
    t.equal(ms((await store.getJob('soon'))?.nextRunTime), ms(at(14)), 'the job moves past what was claimed')
    t.equal(ms((await store.getJob('later'))?.nextRunTime), ms(at(14)), 'a job outside the window is untouched')

    const next = planner()
    await store.claimDueJobs(claimAt(at(11.5), next.plan, 3000))
    t.same(next.calls.map((call) => [call.jobId, call.instances]).sort(), [['later', 0], ['soon', 2]],
      'the next claim sees the two runs claimed ahead as instances of their job')
  })

  ahead('runs claimed ahead take one start slot each, count as instances, and are queued beyond the start limit', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('soon', { nextRunTime: at(12), maxInstances: 5 }))
    const { plan } = planner()
    const [claim] = await store.claimDueJobs(claimAt(at(10), plan, 3000, 1))
    t.equal(claim?.running.length, 1, 'one slot: the first occurrence starts here')
    t.same(claim?.queued?.map((e) => [ms(e.runTime), ms(e.startAfter), e.status, e.owner, e.startedAt, e.leaseUntil]), [[ms(at(13)), ms(at(13)), 'queued', null, null, null]],
      'the second is queued for a worker, not before its start time')
    const next = planner()
    await store.claimDueJobs(claimAt(at(11), next.plan, 3000))
    t.same(next.calls.map((call) => [call.jobId, call.instances]), [['soon', 2]], 'the running and the queued run are both instances')
  })

  ahead('a due batch and runs claimed ahead in one plan: the batch as usual, the others from their start times', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('both', { nextRunTime: at(9), maxInstances: 5 }))
    const plan: ClaimPlanner = (job) => ({
      run: [job.nextRunTime as Date], missed: [], maxInstances: [], coalesced: 0,
      ahead: [{ runTime: at(11), startAt: at(11) }], nextRunTime: at(12)
    })
    const [claim] = await store.claimDueJobs(claimAt(at(10), plan, 3000))
    t.match(claim, { ahead: true, catchUp: true })
    t.same(claim?.running.map((e) => [ms(e.runTime), ms(e.startAfter), ms(e.startedAt)]).sort(), [[ms(at(9)), null, ms(at(10))], [ms(at(11)), ms(at(11)), ms(at(11))]],
      'the due occurrence starts now; the one claimed ahead at its start time')
    t.equal(ms((await store.getJob('both'))?.nextRunTime), ms(at(12)))
  })

  ahead('a plan that claims nothing ahead leaves the job as it was; without aheadMs nothing is claimed ahead', async (t) => {
    const store = await open(t)
    const added = await store.addJob(newJob('soon', { nextRunTime: at(12) }))
    const deferring = planner(true)
    const [claim] = await store.claimDueJobs(claimAt(at(10), deferring.plan, 3000))
    t.same([claim?.running.length, claim?.queued?.length ?? 0, claim?.recorded.length, claim?.claimedElsewhere.length], [0, 0, 0, 0], 'nothing written')
    const job = await store.getJob('soon')
    t.equal(ms(job?.nextRunTime), ms(at(12)), 'next run time unchanged')
    t.equal(job?.lastError, null)
    t.equal(job?.version, added.version, 'not a change of the job')
    t.same(await store.getExecutions({ jobId: 'soon' }), [])

    const plain = planner()
    t.same(await store.claimDueJobs(claimAt(at(10), plain.plan, undefined)), [], 'no aheadMs: a job due at 12 is not claimed at 10')
    t.same(await store.claimDueJobs(claimAt(at(10), plain.plan, 0)), [], 'aheadMs 0: the same')
    t.same(plain.calls, [])
  })

  ahead('waiting runs: leases renewed from their start, requeued for another process, retries never before their start', async (t) => {
    const store = await open(t)
    if (store.requeueExecutions === undefined) {
      t.fail('a store that claims ahead must be able to requeue waiting runs')
      return
    }
    await store.addJob(newJob('soon', { nextRunTime: at(12), maxInstances: 5 }))
    await store.addJob(newJob('due', { nextRunTime: at(9) }))
    const { plan } = planner()
    const claims = await store.claimDueJobs(claimAt(at(10), plan, 3000))
    const dueRun = claims.find((claim) => claim.job.id === 'due')?.running[0]
    const [first, second] = claims.find((claim) => claim.job.id === 'soon')?.running ?? []
    if (dueRun === undefined || first === undefined || second === undefined) throw new Error('expected a due run and two runs claimed ahead')

    t.same((await store.extendLeases('leader', [first.id, dueRun.id], LEASE_MS, at(11))).sort((a, b) => a - b), [first.id, dueRun.id].sort((a, b) => a - b))
    const renewed = await store.getExecution(first.id)
    t.equal(ms(renewed?.leaseUntil), ms(at(12.5)) as number + LEASE_MS, 'a waiting run keeps its lease counted from its start')
    t.equal(ms((await store.getExecution(dueRun.id))?.leaseUntil), ms(at(11)) as number + LEASE_MS, 'a started one from now')

    t.same(await store.requeueExecutions('someone-else', [first.id]), [], 'only the owner requeues')
    t.same(await store.requeueExecutions('leader', [first.id, dueRun.id]), [first.id], 'only runs claimed ahead (with a start time) are requeued')
    t.match(await store.getExecution(first.id), { status: 'queued', owner: null, startedAt: null, leaseUntil: null, attempt: 1 })
    t.equal(ms((await store.getExecution(first.id))?.startAfter), ms(at(12.5)), 'it keeps its start time')
    t.equal((await store.getExecution(dueRun.id))?.status, 'running', 'the started run is left alone')

    // Cut off at 11 (before its 13 s start) with an immediate retry: the next attempt waits for 13.
    await store.finishExecution(second.id, { status: 'abandoned', exception: 'not started', durationMs: 0, retryDelayMs: 0 }, at(11))
    const retry = (await store.getExecutions({ jobId: 'soon' })).find((execution) => execution.attempt === 2)
    t.equal(ms(retry?.startAfter), ms(at(13)), 'its retry is queued for the original start time, not before')
  })
}
