/**
 * The claim planner alone (pure): which overdue occurrences run, are missed, or hit max instances.
 */
import t from 'tap'
import { planClaim } from '../../src/scheduler/claim-planner.js'
import type { JobRecord } from '../../src/stores/job-store.js'
import { createTrigger } from '../../src/triggers/index.js'

const T0 = Date.parse('2026-11-21T10:00:00Z')
const at = (seconds: number): Date => new Date(T0 + seconds * 1000)
const iso = (dates: Date[]): string[] => dates.map((date) => date.toISOString())

function job (overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'job', name: 'job', task: 'work', args: [], trigger: { type: 'interval', seconds: 10, startDate: at(0).toISOString() },
    nextRunTime: at(0), nextFireTime: null, paused: false, misfireGraceTime: null, coalesce: false, maxInstances: 100, timeoutMs: null, captureLogs: true, retry: null, recover: false,
    createdAt: at(-100), updatedAt: at(-100), version: 1, lastError: null, ...overrides
  }
}

function plan (overrides: Partial<JobRecord>, nowSeconds: number, instances = 0, maxCatchUp = 1000) {
  const record = job(overrides)
  return planClaim({ job: record, trigger: createTrigger(record.trigger), taskRegistered: true, now: at(nowSeconds), instances, maxCatchUp, random: () => 0.5 })
}

t.test('every overdue fire time up to now is an occurrence; the next run time is the first after now', async (t) => {
  const result = plan({}, 25)
  t.same(iso(result.run), iso([at(0), at(10), at(20)]))
  t.same(result.missed, [])
  t.equal(result.nextRunTime?.toISOString(), at(30).toISOString())
  t.equal(result.coalesced, 0)
})

t.test('a fire time exactly at now is due', async (t) => {
  t.same(iso(plan({}, 10).run), iso([at(0), at(10)]))
})

t.test('misfire grace time: later than grace is missed, at the boundary still runs', async (t) => {
  const result = plan({ misfireGraceTime: 5 }, 25)
  t.same(iso(result.missed), iso([at(0), at(10)]))
  t.same(iso(result.run), iso([at(20)]), '5 s late with 5 s grace still runs')
})

t.test('coalesce folds overdue occurrences into the latest', async (t) => {
  const result = plan({ coalesce: true }, 25)
  t.same(iso(result.run), iso([at(20)]))
  t.equal(result.coalesced, 2)
  const late = plan({ coalesce: true, misfireGraceTime: 1 }, 25)
  t.same(late.run, [])
  t.same(iso(late.missed), iso([at(20)]))
})

t.test('max instances is about overlap, not catch-up: with a free slot every overdue occurrence runs (one batch)', async (t) => {
  const result = plan({ maxInstances: 3 }, 25, 2)
  t.same(iso(result.run), iso([at(0), at(10), at(20)]), 'one free slot: the whole batch runs in it (APScheduler run_job)')
  t.same(result.maxInstances, [])
  const single = plan({ maxInstances: 1 }, 25, 0)
  t.same(iso(single.run), iso([at(0), at(10), at(20)]), 'coalesce false, maxInstances 1: every overdue occurrence runs')
  t.same(single.maxInstances, [])
  const busy = plan({ maxInstances: 1 }, 25, 1)
  t.same(busy.run, [], 'no free slot: nothing runs')
  t.same(iso(busy.maxInstances), iso([at(0), at(10), at(20)]), 'and each occurrence is recorded max_instances')
  const full = plan({ maxInstances: 1 }, 5, 4)
  t.same(full.run, [], 'more running than allowed (after a lowered limit) leaves no slot')
  t.same(iso(full.maxInstances), iso([at(0)]))
})

t.test('catch-up is bounded by maxCatchUp; the rest waits for the next claim', async (t) => {
  const result = plan({}, 10_000, 0, 50)
  t.equal(result.run.length, 50)
  t.equal(result.nextRunTime?.toISOString(), at(500).toISOString(), 'next run time is the first occurrence not yet handled')
})

