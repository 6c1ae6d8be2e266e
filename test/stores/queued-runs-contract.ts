/**
 * The plan/execute part of the JobStore contract (issue #12), run against every store
 * (memory.test.ts, pglite.test.ts, postgresql.test.ts): the plan step writes what the claimer can
 * start itself `running` and queues the rest for workers; queued first attempts count as instances;
 * `runJob` queues (or records `max_instances` at once); the execute step starts queued runs of the
 * worker's tasks only, oldest first, within `limit`, waiting for a free instance slot, recording
 * `missed` past the misfire grace time and `abandoned` when the job is gone. Every time is an
 * explicit 2030 instant, so expected times are arithmetic on them.
 */
import type { ClaimOptions, ClaimPlanner, ExecutionRecord, JobStore, QueuedClaimOptions } from '../../src/stores/job-store.js'
import type { MakeStore, TapTest } from './contract.js'
import { at, newJob, openStore } from './contract.js'

const LEADER = 'leader'
const WORKER = 'worker'
const LEASE_MS = 30_000
const ms = (date: Date | null | undefined): number | null => (date == null ? null : date.getTime())

/** Runs each due job's next run time, and (with `batch`) the fire time one second later too; records the instance counts it was told. */
function planner (batch = false): { plan: ClaimPlanner, instances: Map<string, number> } {
  const instances = new Map<string, number>()
  const plan: ClaimPlanner = (job, _now, count) => {
    instances.set(job.id, count)
    const due = job.nextRunTime as Date
    return { run: batch ? [due, new Date(due.getTime() + 1000)] : [due], missed: [], maxInstances: [], nextRunTime: new Date(due.getTime() + 3_600_000), coalesced: 0 }
  }
  return { plan, instances }
}

function planStep (now: Date, plan: ClaimPlanner, startLimit: number, tasks: string[]): ClaimOptions {
  return { now, limit: 100, startLimit, tasks, owner: LEADER, leaseMs: LEASE_MS, plan }
}

function worker (now: Date, tasks: string[], limit = 100, owner = WORKER): QueuedClaimOptions {
  return { now, limit, owner, leaseMs: LEASE_MS, tasks }
}

