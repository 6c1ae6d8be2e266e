/**
 * The JobStore contract suite (src/stores/job-store.ts): one set of tests that every job store
 * must pass. `memory.test.ts`, `postgresql.test.ts` and `pglite.test.ts` run it against their store.
 *
 * Time is driven by explicit `now` Dates (2030, far from any real clock), so nothing sleeps and
 * nothing depends on when the suite runs. Where a method is called with `now: null` (the store's
 * clock) the result is bracketed by `store.now()` read before and after the call.
 */
import tap from 'tap'
import { ConflictingIdError, JobNotFoundError } from '../../src/errors.js'
import { planClaim } from '../../src/scheduler/claim-planner.js'
import type {
  ClaimPlan, ClaimPlanner, ClaimedJob, ExecutionFilter, ExecutionRecord, JobFilter, JobRecord, JobStore, NewJobRecord
} from '../../src/stores/job-store.js'
import { createTrigger } from '../../src/triggers/create.js'
import type { FakeClock } from '../helpers/clock.js'

export type TapTest = Parameters<Parameters<typeof tap.test>[0]>[0]

export interface StoreFixture {
  /** A store on empty storage, not yet initialized (the suite calls `initialize()`). */
  store: JobStore
  /** The store's clock when the test controls it (MemoryJobStore); advanced between writes. */
  clock?: FakeClock
  /**
   * Another store on the same storage (another process, for the database stores), not yet
   * initialized. Absent for stores whose data is private to one instance.
   */
  sibling?: () => JobStore
}

export type MakeStore = (t: TapTest) => Promise<StoreFixture>

/** A store from `makeStore`, initialised, and closed at the end of `t`: what most contract parts start from. */
export async function openStore (t: TapTest, makeStore: MakeStore): Promise<JobStore> {
  const { store } = await makeStore(t)
  await store.initialize()
  t.teardown(async () => store.close())
  return store
}

/** 2030-01-01T00:00:00Z plus `seconds`. */
export const at = (seconds: number): Date => new Date(Date.UTC(2030, 0, 1) + seconds * 1000)

const OWNER = 'node-a'
const LEASE_MS = 30_000

export function newJob (id: string, overrides: Partial<NewJobRecord> = {}): NewJobRecord {
  return {
    id,
    name: `job ${id}`,
    task: 'task.a',
    args: [],
    trigger: { type: 'interval', seconds: 60 },
    nextRunTime: at(0),
    paused: false,
    misfireGraceTime: null,
    coalesce: true,
    maxInstances: 1,
    timeoutMs: null,
    lastError: null,
    ...overrides
  }
}

interface PlannerCall { jobId: string, now: Date, instances: number }

/** A planner that runs the job's next run time and moves it `stepMs` later, recording its calls. */
function stepPlanner (stepMs = 60_000): { plan: ClaimPlanner, calls: PlannerCall[] } {
  const calls: PlannerCall[] = []
  const plan: ClaimPlanner = (job, now, instances) => {
    calls.push({ jobId: job.id, now, instances })
    const due = job.nextRunTime as Date
    return { run: [due], missed: [], maxInstances: [], nextRunTime: new Date(due.getTime() + stepMs), coalesced: 0 }
  }
  return { plan, calls }
}

/** A planner that returns a fixed plan for every job, recording its calls. */
function fixedPlanner (plan: Partial<ClaimPlan> & { nextRunTime: Date | null }): { plan: ClaimPlanner, calls: PlannerCall[] } {
  const calls: PlannerCall[] = []
  return {
    calls,
    plan: (job, now, instances) => {
      calls.push({ jobId: job.id, now, instances })
      return { run: [], missed: [], maxInstances: [], coalesced: 0, ...plan }
    }
  }
}

/** The tasks of the jobs these tests add: a claimer with them starts what it plans itself. */
export const TEST_TASKS = ['task.a', 'task.b', 'reports.daily', 'x', 'mail', 'report']

const claimOptions = (now: Date | null, plan: ClaimPlanner, limit = 100, owner = OWNER) =>
  ({ now, limit, startLimit: limit, tasks: TEST_TASKS, owner, leaseMs: LEASE_MS, plan })

const ms = (date: Date | null | undefined): number | null => (date == null ? null : date.getTime())

/** `getExecution` without the two fields only it reads (`result`, `logs`): the row as claims, outcomes and lists return it. */
async function listed (store: JobStore, id: number): Promise<ExecutionRecord | null> {
  const execution = await store.getExecution(id)
  if (execution === null) return null
  const { result: _result, logs: _logs, ...rest } = execution
  return rest
}

async function caught (promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (error) {
    return error
  }
  return undefined
}