t.test('a finished trigger leaves no next run time', async (t) => {
  const result = plan({ trigger: { type: 'date', runDate: at(0).toISOString() } }, 1)
  t.same(iso(result.run), iso([at(0)]))
  t.equal(result.nextRunTime, null)
})

t.test('an unregistered task or unloadable trigger flags the job and runs nothing', async (t) => {
  const record = job()
  const unknown = planClaim({ job: record, trigger: createTrigger(record.trigger), taskRegistered: false, now: at(25), instances: 0, maxCatchUp: 10, random: () => 0.5 })
  t.match(unknown, { run: [], missed: [], maxInstances: [], lastError: /task 'work' is not registered/ })
  t.equal(unknown.nextRunTime, record.nextRunTime, 'the schedule is kept')
  const broken = planClaim({ job: record, trigger: { error: 'bad trigger' }, taskRegistered: true, now: at(25), instances: 0, maxCatchUp: 10, random: () => 0.5 })
  t.equal(broken.lastError, 'bad trigger')
})

t.test('misfire grace time counts lateness from the jittered run time, not the exact fire time (APScheduler)', async (t) => {
  // The occurrence fires at 0 with 100 s of jitter: it is claimed at 100, 3 s late at 103.
  const jittered = plan({ coalesce: true, misfireGraceTime: 60, nextFireTime: at(0), nextRunTime: at(100), trigger: { type: 'interval', seconds: 600, startDate: at(0).toISOString(), jitter: 120 } }, 103)
  t.same(iso(jittered.run), iso([at(0)]), '3 s after its jittered run time, with 60 s of grace: it runs, keyed by its exact fire time')
  t.same(jittered.missed, [])
  const late = plan({ coalesce: true, misfireGraceTime: 60, nextFireTime: at(0), nextRunTime: at(100), trigger: { type: 'interval', seconds: 600, startDate: at(0).toISOString(), jitter: 120 } }, 161)
  t.same(iso(late.missed), iso([at(0)]), '61 s after its jittered run time: missed')
})

t.test('a trigger that throws while computing fire times flags its job instead of failing the claim', async (t) => {
  const record = job()
  const throwing = { ...createTrigger(record.trigger), getNextFireTime: () => { throw new RangeError('boom at claim time') } }
  let result: ReturnType<typeof planClaim> | undefined
  t.doesNotThrow(() => {
    result = planClaim({ job: record, trigger: throwing as never, taskRegistered: true, now: at(25), instances: 0, maxCatchUp: 1000, random: () => 0.5 })
  }, 'planning does not throw (it would roll back every other job of the claim)')
  t.same(result?.run, [], 'nothing runs')
  t.equal(result?.nextRunTime?.toISOString(), at(0).toISOString(), 'the next run time is kept')
  t.match(result?.lastError, /its trigger failed while computing fire times: boom at claim time/, 'flagged with the reason')
})

t.test('coalesce folds a backlog longer than maxCatchUp into one run of the latest occurrence', async (t) => {
  // 10 s interval from at(0), now at(10_005): 1,001 overdue occurrences, the latest at(10_000).
  const result = plan({ coalesce: true }, 10_005, 0, 50)
  t.same(iso(result.run), iso([at(10_000)]), 'one run, of the latest overdue occurrence')
  t.equal(result.coalesced, 1000, 'the other 1,000 occurrences are coalesced')
  t.equal(result.nextRunTime?.toISOString(), at(10_010).toISOString(), 'the next run time is the first after now: nothing left behind')
})

function planAhead (overrides: Partial<JobRecord>, nowSeconds: number, horizonSeconds: number, instances = 0, random = () => 0.5) {
  const record = job(overrides)
  return planClaim({ job: record, trigger: createTrigger(record.trigger), taskRegistered: true, now: at(nowSeconds), horizon: at(horizonSeconds), instances, maxCatchUp: 1000, random })
}