export function queuedRunsContract (t: TapTest, makeStore: MakeStore): void {
  const open = async (t: TapTest): Promise<JobStore> => openStore(t, makeStore)

  /** Every execution of a job as [status, owner], oldest run time first. */
  async function rows (store: JobStore, jobId: string): Promise<Array<[string, string | null]>> {
    return (await store.getExecutions({ jobId })).reverse().map((e) => [e.status, e.owner])
  }

  t.test('the plan step starts what the claimer can run itself, within startLimit, and queues the rest', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('a', { nextRunTime: at(0) }))
    await store.addJob(newJob('b', { nextRunTime: at(1) }))
    await store.addJob(newJob('c', { nextRunTime: at(2) }))
    await store.addJob(newJob('other', { task: 'task.b', nextRunTime: at(3) }))
    const { plan } = planner()
    const claims = await store.claimDueJobs(planStep(at(10), plan, 2, ['task.a']))
    t.same(claims.map((claim) => [claim.job.id, claim.running.length, claim.queued?.length ?? 0]),
      [['a', 1, 0], ['b', 1, 0], ['c', 0, 1], ['other', 0, 1]], 'two slots: a and b start here; c waits; task.b is not registered here')
    t.match(claims[0]?.running[0], { status: 'running', owner: LEADER })
    const queued = claims[2]?.queued?.[0] as ExecutionRecord
    t.match(queued, { jobId: 'c', status: 'queued', attempt: 1, owner: null, startedAt: null, finishedAt: null, leaseUntil: null })
    t.equal(ms(queued.runTime), ms(at(2)), 'the occurrence keeps its run time')
    t.equal(ms((await store.getJob('c'))?.nextRunTime), ms(at(3602)), 'a queued job is advanced like a started one')
    t.same(await rows(store, 'other'), [['queued', null]])
  })

  t.test('the plan step with startLimit 0 (execute: false) queues every run; a catch-up batch counts once', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('x', { nextRunTime: at(0) }))
    await store.addJob(newJob('y', { nextRunTime: at(0.5) }))
    const none = await store.claimDueJobs(planStep(at(10), planner().plan, 0, ['task.a']))
    t.same(none.map((claim) => [claim.running.length, claim.queued?.length]), [[0, 1], [0, 1]], 'nothing starts on a process without slots')
    await store.addJob(newJob('batch', { nextRunTime: at(20) }))
    const [claim] = await store.claimDueJobs(planStep(at(30), planner(true).plan, 1, ['task.a']))
    t.same(claim?.running.map((e) => ms(e.runTime)), [ms(at(20)), ms(at(21))], 'both occurrences of the batch start under one slot')
  })

  t.test('queued first attempts count as instances when the next occurrence is planned', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('j', { nextRunTime: at(0), maxInstances: 1 }))
    await store.claimDueJobs(planStep(at(1), planner().plan, 0, []))
    await store.updateJob('j', { nextRunTime: at(5) })
    const { plan, instances } = planner()
    await store.claimDueJobs(planStep(at(6), plan, 0, []))
    t.equal(instances.get('j'), 1, 'the queued run is an instance')
  })

  t.test('queueRun queues a run now for a worker, or records max_instances when the job has no free instance', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('q', { nextRunTime: at(1000), maxInstances: 2 }))
    const first = await store.queueRun('q', at(5)) as ExecutionRecord
    t.match(first, { jobId: 'q', status: 'queued', owner: null, leaseUntil: null, startedAt: null, finishedAt: null })
    t.equal(ms(first.runTime), ms(at(5)))
    const second = await store.queueRun('q', at(5)) as ExecutionRecord
    t.equal(ms(second.runTime), ms(at(5)) as number + 1, 'a second run in the same millisecond moves one later')
    const third = await store.queueRun('q', at(5)) as ExecutionRecord
    t.match(third, { status: 'max_instances', startedAt: null }, 'two queued runs fill two instances')
    t.equal(ms(third.finishedAt), ms(at(5)))
    t.equal(await store.queueRun('nope', at(5)), null)
    t.equal(ms((await store.getNextQueuedStart(['task.a'])).nextStartTime), ms(at(5)), 'a worker with the task wakes for it')
    t.equal((await store.getNextQueuedStart(['task.b'])).nextStartTime, null, 'a worker without it does not')
    t.equal((await store.getNextWakeup()).nextRunTime?.getTime(), ms(at(1000)), 'the plan step\'s wake-up is the job\'s next run time only')
  })

  t.test('the execute step starts queued runs of the worker\'s tasks only, oldest first, within limit', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('a', { nextRunTime: at(1000), maxInstances: 5 }))
    await store.addJob(newJob('b', { task: 'task.b', nextRunTime: at(1000), maxInstances: 5 }))
    const runs = [await store.queueRun('a', at(3)), await store.queueRun('b', at(1)), await store.queueRun('a', at(2)), await store.queueRun('a', at(4))] as ExecutionRecord[]
    t.same(await store.claimQueuedRuns(worker(at(10), ['task.c'])), [], 'no run of an unregistered task')
    const claims = await store.claimQueuedRuns(worker(at(10), ['task.a'], 2))
    t.same(claims.flatMap((claim) => claim.running.map((e) => e.id)), [runs[2]?.id, runs[0]?.id], 'the two oldest of task.a')
    t.match(claims[0]?.running[0], { status: 'running', owner: WORKER, attempt: 1 })
    t.equal(ms(claims[0]?.running[0]?.startedAt), ms(at(10)))
    t.equal(ms(claims[0]?.running[0]?.leaseUntil), ms(at(10)) as number + LEASE_MS)
    t.equal(claims[0]?.catchUp, undefined, 'each started run is an instance of its own')
    const rest = await store.claimQueuedRuns(worker(at(11), ['task.a', 'task.b'], 10))
    t.same(rest.flatMap((claim) => claim.running.map((e) => e.id)).sort(), [runs[1]?.id, runs[3]?.id].sort())
    t.same(await store.claimQueuedRuns(worker(at(12), ['task.a', 'task.b'])), [], 'started runs are not started twice')
  })

  t.test('a queued run waits for a free instance slot (it is not recorded max_instances), then starts', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('one', { nextRunTime: at(0), maxInstances: 1 }))
    const [planned] = await store.claimDueJobs(planStep(at(0), planner(true).plan, 0, []))
    t.equal(planned?.queued?.length, 2, 'a catch-up batch queued whole')
    const [first] = await store.claimQueuedRuns(worker(at(1), ['task.a']))
    t.same(first?.running.map((e) => ms(e.runTime)), [ms(at(0))], 'the older starts; the other waits for the slot')
    t.same(first?.recorded, [])
    t.same(await store.claimQueuedRuns(worker(at(2), ['task.a'])), [], 'still waiting')
    await store.finishExecution(first?.running[0]?.id as number, { status: 'success', durationMs: 1 }, at(3))
    t.equal(ms((await store.getNextQueuedStart(['task.a'])).nextStartTime), ms(at(1)), 'the slot is free: the waiting run can start')
    const [second] = await store.claimQueuedRuns(worker(at(4), ['task.a']))
    t.same(second?.running.map((e) => ms(e.runTime)), [ms(at(1))], 'then it starts')
    t.same(await rows(store, 'one'), [['success', WORKER], ['running', WORKER]])
  })

  t.test('a due run waiting for a slot does not wake a worker (store clock)', async (t) => {
    const store = await open(t)
    const now = await store.now()
    await store.addJob(newJob('busy', { nextRunTime: new Date(now.getTime() - 10_000), maxInstances: 1 }))
    await store.claimDueJobs({ ...planStep(at(0), planner(true).plan, 0, []), now: null })
    t.ok((await store.getNextQueuedStart(['task.a'])).nextStartTime !== null, 'two runs queued, both due')
    const [claim] = await store.claimQueuedRuns({ ...worker(at(0), ['task.a']), now: null })
    t.equal(claim?.running.length, 1, 'one starts')
    t.equal((await store.getNextQueuedStart(['task.a'])).nextStartTime, null, 'the other waits for the slot without waking anyone')
  })

  t.test('the execute step records missed past the misfire grace time, and abandoned when the job is gone', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('late', { nextRunTime: at(1000), misfireGraceTime: 5, maxInstances: 5 }))
    await store.addJob(newJob('gone', { nextRunTime: at(1000) }))
    const onTime = await store.queueRun('late', at(10)) as ExecutionRecord
    const tooLate = await store.queueRun('late', at(4)) as ExecutionRecord
    const orphan = await store.queueRun('gone', at(1)) as ExecutionRecord
    await store.removeJob('gone')
    const claims = await store.claimQueuedRuns(worker(at(10), ['task.a']))
    const late = claims.find((claim) => claim.job.id === 'late')
    t.same(late?.recorded.map((e) => [e.id, e.status]), [[tooLate.id, 'missed']], 'run time 4 s, started at 10 s: 6 s late, grace 5 s')
    t.equal(ms(late?.recorded[0]?.finishedAt), ms(at(10)))
    t.same(late?.running.map((e) => e.id), [onTime.id], 'the on-time one starts')
    t.equal(claims.some((claim) => claim.job.id === 'gone'), false, 'a removed job has no claim')
    t.match(await store.getExecution(orphan.id), { status: 'abandoned', exception: 'the job was removed before its queued run started' })
  })

  t.test('a run queued for a task the job no longer has is left for a worker with the job\'s task', async (t) => {
    const store = await open(t)
    await store.addJob(newJob('moved', { nextRunTime: at(1000) }))
    const run = await store.queueRun('moved', at(1)) as ExecutionRecord
    await store.updateJob('moved', { task: 'task.b' })
    t.same(await store.claimQueuedRuns(worker(at(2), ['task.a'])), [], 'not started by a worker that has only the old task')
    t.equal((await store.getExecution(run.id))?.status, 'queued')
    const [claim] = await store.claimQueuedRuns(worker(at(3), ['task.b']))
    t.same(claim?.running.map((e) => e.id), [run.id], 'started by a worker with the new task')

    await store.addJob(newJob('renamed', { nextRunTime: at(1000) }))
    const direct = await store.queueRun('renamed', at(4)) as ExecutionRecord
    await store.updateJob('renamed', { task: 'task.c' })
    const [taken] = await store.claimQueuedRuns(worker(at(5), ['task.c']))
    t.same(taken?.running.map((e) => e.id), [direct.id], 'a worker with the new task takes it even when no worker has the old one')
  })

  t.test('a queued occurrence of a jittered job is measured against the misfire grace time from its jittered run time', async (t) => {
    const store = await open(t)
    // Fire time 0 s, jittered to 200 s; grace 60 s. Planned at 210 s (10 s late), started at 250 s (50 s late).
    await store.addJob(newJob('jittered', { nextFireTime: at(0), nextRunTime: at(200), misfireGraceTime: 60 }))
    const [planned] = await store.claimDueJobs(planStep(at(210), (job) => ({ run: [job.nextFireTime as Date], missed: [], maxInstances: [], nextRunTime: at(3600), coalesced: 0 }), 0, []))
    t.equal(ms(planned?.queued?.[0]?.startAfter), ms(at(200)), 'the queued row carries its jittered run time')
    const [started] = await store.claimQueuedRuns(worker(at(250), ['task.a']))
    t.same(started?.running.map((e) => ms(e.runTime)), [ms(at(0))], 'on time: 50 s after its jittered run time, though 250 s after its fire time')
  })
}