export function jobStoreContract (t: TapTest, makeStore: MakeStore): void {
  /** A fresh, initialized store. */
  async function open (t: TapTest): Promise<StoreFixture & { tick(): void }> {
    const fixture = await makeStore(t)
    await fixture.store.initialize()
    t.teardown(async () => fixture.store.close())
    // Moves a controllable clock on, so "set at write time" is distinguishable from "kept".
    return { ...fixture, tick: () => fixture.clock?.advance(1000) }
  }

  /** Runs `fn` and checks its returned time lies within the store's clock before and after. */
  async function bracket<T> (store: JobStore, fn: () => Promise<T>): Promise<{ value: T, before: number, after: number }> {
    const before = (await store.now()).getTime()
    const value = await fn()
    const after = (await store.now()).getTime()
    return { value, before, after }
  }

  function assertWithin (t: TapTest, date: Date | null, range: { before: number, after: number }, what: string): void {
    t.ok(date instanceof Date, `${what} is a Date`)
    const time = ms(date) as number
    t.ok(time >= range.before && time <= range.after, `${what} (${date?.toISOString()}) is within the store clock around the call`)
  }

  t.test('initialize() is idempotent and keeps data', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('kept'))
    await store.initialize()
    await store.initialize()
    t.equal((await store.getJob('kept'))?.id, 'kept', 'a job added before a second initialize() is still there')
    t.same((await store.getJobs()).map((job) => job.id), ['kept'])
  })

  t.test('initialize() from two stores on the same storage at once', async (t) => {
    const { store, sibling } = await makeStore(t)
    if (sibling === undefined) {
      await Promise.all([store.initialize(), store.initialize()])
    } else {
      const others = [sibling(), sibling(), sibling()]
      await Promise.all([store.initialize(), ...others.map(async (other) => other.initialize())])
      await others[0]?.addJob(newJob('from-sibling'))
      t.equal((await store.getJob('from-sibling'))?.id, 'from-sibling', 'both stores see the same tables')
    }
    await store.addJob(newJob('a'))
    t.equal((await store.getJob('a'))?.version, 1)
  })

  t.test('now() is a Date that does not go backwards', async (t) => {
    const { store } = await open(t)
    const first = await store.now()
    const second = await store.now()
    t.ok(first instanceof Date && !Number.isNaN(first.getTime()), 'a valid Date')
    t.ok(second.getTime() >= first.getTime(), 'monotonic')
  })

  t.test('addJob returns the stored record with times and version 1', async (t) => {
    const { store } = await open(t)
    const input = newJob('report', {
      name: 'Daily report',
      task: 'reports.daily',
      args: [1, 'two', { three: [3, { four: null }] }, true, null],
      trigger: { type: 'cron', expression: '*/5 * * * *', timezone: 'Asia/Shanghai' },
      nextRunTime: at(90.5),
      paused: true,
      misfireGraceTime: 30,
      coalesce: false,
      maxInstances: 3,
      timeoutMs: 5000,
      lastError: 'previous problem'
    })
    const { value: added, before, after } = await bracket(store, async () => store.addJob(input))
    t.same({ ...added, createdAt: undefined, updatedAt: undefined }, { ...input, nextFireTime: input.nextRunTime, captureLogs: true, retry: null, recover: false, version: 1, createdAt: undefined, updatedAt: undefined }, 'every field round-trips; nextFireTime defaults to nextRunTime, captureLogs to true, retry to null, recover to false')
    t.equal(ms(added.nextRunTime), ms(at(90.5)), 'nextRunTime keeps milliseconds')
    t.equal(added.version, 1)
    assertWithin(t, added.createdAt, { before, after }, 'createdAt')
    t.equal(ms(added.updatedAt), ms(added.createdAt), 'updatedAt = createdAt on creation')
    t.same(await store.getJob('report'), added, 'getJob returns the same record')

    input.args.push('mutated after add')
    added.args.push('returned record mutated')
    added.name = 'changed by the caller'
    const read = await store.getJob('report') as JobRecord
    read.args.push('read record mutated')
    const again = await store.getJob('report')
    t.same(again?.args, [1, 'two', { three: [3, { four: null }] }, true, null], 'the store keeps its own copy of the input and its answers')
    t.equal(again?.name, 'Daily report')

    const finished = await store.addJob(newJob('finished', { nextRunTime: null }))
    t.equal(finished.nextRunTime, null, 'a null nextRunTime is stored as null')
  })

  t.test('addJob refuses an existing id with ConflictingIdError (409); replaceExisting overwrites', async (t) => {
    const { store, tick } = await open(t)
    const original = await store.addJob(newJob('dup', { name: 'original' }))
    tick()
    const error = await caught(store.addJob(newJob('dup', { name: 'second' })))
    t.ok(error instanceof ConflictingIdError, 'a ConflictingIdError')
    t.equal(error?.code, 'FST_SCHEDULER_CONFLICTING_ID')
    t.equal(error?.statusCode, 409)
    t.match(error?.message, /'dup'/, 'the message names the id')
    t.same(await store.getJob('dup'), original, 'the existing job is untouched')

    const error2 = await caught(store.addJob(newJob('dup', { name: 'third' }), { replaceExisting: false }))
    t.equal(error2?.code, 'FST_SCHEDULER_CONFLICTING_ID', 'replaceExisting: false refuses too')

    const { value: replaced, before, after } = await bracket(store, async () =>
      store.addJob(newJob('dup', { name: 'replaced', task: 'task.b', args: ['x'], nextRunTime: at(500), paused: true, maxInstances: 2, lastError: null }), { replaceExisting: true }))
    t.equal(replaced.name, 'replaced')
    t.equal(replaced.task, 'task.b')
    t.same(replaced.args, ['x'])
    t.equal(ms(replaced.nextRunTime), ms(at(500)))
    t.equal(replaced.paused, true)
    t.equal(replaced.maxInstances, 2)
    t.equal(replaced.version, 2, 'replacing bumps the version')
    t.equal(ms(replaced.createdAt), ms(original.createdAt), 'createdAt is kept')
    assertWithin(t, replaced.updatedAt, { before, after }, 'updatedAt')
    t.same(await store.getJob('dup'), replaced)

    const fresh = await store.addJob(newJob('new-with-replace'), { replaceExisting: true })
    t.equal(fresh.version, 1, 'replaceExisting on a new id creates it with version 1')
  })

  t.test('addJobs is all or nothing', async (t) => {
    const { store } = await open(t)
    t.same(await store.addJobs([]), [], 'an empty batch adds nothing')
    const added = await store.addJobs([newJob('b', { task: 'x' }), newJob('a', { args: [{ k: 1 }] }), newJob('c', { nextRunTime: null })])
    t.same(added.map((job) => job.id), ['b', 'a', 'c'], 'records come back in the order given')
    t.same(added.map((job) => job.version), [1, 1, 1])
    t.same(added[1]?.args, [{ k: 1 }])
    t.equal(added[2]?.nextRunTime, null)
    t.same(await store.getJob('b'), added[0])

    const error = await caught(store.addJobs([newJob('d'), newJob('a'), newJob('e')]))
    t.ok(error instanceof ConflictingIdError, 'a batch with an existing id is refused')
    t.equal(error?.code, 'FST_SCHEDULER_CONFLICTING_ID')
    t.equal(error?.statusCode, 409)
    t.match(error?.message, /'a'/, 'the error names the existing id')
    t.equal(await store.getJob('d'), null, 'nothing before the conflict was written')
    t.equal(await store.getJob('e'), null, 'nothing after the conflict was written')

    const duplicate = await caught(store.addJobs([newJob('f'), newJob('g'), newJob('f')]))
    t.equal(duplicate?.code, 'FST_SCHEDULER_CONFLICTING_ID', 'a batch that repeats an id is refused')
    t.match(duplicate?.message, /'f'/, 'the error names the repeated id')
    t.equal(await store.getJob('f'), null, 'nothing of that batch was written')
    t.equal(await store.getJob('g'), null)
    t.same((await store.getJobs()).map((job) => job.id), ['a', 'b', 'c'])
  })

  t.test('getJob returns null for an unknown id', async (t) => {
    const { store } = await open(t)
    t.equal(await store.getJob('nope'), null)
    await store.addJob(newJob('yes'))
    t.equal(await store.getJob('nope'), null)
    t.equal(await store.getJob('YES'), null, 'ids are case-sensitive')
  })

  t.test('getJobs filters by task, paused and flagged, ordered by id, with pagination', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('d', { task: 'mail' }))
    await store.addJob(newJob('b', { task: 'mail', paused: true }))
    await store.addJob(newJob('e', { task: 'report', lastError: 'broken' }))
    await store.addJob(newJob('a', { task: 'report' }))
    await store.addJob(newJob('c', { task: 'mail', paused: true, lastError: 'broken too' }))
    const ids = async (filter?: Parameters<JobStore['getJobs']>[0]): Promise<string[]> => (await store.getJobs(filter)).map((job) => job.id)

    t.same(await ids(), ['a', 'b', 'c', 'd', 'e'], 'all jobs, ordered by id')
    t.same(await ids({}), ['a', 'b', 'c', 'd', 'e'])
    t.same(await ids({ task: 'mail' }), ['b', 'c', 'd'])
    t.same(await ids({ task: 'none' }), [])
    t.same(await ids({ paused: true }), ['b', 'c'])
    t.same(await ids({ paused: false }), ['a', 'd', 'e'])
    t.same(await ids({ flagged: true }), ['c', 'e'])
    t.same(await ids({ flagged: false }), ['a', 'b', 'd'])
    t.same(await ids({ task: 'mail', paused: true, flagged: false }), ['b'], 'filters combine')
    t.same(await ids({ limit: 2 }), ['a', 'b'])
    t.same(await ids({ limit: 2, offset: 2 }), ['c', 'd'])
    t.same(await ids({ limit: 2, offset: 4 }), ['e'])
    t.same(await ids({ offset: 3 }), ['d', 'e'], 'offset without limit')
    t.same(await ids({ offset: 10 }), [])
    t.same(await ids({ task: 'mail', limit: 1, offset: 1 }), ['c'], 'pagination applies after filtering')
    const [first] = await store.getJobs({ task: 'report', flagged: true })
    t.equal(first?.lastError, 'broken', 'full records are returned')
  })

  t.test('updateJob applies the patch, bumps version and updatedAt', async (t) => {
    const { store, tick } = await open(t)
    const created = await store.addJob(newJob('u', { args: [1], maxInstances: 2, misfireGraceTime: 10 }))
    tick()
    const { value: updated, before, after } = await bracket(store, async () => store.updateJob('u', {
      name: 'renamed', args: [{ deep: ['x'] }], trigger: { type: 'date', runDate: '2030-02-01T00:00:00Z' }, nextRunTime: at(3600), paused: true, lastError: 'flag'
    }))
    t.equal(updated.version, 2)
    assertWithin(t, updated.updatedAt, { before, after }, 'updatedAt')
    t.ok(updated.updatedAt.getTime() >= created.updatedAt.getTime(), 'updatedAt does not go back')
    t.equal(ms(updated.createdAt), ms(created.createdAt), 'createdAt is kept')
    t.equal(updated.name, 'renamed')
    t.same(updated.args, [{ deep: ['x'] }])
    t.same(updated.trigger, { type: 'date', runDate: '2030-02-01T00:00:00Z' })
    t.equal(ms(updated.nextRunTime), ms(at(3600)))
    t.equal(updated.paused, true)
    t.equal(updated.lastError, 'flag')
    t.equal(updated.task, 'task.a', 'fields not in the patch are kept')
    t.equal(updated.maxInstances, 2)
    t.equal(updated.misfireGraceTime, 10)
    t.same(await store.getJob('u'), updated, 'the update is stored')

    tick()
    const cleared = await store.updateJob('u', { nextRunTime: null, lastError: null, misfireGraceTime: null, timeoutMs: 100 })
    t.equal(cleared.version, 3, 'every update bumps the version')
    t.equal(cleared.nextRunTime, null, 'a field can be set to null')
    t.equal(cleared.lastError, null)
    t.equal(cleared.misfireGraceTime, null)
    t.equal(cleared.timeoutMs, 100)
    t.equal(cleared.name, 'renamed')

    const empty = await store.updateJob('u', {})
    t.equal(empty.version, 4, 'an empty patch still bumps the version')

    const error = await caught(store.updateJob('missing', { name: 'x' }))
    t.ok(error instanceof JobNotFoundError, 'JobNotFoundError for an unknown id')
    t.equal(error?.code, 'FST_SCHEDULER_JOB_NOT_FOUND')
    t.equal(error?.statusCode, 404)
    t.match(error?.message, /'missing'/)
    t.equal(await store.getJob('missing'), null, 'updating an unknown id does not create it')
  })

  t.test('removeJob deletes the job and keeps its executions', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('gone'))
    await store.addJob(newJob('stays'))
    const execution = await store.claimImmediateRun('gone', { now: at(10), owner: OWNER, leaseMs: LEASE_MS })
    t.ok(execution, 'an execution exists before removal')
    t.equal(await store.removeJob('gone'), true, 'true when the job existed')
    t.equal(await store.getJob('gone'), null)
    t.equal(await store.removeJob('gone'), false, 'false the second time')
    t.equal(await store.removeJob('never'), false, 'false for an unknown id')
    t.same((await store.getJobs()).map((job) => job.id), ['stays'], 'other jobs are untouched')
    const history = await store.getExecutions({ jobId: 'gone' })
    t.equal(history.length, 1, 'the execution history outlives the job')
    t.same(await listed(store, execution?.id as number), execution)
    t.equal(await store.claimImmediateRun('gone', { now: at(20), owner: OWNER, leaseMs: LEASE_MS }), null, 'a removed job cannot be run')
  })

  t.test('getNextWakeup ignores paused, flagged and finished jobs', async (t) => {
    const { store, clock } = await open(t)
    const empty = await bracket(store, async () => store.getNextWakeup())
    t.equal(empty.value.nextRunTime, null, 'null without jobs')
    assertWithin(t, empty.value.now, empty, 'now')

    await store.addJob(newJob('paused', { nextRunTime: at(1), paused: true }))
    await store.addJob(newJob('flagged', { nextRunTime: at(2), lastError: 'broken' }))
    await store.addJob(newJob('finished', { nextRunTime: null }))
    t.equal((await store.getNextWakeup()).nextRunTime, null, 'only unclaimable jobs: null')
    await store.addJob(newJob('later', { nextRunTime: at(20) }))
    await store.addJob(newJob('sooner', { nextRunTime: at(10) }))
    t.equal(ms((await store.getNextWakeup()).nextRunTime), ms(at(10)), 'the earliest claimable job')

    await store.updateJob('sooner', { paused: true })
    t.equal(ms((await store.getNextWakeup()).nextRunTime), ms(at(20)), 'pausing removes it')
    await store.updateJob('paused', { paused: false })
    t.equal(ms((await store.getNextWakeup()).nextRunTime), ms(at(1)), 'resuming brings it back')
    await store.updateJob('paused', { lastError: 'now flagged' })
    await store.updateJob('flagged', { lastError: null })
    t.equal(ms((await store.getNextWakeup()).nextRunTime), ms(at(2)), 'clearing the flag brings a job back')
    await store.removeJob('flagged')
    t.equal(ms((await store.getNextWakeup()).nextRunTime), ms(at(20)))
    if (clock !== undefined) {
      clock.set(at(7))
      t.equal(ms((await store.getNextWakeup()).now), ms(at(7)), 'now is the store clock')
    }
  })

  t.test('claimDueJobs claims only due jobs, ordered by nextRunTime, and writes running executions', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('a', { nextRunTime: at(10) }))
    await store.addJob(newJob('b', { nextRunTime: at(0) }))
    await store.addJob(newJob('c', { nextRunTime: at(5) }))
    await store.addJob(newJob('d', { nextRunTime: at(20) }))
    await store.addJob(newJob('e', { nextRunTime: at(21) }))
    await store.addJob(newJob('paused', { nextRunTime: at(-5), paused: true }))
    await store.addJob(newJob('flagged', { nextRunTime: at(-5), lastError: 'broken' }))
    await store.addJob(newJob('finished', { nextRunTime: null }))
    const { plan, calls } = stepPlanner(3_600_000)
    const now = at(20)

    const claims = await store.claimDueJobs(claimOptions(now, plan))
    t.same(claims.map((claim) => claim.job.id), ['b', 'c', 'a', 'd'], 'due jobs (nextRunTime <= now) in nextRunTime order')
    t.same(calls.map((call) => call.jobId), ['b', 'c', 'a', 'd'], 'the planner saw each due job once')
    t.ok(calls.every((call) => ms(call.now) === ms(now)), 'the planner got the claim time')
    t.ok(calls.every((call) => call.instances === 0), 'instances 0 without running executions')
    t.equal(ms(claims[0]?.job.nextRunTime), ms(at(0)), 'claim.job is the job as it was when claimed')

    for (const claim of claims) {
      const job = claim.job
      t.equal(claim.running.length, 1, `${job.id}: one running execution`)
      t.same(claim.recorded, [], `${job.id}: nothing else recorded`)
      t.same(claim.claimedElsewhere, [])
      t.equal(claim.flagged, null)
      t.equal(claim.coalesced, 0)
      const execution = claim.running[0] as ExecutionRecord
      t.equal(execution.jobId, job.id)
      t.equal(execution.status, 'running')
      t.equal(ms(execution.runTime), ms(job.nextRunTime), `${job.id}: runTime is the planned occurrence`)
      t.equal(ms(execution.startedAt), ms(now), `${job.id}: startedAt is the claim time`)
      t.equal(execution.finishedAt, null)
      t.equal(execution.owner, OWNER)
      t.equal(ms(execution.leaseUntil), now.getTime() + LEASE_MS, `${job.id}: leaseUntil = now + leaseMs`)
      t.equal(execution.durationMs, null)
      t.equal(execution.exception, null)
      t.same(await listed(store, execution.id), execution, `${job.id}: the execution is stored as returned`)
      const stored = await store.getJob(job.id)
      t.equal(ms(stored?.nextRunTime), (ms(job.nextRunTime) as number) + 3_600_000, `${job.id}: nextRunTime advanced as planned`)
    }
    t.equal(new Set(claims.map((claim) => claim.running[0]?.id)).size, 4, 'distinct execution ids')
    t.equal(ms((await store.getJob('e'))?.nextRunTime), ms(at(21)), 'a job not yet due is untouched')
    t.equal(ms((await store.getJob('paused'))?.nextRunTime), ms(at(-5)), 'a paused job is untouched')
    t.equal((await store.getExecutions()).length, 4, 'only the claimed executions were written')

    const again = await store.claimDueJobs(claimOptions(now, plan))
    t.same(again, [], 'nothing is due any more at the same time')
    t.equal(calls.length, 4, 'the planner is not called without due jobs')
    const later = await store.claimDueJobs(claimOptions(at(21), plan))
    t.same(later.map((claim) => claim.job.id), ['e'], 'a second later it is the next job')
  })

  t.test('claimDueJobs respects the limit, earliest first', async (t) => {
    const { store } = await open(t)
    for (const [id, second] of [['j1', 4], ['j2', 1], ['j3', 3], ['j4', 0], ['j5', 2]] as const) {
      await store.addJob(newJob(id, { nextRunTime: at(second) }))
    }
    const { plan, calls } = stepPlanner(3_600_000)
    const first = await store.claimDueJobs(claimOptions(at(10), plan, 2))
    t.same(first.map((claim) => claim.job.id), ['j4', 'j2'])
    t.equal(calls.length, 2, 'jobs beyond the limit are not planned')
    t.equal(ms((await store.getJob('j3'))?.nextRunTime), ms(at(3)), 'jobs beyond the limit are untouched')
    const second = await store.claimDueJobs(claimOptions(at(10), plan, 2))
    t.same(second.map((claim) => claim.job.id), ['j5', 'j3'])
    const third = await store.claimDueJobs(claimOptions(at(10), plan, 2))
    t.same(third.map((claim) => claim.job.id), ['j1'])
    t.equal((await store.getExecutions()).length, 5)
  })

  t.test('claimDueJobs writes running, missed and max_instances rows as planned, with the running count', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('m', { nextRunTime: at(0), maxInstances: 3, coalesce: false }))
    const now = at(100)
    const first = fixedPlanner({ run: [at(60)], missed: [at(0)], maxInstances: [at(30)], nextRunTime: at(120), coalesced: 2 })
    // Leases long enough that every running row is still live at the later claims.
    const longLease = (at: Date, plan: ClaimPlanner) => ({ ...claimOptions(at, plan), leaseMs: 1_000_000 })
    const [claim] = await store.claimDueJobs(longLease(now, first.plan))
    t.same(first.calls.map((call) => call.instances), [0])
    t.equal(claim?.coalesced, 2, 'coalesced is passed through from the plan')
    t.same(claim?.running.map((e) => [e.status, ms(e.runTime)]), [['running', ms(at(60))]])
    t.same(claim?.recorded.map((e) => [e.status, ms(e.runTime)]).sort((x, y) => (x[1] as number) - (y[1] as number)),
      [['missed', ms(at(0))], ['max_instances', ms(at(30))]], 'missed and max_instances rows are recorded')
    for (const row of claim?.recorded ?? []) {
      t.equal(row.jobId, 'm')
      t.equal(ms(row.finishedAt), ms(now), `${row.status}: finishedAt is the claim time`)
      t.equal(row.startedAt, null, `${row.status}: never started`)
      t.equal(row.leaseUntil, null, `${row.status}: no lease`)
      t.equal(row.durationMs, null)
      t.equal(row.owner, OWNER, `${row.status}: owner is the claimer`)
      t.same(await listed(store, row.id), row)
    }
    t.equal(ms((await store.getJob('m'))?.nextRunTime), ms(at(120)))

    const second = fixedPlanner({ run: [at(120)], nextRunTime: at(180) })
    await store.claimDueJobs(longLease(at(130), second.plan))
    t.same(second.calls.map((call) => call.instances), [1], 'the planner is told about the running execution')
    const third = fixedPlanner({ run: [at(180)], nextRunTime: at(240) })
    await store.claimDueJobs(longLease(at(190), third.plan))
    t.same(third.calls.map((call) => call.instances), [2], 'missed and max_instances rows are not counted as running')
    t.same((await store.getExecutions({ jobId: 'm', status: 'running' })).map((e) => ms(e.runTime)), [ms(at(180)), ms(at(120)), ms(at(60))])
  })

  t.test('claimDueJobs counts running executions per job', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('busy', { nextRunTime: at(0), maxInstances: 5 }))
    await store.addJob(newJob('idle', { nextRunTime: at(0), maxInstances: 5 }))
    await store.claimImmediateRun('busy', { now: at(-10), owner: 'other', leaseMs: LEASE_MS })
    await store.claimImmediateRun('busy', { now: at(-9), owner: 'other', leaseMs: LEASE_MS })
    const { plan, calls } = stepPlanner()
    await store.claimDueJobs(claimOptions(at(1), plan))
    t.same(Object.fromEntries(calls.map((call) => [call.jobId, call.instances])), { busy: 2, idle: 0 })
  })

  t.test('claimDueJobs can finish a job (nextRunTime null)', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('once', { nextRunTime: at(0), trigger: { type: 'date', runDate: '2030-01-01T00:00:00Z' } }))
    const { plan } = fixedPlanner({ run: [at(0)], nextRunTime: null })
    const [claim] = await store.claimDueJobs(claimOptions(at(1), plan))
    t.equal(claim?.running.length, 1)
    const job = await store.getJob('once')
    t.equal(job?.nextRunTime, null, 'the finished job keeps no next run time')
    t.ok(job, 'a finished job is kept')
    t.equal((await store.getNextWakeup()).nextRunTime, null)
    t.same(await store.claimDueJobs(claimOptions(at(1_000_000), plan)), [], 'a finished job is never claimed')
  })

  t.test('a jittered job is claimed at nextRunTime; the plan sets nextFireTime and nextRunTime apart', async (t) => {
    const { store } = await open(t)
    const added = await store.addJob(newJob('jittered', { nextFireTime: at(10), nextRunTime: at(14) }))
    t.equal(ms(added.nextFireTime), ms(at(10)), 'the exact fire time is stored as given')
    t.equal(ms(added.nextRunTime), ms(at(14)))
    t.same(await store.claimDueJobs(claimOptions(at(12), fixedPlanner({ run: [], nextRunTime: null }).plan)), [], 'not claimed before its jittered run time')
    t.equal(ms((await store.getNextWakeup()).nextRunTime), ms(at(14)), 'the wake-up follows the jittered run time')
    const [claim] = await store.claimDueJobs(claimOptions(at(14), fixedPlanner({ run: [at(10)], nextFireTime: at(20), nextRunTime: at(23) }).plan))
    t.same(claim?.running.map((e) => ms(e.runTime)), [ms(at(10))], 'the execution is keyed by the exact fire time')
    const job = await store.getJob('jittered')
    t.equal(ms(job?.nextFireTime), ms(at(20)))
    t.equal(ms(job?.nextRunTime), ms(at(23)))
    const moved = await store.updateJob('jittered', { nextRunTime: at(50) })
    t.equal(ms(moved.nextFireTime), ms(at(50)), 'a patch that moves nextRunTime alone moves the fire time with it')
  })

  t.test('claimDueJobs flags a job through lastError; flagged jobs are not claimed again', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('bad', { nextRunTime: at(0) }))
    await store.addJob(newJob('good', { nextRunTime: at(1) }))
    const plan: ClaimPlanner = (job) => job.id === 'bad'
      ? { run: [], missed: [], maxInstances: [], coalesced: 0, nextRunTime: job.nextRunTime, lastError: "task 'task.a' is not registered" }
      : { run: [job.nextRunTime as Date], missed: [], maxInstances: [], coalesced: 0, nextRunTime: at(3600) }
    const claims = await store.claimDueJobs(claimOptions(at(5), plan))
    const bad = claims.find((claim) => claim.job.id === 'bad') as ClaimedJob
    t.equal(bad.flagged, "task 'task.a' is not registered", 'the claim reports the flag')
    t.same(bad.running, [])
    t.same(bad.recorded, [])
    const good = claims.find((claim) => claim.job.id === 'good') as ClaimedJob
    t.equal(good.flagged, null, 'other jobs of the batch are not flagged')
    t.equal(good.running.length, 1)
    const stored = await store.getJob('bad')
    t.equal(stored?.lastError, "task 'task.a' is not registered", 'the flag is stored')
    t.equal(ms(stored?.nextRunTime), ms(at(0)), 'nextRunTime as planned (kept)')
    t.ok(stored, 'a flagged job is kept, never deleted')
    t.equal((await store.getJob('good'))?.lastError, null)
    t.same((await store.getExecutions({ jobId: 'bad' })), [], 'no execution for the flagged job')

    const again = await store.claimDueJobs(claimOptions(at(10), plan))
    t.same(again, [], 'the flagged job is not claimed again')
    t.same((await store.getJobs({ flagged: true })).map((job) => job.id), ['bad'])
    t.equal(ms((await store.getNextWakeup()).nextRunTime), ms(at(3600)), 'nor does it wake the scheduler')

    await store.updateJob('bad', { lastError: null })
    const fixed = await store.claimDueJobs(claimOptions(at(10), stepPlanner().plan))
    t.same(fixed.map((claim) => claim.job.id), ['bad'], 'once the flag is cleared it is claimable again')
    t.equal((await store.getJob('bad'))?.lastError, null, 'a successful claim leaves lastError null')
  })

  t.test('claimDueJobs reports an occurrence that already has a row as claimedElsewhere and writes nothing for it', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('x', { nextRunTime: at(50), maxInstances: 5 }))
    const existing = await store.claimImmediateRun('x', { now: at(0), owner: 'other-node', leaseMs: LEASE_MS }) as ExecutionRecord
    t.equal(ms(existing.runTime), ms(at(0)))
    await store.updateJob('x', { nextRunTime: at(0) })

    const { plan } = fixedPlanner({ run: [at(0), at(1)], missed: [], nextRunTime: at(60) })
    const [claim] = await store.claimDueJobs(claimOptions(at(2), plan))
    t.same(claim?.claimedElsewhere.map(ms), [ms(at(0))], 'the existing occurrence is reported')
    t.same(claim?.running.map((e) => ms(e.runTime)), [ms(at(1))], 'the other occurrence is claimed')
    t.same(await listed(store, existing.id), existing, 'the existing row is untouched')
    t.equal((await store.getExecutions({ jobId: 'x' })).length, 2, 'no second row for the occurrence')
    t.equal(ms((await store.getJob('x'))?.nextRunTime), ms(at(60)), 'nextRunTime still advances')

    await store.updateJob('x', { nextRunTime: at(0) })
    const missed = fixedPlanner({ missed: [at(0)], maxInstances: [at(1)], nextRunTime: at(60) })
    const [conflicted] = await store.claimDueJobs(claimOptions(at(2), missed.plan))
    t.same(conflicted?.claimedElsewhere.map(ms).sort(), [ms(at(0)), ms(at(1))], 'recorded rows conflict as well')
    t.same(conflicted?.recorded, [])
    t.same(conflicted?.running, [])
    t.same((await store.getExecutions({ jobId: 'x' })).map((e) => e.status), ['running', 'running'], 'the existing rows keep their status')
  })

  t.test('claimDueJobs uses the store clock when now is null', async (t) => {
    const { store, clock } = await open(t)
    clock?.set(at(0))
    const storeNow = await store.now()
    await store.addJob(newJob('past', { nextRunTime: new Date(storeNow.getTime() - 60_000) }))
    await store.addJob(newJob('future', { nextRunTime: new Date(storeNow.getTime() + 3_600_000) }))
    const { plan, calls } = stepPlanner(3_600_000 * 24)
    const { value: claims, before, after } = await bracket(store, async () => store.claimDueJobs(claimOptions(null, plan)))
    t.same(claims.map((claim) => claim.job.id), ['past'])
    assertWithin(t, calls[0]?.now ?? null, { before, after }, 'the planner time')
    const execution = claims[0]?.running[0]
    assertWithin(t, execution?.startedAt ?? null, { before, after }, 'startedAt')
    t.equal(ms(execution?.leaseUntil), (ms(execution?.startedAt) as number) + LEASE_MS, 'leaseUntil = store now + leaseMs')
  })

  t.test('claimDueJobs with the real planner: misfire grace and max instances', async (t) => {
    const { store } = await open(t)
    const trigger = { type: 'interval' as const, seconds: 10, startDate: '2030-01-01T00:00:00Z' }
    await store.addJob(newJob('iv', { trigger, nextRunTime: at(0), coalesce: false, misfireGraceTime: 5, maxInstances: 1 }))
    const plan: ClaimPlanner = (job, now, instances) =>
      planClaim({ job, now, instances, trigger: createTrigger(job.trigger), taskRegistered: true, maxCatchUp: 100, random: Math.random })
    const [claim] = await store.claimDueJobs(claimOptions(at(35), plan))
    t.same(claim?.recorded.map((e) => [e.status, ms(e.runTime)]).sort((x, y) => (x[1] as number) - (y[1] as number)),
      [['missed', ms(at(0))], ['missed', ms(at(10))], ['missed', ms(at(20))]], 'occurrences later than the grace time are missed')
    t.same(claim?.running.map((e) => ms(e.runTime)), [ms(at(30))], 'the one within the grace time runs')
    t.equal(ms((await store.getJob('iv'))?.nextRunTime), ms(at(40)))
    const [busy] = await store.claimDueJobs(claimOptions(at(41), plan))
    t.same(busy?.recorded.map((e) => [e.status, ms(e.runTime)]), [['max_instances', ms(at(40))]], 'the slot is taken: max_instances')
    t.same(busy?.running, [])
  })

  t.test('concurrent claimDueJobs calls never claim the same occurrence', async (t) => {
    const { store, sibling } = await open(t)
    const other = sibling?.() ?? store
    await other.initialize()
    const jobs = Array.from({ length: 60 }, (_, i) => newJob(`job-${String(i).padStart(3, '0')}`, { nextRunTime: at(i % 7) }))
    await store.addJobs(jobs)
    const planned: string[] = []
    const plan: ClaimPlanner = (job) => {
      planned.push(job.id)
      return { run: [job.nextRunTime as Date], missed: [], maxInstances: [], coalesced: 0, nextRunTime: at(86_400) }
    }
    const claimers = [store, other, store, other]
    const results: ClaimedJob[] = []
    for (let round = 0; round < 30; round++) {
      const batch = await Promise.all(claimers.map(async (claimer, i) => claimer.claimDueJobs(claimOptions(at(10), plan, 4, `node-${i}`))))
      results.push(...batch.flat())
      if (batch.every((claims) => claims.length === 0)) break
    }
    const keys = results.flatMap((claim) => claim.running.map((e) => `${e.jobId}@${e.runTime.toISOString()}`))
    t.equal(keys.length, 60, 'every due job was claimed')
    t.equal(new Set(keys).size, 60, 'each (jobId, runTime) was claimed once')
    t.equal(new Set(planned).size, planned.length, 'no job was planned by two claimers (locked rows are skipped)')
    t.same(results.flatMap((claim) => claim.claimedElsewhere), [], 'no claimer saw a job another one held')
    t.equal((await store.getExecutions()).length, 60, 'one row per occurrence')
  })

  t.test('job search matches id or name, case-insensitively, with LIKE wildcards taken literally; counts match', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('reports.daily', { name: 'Daily report' }))
    await store.addJob(newJob('emails', { name: 'Weekly DIGEST' }))
    await store.addJob(newJob('50%_off', { name: 'promo', paused: true }))
    await store.addJob(newJob('500_off', { name: 'other' }))
    const ids = async (filter: JobFilter): Promise<string[]> => (await store.getJobs(filter)).map((job) => job.id)
    t.same(await ids({ search: 'REPORT' }), ['reports.daily'], 'id, any case')
    t.same(await ids({ search: 'digest' }), ['emails'], 'name, any case')
    t.same(await ids({ search: '50%_' }), ['50%_off'], '% and _ are literal characters')
    t.same(await ids({ search: 'off', paused: false }), ['500_off'], 'combined with other filters')
    t.equal(await store.countJobs({ search: 'off' }), 2)
    t.equal(await store.countJobs({ limit: 1, offset: 1 }), 4, 'counts ignore pagination')
  })

  t.test('executions filter by run-time range; counts match; deleteOldExecutions keeps queued runs', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('r', { maxInstances: 100 }))
    for (const second of [10, 20, 30]) {
      const run = await store.claimImmediateRun('r', { now: at(second), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
      await store.finishExecution(run.id, { status: 'success' }, at(second + 1))
    }
    const queued = await store.queueRun('r', at(5)) as ExecutionRecord
    const times = async (filter: ExecutionFilter): Promise<Array<number | null>> => (await store.getExecutions(filter)).map((e) => ms(e.runTime))
    t.same(await times({ from: at(10), to: at(20) }), [ms(at(20)), ms(at(10))], 'inclusive range, newest first')
    t.same(await times({ from: at(25) }), [ms(at(30))])
    t.same(await times({ to: at(9) }), [ms(at(5))])
    t.equal(await store.countExecutions({ jobId: 'r' }), 4)
    t.equal(await store.countExecutions({ status: 'success', from: at(15) }), 2)
    t.equal(await store.deleteOldExecutions(0, at(1000)), 3, 'the finished ones')
    t.equal((await store.getExecution(queued.id))?.status, 'queued', 'a queued run is never deleted')
  })

  t.test('finishExecutions records many outcomes in one call, answering in order; null for rows no longer running', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('b', { maxInstances: 10 }))
    const runs: ExecutionRecord[] = []
    for (let i = 0; i < 3; i++) runs.push(await store.claimImmediateRun('b', { now: at(i), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord)
    await store.finishExecution(runs[1]?.id as number, { status: 'success' }, at(5))
    const finished = await store.finishExecutions([
      { id: runs[2]?.id as number, outcome: { status: 'error', exception: 'E: boom', traceback: 'E: boom\n at x', durationMs: 1500 } },
      { id: runs[1]?.id as number, outcome: { status: 'error' } },
      { id: runs[0]?.id as number, outcome: { status: 'timeout', durationMs: 250 } }
    ], at(10))
    t.same(finished.map((e) => e?.id ?? null), [runs[2]?.id, null, runs[0]?.id], 'same order; the already finished one is null')
    t.match(finished[0], { status: 'error', exception: 'E: boom', traceback: 'E: boom\n at x', durationMs: 1500 })
    t.equal(ms(finished[0]?.startedAt), ms(at(10)) as number - 1500, 'startedAt = finishedAt - durationMs')
    t.equal((await store.getExecution(runs[1]?.id as number))?.status, 'success', 'a terminal row never changes')
    t.same(await store.finishExecutions([], at(10)), [])
  })

  t.test('a running execution past its lease does not hold an instance slot, even before it is reaped', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('slot', { nextRunTime: at(100), maxInstances: 1 }))
    await store.claimImmediateRun('slot', { now: at(0), owner: 'dead-node', leaseMs: 10_000 })
    const { plan, calls } = stepPlanner()
    await store.claimDueJobs(claimOptions(at(100), plan))
    t.equal(calls[0]?.instances, 0, 'the running row leased until at(10) is dead at at(100)')
    const live = await store.claimImmediateRun('slot', { now: at(100), owner: OWNER, leaseMs: 1_000_000 }) as ExecutionRecord
    t.equal(live.status, 'max_instances', 'the fresh run from the claim holds the one slot')
  })

  t.test('getRecentExecutionStats: newest execution and mean duration of the newest N, per job, in one call', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('busy', { maxInstances: 10 }))
    await store.addJob(newJob('idle'))
    const durations = [100, 200, 300, 400]
    for (const [i, durationMs] of durations.entries()) {
      const run = await store.claimImmediateRun('busy', { now: at(i * 10), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
      await store.finishExecution(run.id, { status: i === 3 ? 'error' : 'success', durationMs }, at(i * 10 + 1))
    }
    const running = await store.claimImmediateRun('busy', { now: at(50), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    const stats = await store.getRecentExecutionStats(['busy', 'idle', 'unknown'], 3)
    t.equal(stats.get('busy')?.lastExecution?.id, running.id, 'the newest execution, whatever its status')
    t.equal(stats.get('busy')?.averageDurationMs, (400 + 300) / 2, 'mean over the newest 3 that have a duration (the running one has none)')
    t.same(stats.get('idle'), { lastExecution: null, averageDurationMs: null })
    t.same(stats.get('unknown'), { lastExecution: null, averageDurationMs: null })
    t.same([...(await store.getRecentExecutionStats([], 3)).keys()], [])
  })

  t.test('claimImmediateRun starts a run now, or records max_instances when all slots are taken', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('r', { maxInstances: 1, nextRunTime: at(3600) }))
    const now = at(10)
    const first = await store.claimImmediateRun('r', { now, owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    t.equal(first.status, 'running')
    t.equal(first.jobId, 'r')
    t.equal(ms(first.runTime), ms(now), 'runTime is now')
    t.equal(ms(first.startedAt), ms(now))
    t.equal(first.finishedAt, null)
    t.equal(first.owner, OWNER)
    t.equal(ms(first.leaseUntil), now.getTime() + LEASE_MS)
    t.same(await listed(store, first.id), first)

    const second = await store.claimImmediateRun('r', { now, owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    t.equal(second.status, 'max_instances', 'maxInstances reached: recorded as max_instances')
    t.not(ms(second.runTime), ms(first.runTime), 'a second call in the same millisecond gets a distinct run time')
    t.ok((ms(second.runTime) as number) > now.getTime(), 'it moves later, not earlier')
    t.equal(ms(second.finishedAt), ms(now), 'finished at once, at the call time (not the shifted run time)')
    t.equal(second.startedAt, null, 'never started')
    t.equal(second.leaseUntil, null)
    t.equal(ms((await store.getJob('r'))?.nextRunTime), ms(at(3600)), 'the schedule is untouched')

    t.equal(await store.claimImmediateRun('unknown', { now, owner: OWNER, leaseMs: LEASE_MS }), null, 'null for an unknown job')

    await store.finishExecution(first.id, { status: 'success', durationMs: 5 }, at(11))
    const third = await store.claimImmediateRun('r', { now: at(12), owner: OWNER, leaseMs: LEASE_MS })
    t.equal(third?.status, 'running', 'the finished run frees the slot')
  })

  t.test('claimImmediateRun: several runs in one millisecond get distinct run times', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('many', { maxInstances: 3 }))
    const now = at(10)
    const runs: ExecutionRecord[] = []
    for (let i = 0; i < 4; i++) runs.push(await store.claimImmediateRun('many', { now, owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord)
    t.same(runs.map((run) => run.status), ['running', 'running', 'running', 'max_instances'])
    t.equal(new Set(runs.map((run) => ms(run.runTime))).size, 4, 'distinct run times')
    t.same(runs.slice(0, 3).map((run) => ms(run.startedAt)), [ms(now), ms(now), ms(now)], 'each started now')
    t.same(runs.slice(0, 3).map((run) => ms(run.leaseUntil)), Array(3).fill(now.getTime() + LEASE_MS), 'each leased from now')

    const { plan, calls } = stepPlanner()
    await store.updateJob('many', { nextRunTime: at(0) })
    await store.claimDueJobs(claimOptions(at(20), plan))
    t.equal(calls[0]?.instances, 3, 'immediate runs count as instances for the claim')
  })

  t.test('claimImmediateRun with the store clock', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('n'))
    const { value: run, before, after } = await bracket(store, async () => store.claimImmediateRun('n', { now: null, owner: OWNER, leaseMs: LEASE_MS }))
    assertWithin(t, run?.runTime ?? null, { before, after }, 'runTime')
    t.equal(ms(run?.leaseUntil), (ms(run?.startedAt) as number) + LEASE_MS)
  })

  t.test('finishExecutions stores a result given as JSON text; getExecution reads it, lists and outcomes leave it out', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('r', { maxInstances: 5 }))
    const ids: number[] = []
    for (const second of [0, 1, 2]) ids.push((await store.claimImmediateRun('r', { now: at(second), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord).id)
    const [object, text, none] = await store.finishExecutions([
      { id: ids[0] as number, outcome: { status: 'success', resultJson: '{"rows":3,"tags":["a"]}' } },
      { id: ids[1] as number, outcome: { status: 'success', resultJson: '"done"' } },
      { id: ids[2] as number, outcome: { status: 'success', resultJson: null } }
    ], at(10))
    t.same([object, text, none].map((execution) => execution !== null && 'result' in execution), [false, false, false], 'the outcome write returns rows without it')
    t.same((await store.getExecution(ids[0] as number))?.result, { rows: 3, tags: ['a'] }, 'getExecution')
    t.equal((await store.getExecution(ids[1] as number))?.result, 'done', 'a JSON string is a string')
    t.equal((await store.getExecution(ids[2] as number))?.result, null)
    t.equal((await store.getExecution(ids[2] as number))?.logs, null)
    t.same((await store.getExecutions({ jobId: 'r' })).map((execution) => 'result' in execution || 'logs' in execution), [false, false, false], 'lists leave result and logs out')
  })

  t.test('finishExecutions stores captured logs given as JSON text', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('l', { maxInstances: 5 }))
    const a = await store.claimImmediateRun('l', { now: at(0), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    const b = await store.claimImmediateRun('l', { now: at(1), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    t.notOk('logs' in a, 'claims return rows without logs')
    t.equal((await store.getExecution(a.id))?.logs, null, 'none while running')
    const line = { time: '2030-01-01T00:00:00.500Z', level: 'info', msg: 'exported', fields: { rows: 3 } }
    await store.finishExecutions([
      { id: a.id, outcome: { status: 'success', logsJson: JSON.stringify([line]) } },
      { id: b.id, outcome: { status: 'error', exception: 'Error: x' } }
    ], at(10))
    t.same((await store.getExecution(a.id))?.logs, [line])
    t.equal((await store.getExecution(b.id))?.logs, null, 'no logs given: null')
  })

  t.test('captureLogs is a stored job field: true unless given, changed by updateJob', async (t) => {
    const { store } = await open(t)
    t.equal((await store.addJob(newJob('default')))?.captureLogs, true)
    t.equal((await store.addJob(newJob('quiet', { captureLogs: false })))?.captureLogs, false)
    t.same((await store.addJobs([newJob('b1'), newJob('b2', { captureLogs: false })])).map((job) => job.captureLogs), [true, false], 'addJobs too')
    t.equal((await store.updateJob('quiet', { captureLogs: true })).captureLogs, true)
    t.equal((await store.getJob('quiet'))?.captureLogs, true)
  })

  t.test('finishExecution moves running to a terminal state once', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('f', { maxInstances: 5 }))
    const a = await store.claimImmediateRun('f', { now: at(0), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    const b = await store.claimImmediateRun('f', { now: at(1), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    const c = await store.claimImmediateRun('f', { now: at(2), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord

    const done = await store.finishExecution(a.id, { status: 'success', durationMs: 1500 }, at(10))
    t.equal(done?.status, 'success')
    t.equal(ms(done?.finishedAt), ms(at(10)))
    t.equal(done?.durationMs, 1500)
    t.equal(ms(done?.startedAt), ms(at(8.5)), 'startedAt = finishedAt - durationMs')
    t.equal(done?.leaseUntil, null, 'the lease ends')
    t.equal(done?.exception, null)
    t.equal(done?.traceback, null)
    t.equal(ms(done?.runTime), ms(a.runTime), 'runTime is kept')
    t.equal(done?.owner, OWNER)
    t.equal((await store.getExecution(a.id))?.result, null, 'no result given: null')
    t.same(await listed(store, a.id), done, 'stored as returned')

    const failed = await store.finishExecution(b.id, { status: 'error', exception: 'Error: boom', traceback: 'Error: boom\n    at x', durationMs: 12.5 }, at(20))
    t.equal(failed?.status, 'error')
    t.equal(failed?.exception, 'Error: boom')
    t.equal(failed?.traceback, 'Error: boom\n    at x')
    t.equal(failed?.durationMs, 12.5, 'fractional milliseconds are kept')

    const timedOut = await store.finishExecution(c.id, { status: 'timeout' }, at(30))
    t.equal(timedOut?.status, 'timeout')
    t.equal(timedOut?.durationMs, null, 'no duration given: null')
    t.equal(ms(timedOut?.startedAt), ms(at(2)), 'no duration given: startedAt is kept')

    t.equal(await store.finishExecution(a.id, { status: 'error', exception: 'late', durationMs: 1 }, at(40)), null, 'a terminal row is not finished again')
    t.same(await listed(store, a.id), done, 'terminal rows never change')
    t.equal(await store.finishExecution(999_999, { status: 'success' }, at(40)), null, 'null for an unknown id')

    await store.addJob(newJob('full', { maxInstances: 1 }))
    await store.claimImmediateRun('full', { now: at(0), owner: OWNER, leaseMs: LEASE_MS })
    const refused = await store.claimImmediateRun('full', { now: at(0), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    t.equal(await store.finishExecution(refused.id, { status: 'success' }, at(1)), null, 'a max_instances row cannot be finished')
    t.same(await listed(store, refused.id), refused)

    const d = await store.claimImmediateRun('f', { now: at(50), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
    const { value: clocked, before, after } = await bracket(store, async () => store.finishExecution(d.id, { status: 'success', durationMs: 0 }, null))
    assertWithin(t, clocked?.finishedAt ?? null, { before, after }, 'finishedAt with the store clock')
    t.equal(clocked?.durationMs, 0, 'a zero duration is kept, not taken for null')
    t.equal(ms(clocked?.startedAt), ms(clocked?.finishedAt), 'durationMs 0: startedAt = finishedAt')
  })

  t.test('extendLeases extends only the owner\'s running executions', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('l', { maxInstances: 10 }))
    const run = async (second: number, owner: string): Promise<ExecutionRecord> =>
      await store.claimImmediateRun('l', { now: at(second), owner, leaseMs: LEASE_MS }) as ExecutionRecord
    const a1 = await run(0, 'a')
    const a2 = await run(1, 'a')
    const a3 = await run(2, 'a')
    const b1 = await run(3, 'b')
    await store.finishExecution(a3.id, { status: 'success', durationMs: 1 }, at(5))

    t.same(await store.extendLeases('a', [], 60_000, at(10)), [], 'no ids: nothing')
    const extended = await store.extendLeases('a', [a1.id, a2.id, a3.id, b1.id, 999_999], 60_000, at(10))
    t.same([...extended].sort((x, y) => x - y), [a1.id, a2.id], 'only the running executions of the owner, by id')
    t.equal(ms((await store.getExecution(a1.id))?.leaseUntil), ms(at(70)), 'leaseUntil = now + leaseMs')
    t.equal(ms((await store.getExecution(a2.id))?.leaseUntil), ms(at(70)))
    t.equal(ms((await store.getExecution(b1.id))?.leaseUntil), ms(b1.leaseUntil), 'another owner\'s lease is untouched')
    t.equal((await store.getExecution(a3.id))?.leaseUntil, null, 'a finished row gets no lease')
    t.equal((await store.getExecution(a3.id))?.status, 'success')

    t.same(await store.extendLeases('a', [a1.id], 1000, at(20)), [a1.id])
    t.equal(ms((await store.getExecution(a1.id))?.leaseUntil), ms(at(21)), 'a lease can also be shortened by the owner')
    t.equal(ms((await store.getExecution(a2.id))?.leaseUntil), ms(at(70)), 'ids not listed are untouched')

    const { before, after } = await bracket(store, async () => store.extendLeases('b', [b1.id], 5000, null))
    assertWithin(t, new Date((ms((await store.getExecution(b1.id))?.leaseUntil) as number) - 5000), { before, after }, 'store clock + leaseMs')
  })

  t.test('extendLeases never revives an expired lease', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('revive', { maxInstances: 10 }))
    const live = await store.claimImmediateRun('revive', { now: at(0), owner: 'a', leaseMs: 10_000 }) as ExecutionRecord
    const expired = await store.claimImmediateRun('revive', { now: at(1), owner: 'a', leaseMs: 1000 }) as ExecutionRecord
    // At 5 s: `live` holds its lease until 10 s; `expired` lost it at 2 s, though nobody has reaped it yet.
    t.same(await store.extendLeases('a', [live.id, expired.id], 30_000, at(5)), [live.id], 'only the live lease is extended')
    t.equal(ms((await store.getExecution(live.id))?.leaseUntil), ms(at(35)))
    t.equal(ms((await store.getExecution(expired.id))?.leaseUntil), ms(at(2)), 'the expired lease stays expired')
    t.same(await store.extendLeases('a', [live.id], 30_000, at(35)), [live.id], 'a lease ending exactly now is still live')
  })

  t.test('abandonExpiredExecutions marks expired running rows and frees their slot', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('slot', { maxInstances: 1, nextRunTime: at(0) }))
    await store.addJob(newJob('other', { maxInstances: 5, nextRunTime: null }))
    const { plan, calls } = stepPlanner(60_000)
    const [claim] = await store.claimDueJobs(claimOptions(at(0), plan)) // lease until at(30)
    const expired = claim?.running[0] as ExecutionRecord
    const fresh = await store.claimImmediateRun('other', { now: at(25), owner: 'b', leaseMs: LEASE_MS }) as ExecutionRecord // lease until at(55)
    const boundary = await store.claimImmediateRun('other', { now: at(10), owner: 'b', leaseMs: 30_000 }) as ExecutionRecord // lease until at(40)
    const finished = await store.claimImmediateRun('other', { now: at(1), owner: 'b', leaseMs: 1000 }) as ExecutionRecord
    const finishedRow = await store.finishExecution(finished.id, { status: 'success', durationMs: 1 }, at(1.5))

    t.same(await store.abandonExpiredExecutions('lost', at(30)), [], 'a lease ending exactly now has not expired')
    const abandoned = await store.abandonExpiredExecutions('owner died (lease expired)', at(40))
    t.same(abandoned.map((e) => e.id), [expired.id], 'only running rows whose lease is before now')
    const row = abandoned[0]
    t.equal(row?.status, 'abandoned')
    t.equal(row?.exception, 'owner died (lease expired)', 'the reason is recorded')
    t.equal(ms(row?.finishedAt), ms(at(40)))
    t.equal(row?.leaseUntil, null)
    t.same(await listed(store, expired.id), row, 'stored as returned')
    t.equal((await store.getExecution(fresh.id))?.status, 'running', 'an unexpired lease is untouched')
    t.equal((await store.getExecution(boundary.id))?.status, 'running')
    t.same(await listed(store, finished.id), finishedRow, 'terminal rows are untouched')
    t.same(await store.abandonExpiredExecutions('again', at(40)), [], 'nothing twice')
    const late = await store.finishExecution(expired.id, { status: 'error', exception: 'finished after all', durationMs: 1 }, at(41))
    t.match(late, { status: 'abandoned', lateStatus: 'error', lateException: 'finished after all' }, 'an abandoned row keeps its status; the outcome is recorded as late')
    t.equal(ms(late?.lateFinishedAt), ms(at(41)))
    t.equal(await store.finishExecution(expired.id, { status: 'success', durationMs: 1 }, at(42)), null, 'only one late outcome is recorded')

    await store.claimDueJobs(claimOptions(at(60), plan))
    t.same(calls.map((call) => call.instances), [0, 0], 'the abandoned execution no longer counts as running')
    t.equal((await store.claimImmediateRun('slot', { now: at(61), owner: OWNER, leaseMs: LEASE_MS }))?.status, 'max_instances', 'the new run holds the one slot')
    t.same((await store.abandonExpiredExecutions('late', at(1000))).map((e) => e.jobId).sort(), ['other', 'other', 'slot'], 'later, every expired lease is abandoned')
    t.equal((await store.claimImmediateRun('slot', { now: at(1001), owner: OWNER, leaseMs: LEASE_MS }))?.status, 'running', 'and the slot is free again')

    const { value: clocked } = await bracket(store, async () => store.abandonExpiredExecutions('clock', null))
    t.same(clocked, [], 'leases in 2030 have not expired by the store clock')
  })

  t.test('getExecutions lists newest first with filters and pagination', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('p', { maxInstances: 10 }))
    await store.addJob(newJob('q', { maxInstances: 10 }))
    const seconds = { p: [5, 1, 3], q: [4, 2, 6] }
    const ids = new Map<string, number>()
    for (const [jobId, list] of Object.entries(seconds)) {
      for (const second of list) {
        const run = await store.claimImmediateRun(jobId, { now: at(second), owner: OWNER, leaseMs: LEASE_MS }) as ExecutionRecord
        ids.set(`${jobId}${second}`, run.id)
      }
    }
    await store.finishExecution(ids.get('p5') as number, { status: 'success', durationMs: 1 }, at(10))
    await store.finishExecution(ids.get('q2') as number, { status: 'error', exception: 'x' }, at(10))
    await store.finishExecution(ids.get('p1') as number, { status: 'success', durationMs: 1 }, at(10))
    const list = async (filter?: Parameters<JobStore['getExecutions']>[0]): Promise<string[]> =>
      (await store.getExecutions(filter)).map((e) => `${e.jobId}${(e.runTime.getTime() - at(0).getTime()) / 1000}`)

    t.same(await list(), ['q6', 'p5', 'q4', 'p3', 'q2', 'p1'], 'newest run time first')
    t.same(await list({ jobId: 'p' }), ['p5', 'p3', 'p1'])
    t.same(await list({ status: 'success' }), ['p5', 'p1'])
    t.same(await list({ status: 'running' }), ['q6', 'q4', 'p3'])
    t.same(await list({ jobId: 'q', status: 'error' }), ['q2'])
    t.same(await list({ jobId: 'nobody' }), [])
    t.same(await list({ limit: 2 }), ['q6', 'p5'])
    t.same(await list({ limit: 2, offset: 2 }), ['q4', 'p3'])
    t.same(await list({ offset: 5 }), ['p1'])
    t.same(await list({ jobId: 'p', limit: 1, offset: 1 }), ['p3'], 'pagination after filtering')
    const [first] = await store.getExecutions({ status: 'error' })
    t.equal(first?.exception, 'x', 'full records')
    t.equal(await store.getExecution(999_999), null, 'getExecution: null for an unknown id')
  })

  t.test('deleteOldExecutions deletes only finished rows older than maxAgeSeconds', async (t) => {
    const { store } = await open(t)
    await store.addJob(newJob('h', { maxInstances: 10 }))
    const run = async (second: number): Promise<ExecutionRecord> =>
      await store.claimImmediateRun('h', { now: at(second), owner: OWNER, leaseMs: 1_000_000 }) as ExecutionRecord
    const oldDone = await run(0)
    const oldRunning = await run(1)
    const boundary = await run(50)
    const recentDone = await run(90)
    for (const e of [oldDone, boundary, recentDone]) await store.finishExecution(e.id, { status: 'success', durationMs: 1 }, at(95))
    await store.addJob(newJob('full', { maxInstances: 1 }))
    await store.claimImmediateRun('full', { now: at(2), owner: OWNER, leaseMs: 1_000_000 })
    const oldMaxInstances = await store.claimImmediateRun('full', { now: at(2), owner: OWNER, leaseMs: 1_000_000 }) as ExecutionRecord
    t.equal(oldMaxInstances.status, 'max_instances')

    const deleted = await store.deleteOldExecutions(50, at(100))
    t.equal(deleted, 2, 'two finished rows older than the cutoff')
    t.equal(await store.getExecution(oldDone.id), null)
    t.equal(await store.getExecution(oldMaxInstances.id), null, 'terminal rows of any status are deleted')
    t.equal((await store.getExecution(oldRunning.id))?.status, 'running', 'running rows are kept, however old')
    t.ok(await store.getExecution(boundary.id), 'a row exactly maxAgeSeconds old is kept')
    t.ok(await store.getExecution(recentDone.id), 'recent rows are kept')
    t.equal(await store.deleteOldExecutions(50, at(100)), 0, 'nothing twice')
    t.equal(await store.deleteOldExecutions(1_000_000_000, null), 0, 'with the store clock nothing of 2030 is old')
    t.equal(await store.deleteOldExecutions(0, at(1000)), 2, 'maxAgeSeconds 0 deletes every finished row before now')
    t.same((await store.getExecutions()).map((e) => e.status).sort(), ['running', 'running'])
  })
}