const starts = (ahead: Array<{ runTime: Date, startAt: Date }> | undefined): string[][] =>
  (ahead ?? []).map((run) => [run.runTime.toISOString(), run.startAt.toISOString()])

t.test('claiming ahead: a job not yet due has its occurrences up to the horizon claimed, one instance each', async (t) => {
  // Interval of 10 s from at(0); the job's next run time is at(10); claim at 8 with a horizon of 31.
  const result = planAhead({ nextRunTime: at(10), maxInstances: 5 }, 8, 31)
  t.same(starts(result.ahead), [[at(10), at(10)], [at(20), at(20)], [at(30), at(30)]].map((pair) => pair.map((d) => d.toISOString())),
    'fire times 10, 20 and 30 are not later than 31')
  t.same([result.run, result.missed, result.maxInstances], [[], [], []], 'nothing due, nothing missed')
  t.equal(result.nextRunTime?.toISOString(), at(40).toISOString(), 'the job moves to the first occurrence not claimed')
  t.equal(result.nextFireTime?.toISOString(), at(40).toISOString())
})

t.test('claiming ahead takes only free instance slots; with none the job is left as it is', async (t) => {
  const two = planAhead({ nextRunTime: at(10), maxInstances: 3 }, 8, 31, 1)
  t.same(starts(two.ahead).map(([runTime]) => runTime), [at(10), at(20)].map((d) => d.toISOString()), 'three slots, one taken: two occurrences')
  t.equal(two.nextRunTime?.toISOString(), at(30).toISOString(), 'the third is left for a later claim')
  const none = planAhead({ nextRunTime: at(10), maxInstances: 1 }, 8, 31, 1)
  t.same(none.ahead ?? [], [], 'no free slot: nothing claimed ahead')
  t.same([none.run, none.missed, none.maxInstances], [[], [], []], 'and nothing recorded max_instances: it is claimed when due')
  t.equal(none.nextRunTime?.toISOString(), at(10).toISOString(), 'next run time unchanged')
})

t.test('claiming ahead starts each occurrence at its jittered run time; beside an overdue batch, it takes the slots left', async (t) => {
  const jittered = { type: 'interval', seconds: 10, startDate: at(0).toISOString(), jitter: 4 } as const
  // random 0.5 → jitter 2 s (computeJitterMs draws uniformly in [0, jitter)); the stored next run time carries its own.
  const result = planAhead({ trigger: jittered, nextFireTime: at(10), nextRunTime: at(11), maxInstances: 5 }, 8, 22)
  t.same(starts(result.ahead), [[at(10), at(11)], [at(20), at(22)]].map((pair) => pair.map((d) => d.toISOString())),
    'the first starts at its stored jittered time, the next at its fire time plus a drawn jitter')
  t.equal(result.nextFireTime?.toISOString(), at(30).toISOString())
  const beyondDue = planAhead({ nextRunTime: at(0), maxInstances: 5 }, 8, 31)
  t.same(iso(beyondDue.run), iso([at(0)]), 'overdue: the due occurrence runs as a batch')
  t.same(starts(beyondDue.ahead).map(([runTime]) => runTime), [at(10), at(20), at(30)].map((d) => d.toISOString()),
    'and the slots the batch leaves take the occurrences up to the horizon (a claim slower than the period must still get ahead)')
  t.equal(beyondDue.nextRunTime?.toISOString(), at(40).toISOString())
  const single = planAhead({ nextRunTime: at(0), maxInstances: 1 }, 8, 31)
  t.same(iso(single.run), iso([at(0)]), 'maxInstances 1: the batch runs')
  t.same(single.ahead ?? [], [], 'and takes the only slot: nothing ahead')
  t.equal(single.nextRunTime?.toISOString(), at(10).toISOString())
  const beyond = planAhead({ nextRunTime: at(10), maxInstances: 5 }, 8, 9)
  t.same(beyond.ahead ?? [], [], 'a run time after the horizon is not claimed')
  t.equal(beyond.nextRunTime?.toISOString(), at(10).toISOString())
})
