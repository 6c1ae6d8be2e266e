/**
 * Distributed execution (issue #12) with real processes on one database, once per server database
 * (`SERVER_DATABASES`: PostgreSQL, and MariaDB with its `GET_LOCK` leader lock and polled wake-ups):
 * the leader plans, every process with `execute: true` runs the queued runs of the tasks it has
 * registered.
 *
 * The evidence is the handlers' own, not the scheduler's: the effect ledger each handler appends
 * to (test/helpers/effect-ledger.ts, one line per call, with its pid), and for max instances the
 * spans and the gauge the handlers write to the database themselves (test/failure/fixtures/worker.ts,
 * `track`). Every test waits for conditions, never for a fixed time.
 */
import t, { type Test } from 'tap'
import { assertEffectsIn, effectsOf } from '../helpers/effects.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'
import { pollUntil, reportsOf, stopProcess, tail } from '../helpers/processes.js'
import { executions, isLeader, leaderOf, nowSql, ready, startWorker, type FailureWorker } from '../failure/fixtures/cluster.js'

// Five scenarios of several processes each, on two servers, serially, on a 2-core machine.
t.setTimeout(20 * 60_000)

const NOW = (): string => new Date().toISOString()
/** The default `nodeHeartbeatMs`: how often the leader re-reads which tasks the live processes have. */
const NODE_HEARTBEAT_MS = 5000
const everySecond = { type: 'interval', seconds: 1 }

/** What the servers write differently: the handlers' span and gauge tables (`track`), and a wake-up for queued runs. */
const DIALECT = {
  postgresql: {
    handlerTables: ['create table handler_span (job_id text, run_time timestamptz, pid int, started_at timestamptz, ended_at timestamptz)',
      'create table handler_gauge (job_id text primary key, current int not null, peak int not null)'],
    queuedWakeup: "select pg_notify('scheduler_wakeup', 'queued runs')"
  },
  // datetime(3) holding UTC, as the scheduler's columns; the wake-up bumps the counter a queuing write bumps (src/stores/mysql/change-counter.ts).
  mariadb: {
    handlerTables: ['create table handler_span (job_id varchar(191), run_time datetime(3), pid int, started_at datetime(3), ended_at datetime(3))',
      'create table handler_gauge (job_id varchar(191) primary key, current int not null, peak int not null)'],
    queuedWakeup: "update scheduler_change set counter = counter + 1 where channel = 'queued'"
  }
} as const

/** The database clock's time. */
async function databaseNow (db: TestDatabase, url: string): Promise<Date> {
  const [row] = await db.query<{ now: Date }>(url, `select ${nowSql(url)} as now`)
  return (row as { now: Date }).now
}

/** The tasks a node lists in the node registry (`json` arrives as text on MariaDB). */
async function nodeTasks (db: TestDatabase, url: string, nodeId: string): Promise<string[]> {
  const [node] = await db.query<{ tasks: string[] | string }>(url, 'select tasks from scheduler_node where node_id = ?', [nodeId])
  return typeof node?.tasks === 'string' ? JSON.parse(node.tasks) as string[] : node?.tasks ?? []
}

/** Starts a worker of test/failure/fixtures/worker.ts and waits until it is ready (generously: 2 cores, shared). */
async function started (t: Test, name: string, url: string, config: Record<string, unknown>): Promise<FailureWorker> {
  return ready(startWorker(t, name, url, config), 180_000)
}

async function stop (t: Test, worker: FailureWorker): Promise<void> {
  t.same(await stopProcess(worker, 'SIGTERM'), { code: 0, signal: null }, `${worker.name} shut down cleanly`, { output: tail(worker) })
}

/**
 * Stops `planner` (the only process that may lead) first, waits until the workers have started
 * every run it queued, then stops them: nothing is left queued for a process that is gone.
 */
async function stopPlannerFirst (t: Test, db: TestDatabase, url: string, planner: FailureWorker, workers: FailureWorker[]): Promise<void> {
  await stop(t, planner)
  await pollUntil('the workers started every queued run', async () =>
    (await db.query(url, "select 1 from scheduler_job_execution where status = 'queued'")).length === 0, 60_000)
  for (const worker of workers) await stop(t, worker)
}

async function nothingLeft (t: Test, db: TestDatabase, url: string): Promise<void> {
  t.same(await db.query(url, "select job_id, run_time, status from scheduler_job_execution where status in ('running', 'queued')"), [],
    'no row is left running or queued')
}

/** While the cluster runs: no queued run waits longer than `waitMs` past its run time, no running row outlives its lease. */
async function nothingStuck (t: Test, db: TestDatabase, url: string, waitMs = 5000): Promise<void> {
  const now = await databaseNow(db, url)
  t.same(await db.query(url, `select job_id, run_time, status from scheduler_job_execution
    where (status = 'queued' and run_time < ?) or (status = 'running' and lease_until < ?)`, [new Date(now.getTime() - waitMs), now]), [],
  `no run waits queued more than ${waitMs} ms, none runs past its lease`)
}

function noUncaught (t: Test, workers: FailureWorker[]): void {
  t.same(workers.flatMap((worker) => reportsOf(worker, 'uncaught')), [], 'nothing was thrown into any host')
}

for (const db of SERVER_DATABASES) {
  t.test(`on ${db.name}: a task registered only on B runs only on B, and the leader A, which lacks it, does not flag its job`, async (t) => {
    const url = await db.fresh(t, 'dist_only_b')
    const a = await started(t, 'a (leader, no task)', url, { options: { leaderRetryMs: 200 } })
    await leaderOf([a])
    // B cannot lead and is the only process with the task; it stores the job as it starts.
    const b = await started(t, 'b (worker)', url, { options: { plan: false }, jobs: [{ id: 'only-b', trigger: everySecond }] })

    // Each look: the job's last_error, and whether B's heartbeat (with its task) is in the node registry.
    const looks: Array<{ at: number, lastError: string | null }> = []
    let listedAt = Infinity
    const successes = await pollUntil('6 successful runs of only-b', async () => {
      const [job] = await db.query<{ last_error: string | null }>(url, "select last_error from scheduler_job where id = 'only-b'")
      looks.push({ at: Date.now(), lastError: job?.last_error ?? null })
      if (listedAt === Infinity && (await nodeTasks(db, url, b.nodeId)).includes('only-b')) listedAt = Date.now()
      const rows = (await executions(url, 'only-b')).filter((row) => row.status === 'success')
      return rows.length >= 6 ? rows : undefined
    }, 60_000).catch((error: unknown) => {
      t.same(looks.filter((look) => look.lastError !== null).slice(-1), [], 'last_error stayed null')
      throw error
    })
    // A reads the registry once per node heartbeat (5 s by default): a job B stores before A's next
    // read may be flagged by a claim in between, and A clears that flag at the read that lists B's
    // task (cluster-tasks.ts). After that read, the flag must never come back.
    const flagged = looks.filter((look) => look.lastError !== null)
    t.comment(`last_error set at ${flagged.length} of ${looks.length} looks, the last ${flagged.length === 0 ? '-' : (flagged.at(-1) as { at: number }).at - listedAt} ms after B was listed`)
    const bound = listedAt + 2 * NODE_HEARTBEAT_MS
    t.same(looks.filter((look) => look.at > bound && look.lastError !== null).map((look) => look.lastError), [],
      'last_error stayed null at every look from two node heartbeats after B was listed, while A led without the task')
    t.ok(flagged.every((look) => look.at <= bound), 'any flag from before A had read B\'s heartbeat was cleared at A\'s next read of the registry')
    t.ok(isLeader(a), 'A led throughout')
    t.same(reportsOf(b, 'leader'), [], 'B never led (plan: false)')
    t.same([...new Set(successes.map((row) => row.owner))], [b.nodeId], 'every run is owned by B\'s node id')

    await stopPlannerFirst(t, db, url, a, [b])
    const effects = effectsOf(t)
    t.same([...new Set(effects.map((effect) => effect.pid))], [b.child.pid], 'every handler call was in B\'s process (ledger)')
    await assertEffectsIn(t, db, url, 6)
    await nothingLeft(t, db, url)
    noUncaught(t, [a, b])
  })

  t.test(`on ${db.name}: an execute: false process never runs a handler, though it has the handler and leads`, async (t) => {
    const url = await db.fresh(t, 'dist_no_execute')
    const jobs = [{ id: 'tick-a', trigger: everySecond }, { id: 'tick-b', trigger: everySecond }]
    // The planner starts first, so it is the leader: everything it plans is queued for the others.
    const planner = await started(t, 'planner (execute: false)', url, { options: { execute: false, leaderRetryMs: 200 }, jobs })
    await leaderOf([planner])
    const workers = await Promise.all([1, 2].map(async (n) => started(t, `worker ${n}`, url, { options: { plan: false }, jobs })))

    const rows = await pollUntil('12 successful runs', async () => {
      const done = (await executions(url)).filter((row) => row.status === 'success')
      return done.length >= 12 ? done : undefined
    }, 60_000)
    t.ok(isLeader(planner), 'the execute: false process led throughout')
    t.notOk(rows.some((row) => row.owner === planner.nodeId), 'no row is owned by the execute: false process')
    t.same(reportsOf(planner, 'started'), [], 'it reported no handler start')

    await stopPlannerFirst(t, db, url, planner, workers)
    const effects = effectsOf(t)
    const count = (worker: FailureWorker): number => effects.filter((effect) => effect.pid === worker.child.pid).length
    t.equal(count(planner), 0, 'ledger: 0 handler calls in the execute: false process')
    t.ok(workers.every((worker) => count(worker) + count(planner) <= effects.length) && effects.length >= 12,
      `ledger: ${effects.length} handler calls, ${workers.map(count).join(' + ')} by the workers`)
    t.equal(workers.reduce((n, worker) => n + count(worker), 0), effects.length, 'every call was in a worker')
    await assertEffectsIn(t, db, url, 12)
    await nothingLeft(t, db, url)
    noUncaught(t, [planner, ...workers])
  })

  t.test(`on ${db.name}: long jobs on every worker do not delay a 1 s job`, async (t) => {
    const url = await db.fresh(t, 'dist_long_jobs')
    const LONG = 8
    const MAX_CONCURRENCY = 3
    const longJobs = Array.from({ length: LONG }, (_, i) => ({ id: `long-${i}`, trigger: { type: 'date', runDate: NOW() }, behaviour: { sleep: 10 * 60_000 }, maxInstances: 1, misfireGraceTime: null }))
    const jobs = [...longJobs, { id: 'heartbeat', trigger: everySecond, coalesce: false, misfireGraceTime: null, maxInstances: 3 }]
    const config = { options: { maxConcurrency: MAX_CONCURRENCY, shutdownTimeoutMs: 1000, leaderRetryMs: 200 }, jobs }
    // Four processes, 12 slots: 8 long handlers leave room, but not in any one process.
    const workers = await Promise.all([1, 2, 3, 4].map(async (n) => started(t, `worker ${n}`, url, config)))
    const leader = await leaderOf(workers)

    const long = await pollUntil(`all ${LONG} long handlers running`, async () => {
      const rows = (await executions(url)).filter((row) => row.job_id.startsWith('long-') && row.status === 'running')
      return rows.length === LONG ? rows : undefined
    }, 60_000)
    const perOwner = workers.map((worker) => long.filter((row) => row.owner === worker.nodeId).length)
    t.comment(`long handlers per process: ${perOwner.join(', ')} (leader: ${leader.name})`)
    t.ok(perOwner.every((n) => n <= MAX_CONCURRENCY), 'no process runs more than its maxConcurrency')
    t.ok(perOwner.filter((n) => n > 0).length >= 3, 'the long handlers run on several processes, not only the leader')

    const since = Date.now()
    const beats = await pollUntil('10 heartbeat runs started while the long handlers ran', async () => {
      const rows = (await executions(url, 'heartbeat')).filter((row) => row.started_at !== null && row.run_time.getTime() >= since)
      return rows.length >= 10 ? rows : undefined
    }, 60_000)
    const stillRunning = (await executions(url)).filter((row) => row.job_id.startsWith('long-') && row.status === 'running').length
    t.equal(stillRunning, LONG, 'the long handlers were still running')
    const lags = beats.map((row) => (row.started_at as Date).getTime() - row.run_time.getTime()).sort((x, y) => x - y)
    const p99 = lags[Math.min(lags.length - 1, Math.ceil(lags.length * 0.99) - 1)] as number
    t.comment(`heartbeat fire lag (started_at - run_time), ms: ${lags.join(', ')}`)
    t.ok(p99 < 1000, `p99 fire lag ${p99} ms < 1000 ms`)
    const window = (await executions(url, 'heartbeat')).filter((row) => row.run_time.getTime() >= since && row.run_time.getTime() <= (beats.at(-1) as { run_time: Date }).run_time.getTime())
    t.same(window.filter((row) => !['running', 'success'].includes(row.status)).map((row) => `${row.run_time.toISOString()} ${row.status}`), [],
      'no heartbeat run in that window was missed or refused')

    // Every process may lead here, so a run may be queued as they stop: judged while they run.
    await nothingStuck(t, db, url)
    for (const worker of workers) await stop(t, worker)
    await assertEffectsIn(t, db, url, LONG + 10)
    noUncaught(t, workers)
  })

  t.test(`on ${db.name}: maxInstances holds cluster-wide with four workers racing for queued runs`, async (t) => {
    const url = await db.fresh(t, 'dist_max_instances')
    const MAX = 2
    const RUNS = 24
    for (const statement of DIALECT[db.name].handlerTables) await db.query(url, statement)
    // The job never fires by itself: its runs are queued at once below, for the four to race for.
    const job = { id: 'limited', trigger: { type: 'date', runDate: '2099-01-01T00:00:00Z' }, maxInstances: MAX, misfireGraceTime: null, behaviour: { sleep: 300, track: true } }
    // One slot per worker: the two instances the job allows must run in two processes at once, so
    // the limit is held across processes, not by one process's own count (on MariaDB, whose wake-ups
    // are polled, the process that frees a slot would otherwise take the next run before the others
    // have read the change counter, and all runs could stay in one process).
    const workers = await Promise.all([1, 2, 3, 4].map(async (n) => started(t, `worker ${n}`, url, { options: { pollIntervalMs: 1000, maxConcurrency: 1 }, jobs: [job] })))
    // RUNS occurrences on whole seconds before the database's now, queued, then the workers woken.
    const second = Math.floor((await databaseNow(db, url)).getTime() / 1000) * 1000
    const runTimes = Array.from({ length: RUNS }, (_, i) => new Date(second - (i + 1) * 1000))
    await db.query(url, `insert into scheduler_job_execution (job_id, run_time, status, task)
      values ${runTimes.map(() => "('limited', ?, 'queued', 'limited')").join(', ')}`, runTimes)
    await db.query(url, DIALECT[db.name].queuedWakeup)

    const rows = await pollUntil(`${RUNS} runs finished`, async () => {
      const done = (await executions(url, 'limited')).filter((row) => !['queued', 'running'].includes(row.status))
      return done.length === RUNS ? done : undefined
    }, 90_000)
    t.same([...new Set(rows.map((row) => row.status))], ['success'], 'every queued run succeeded')
    const owners = new Set(rows.map((row) => row.owner))
    t.ok(owners.size >= 2, `${owners.size} processes ran them`)

    for (const worker of workers) await stop(t, worker)
    // From the handlers' own writes: each run's span (database clock) and the gauge they kept.
    const spans = await db.query<{ run_time: Date, pid: number, started_at: Date, ended_at: Date | null }>(url, 'select run_time, pid, started_at, ended_at from handler_span')
    t.equal(spans.length, RUNS, `${RUNS} handler spans`)
    t.equal(new Set(spans.map((span) => span.run_time.getTime())).size, RUNS, 'one span per occurrence: none ran twice')
    t.ok(spans.every((span) => span.ended_at !== null), 'every handler ended')
    const edges = spans.flatMap((span) => [{ at: span.started_at.getTime(), d: 1 }, { at: (span.ended_at as Date).getTime(), d: -1 }])
      .sort((x, y) => x.at - y.at || x.d - y.d) // an end at the same instant as a start comes first
    let overlap = 0
    let peak = 0
    for (const edge of edges) peak = Math.max(peak, overlap += edge.d)
    t.ok(peak <= MAX, `at most ${MAX} handlers overlapped (spans: ${peak})`)
    t.equal(peak, MAX, `and ${MAX} did: the limit was reached, so it was tested`)
    const [gauge] = await db.query<{ current: number, peak: number }>(url, "select current, peak from handler_gauge where job_id = 'limited'")
    t.same(gauge, { current: 0, peak: MAX }, `the handlers' gauge peaked at ${MAX} and is back to 0`)
    t.ok(new Set(spans.map((span) => span.pid)).size >= 2, 'the spans come from several processes')

    const check = await assertEffectsIn(t, db, url, RUNS)
    t.equal(check.effects, RUNS, `ledger: exactly ${RUNS} handler calls, one per occurrence`)
    await nothingLeft(t, db, url)
    noUncaught(t, workers)
  })

  t.test(`on ${db.name}: a worker killed mid-run leaves abandoned rows and nothing stuck; the others go on`, async (t) => {
    const url = await db.fresh(t, 'dist_worker_kill')
    const LEASE_MS = 3000
    // 800 ms handlers every second on two one-slot workers: the victim is soon holding one; room
    // for 8 instances, as the victim's rows keep their slots until their lease expires.
    const job = { id: 'busy', trigger: everySecond, coalesce: false, misfireGraceTime: null, maxInstances: 8, behaviour: { sleep: 800 } }
    const options = { leaseMs: LEASE_MS, maxConcurrency: 1, shutdownTimeoutMs: 3000, leaderRetryMs: 200 }
    // The leader only plans, so every run goes through the queue to the two workers.
    const leader = await started(t, 'leader', url, { options: { ...options, execute: false }, jobs: [job] })
    await leaderOf([leader])
    const workers = await Promise.all([1, 2].map(async (n) => started(t, `worker ${n}`, url, { options: { ...options, plan: false }, jobs: [job] })))
    const victim = workers[0] as FailureWorker

    const held = await pollUntil('the victim runs a handler', async () => {
      const rows = (await executions(url, 'busy')).filter((row) => row.status === 'running' && row.owner === victim.nodeId)
      return rows.length > 0 && reportsOf(victim, 'started').some((r) => rows.some((row) => row.run_time.toISOString() === r.runTime)) ? rows : undefined
    }, 60_000)
    const killedAt = Date.now()
    victim.child.kill('SIGKILL')
    await victim.exited
    t.pass(`killed ${victim.name} while it ran ${held.map((row) => row.run_time.toISOString()).join(', ')}`)

    await pollUntil('the victim\'s rows abandoned after its lease', async () => {
      const rows = (await executions(url, 'busy')).filter((row) => row.owner === victim.nodeId)
      return rows.every((row) => !['running', 'queued'].includes(row.status))
    }, 30_000)
    const victims = (await executions(url, 'busy')).filter((row) => row.owner === victim.nodeId)
    for (const row of held) {
      const after = victims.find((r) => r.run_time.getTime() === row.run_time.getTime())
      t.match(after, { status: 'abandoned', exception: /lease/ }, `${row.run_time.toISOString()}: abandoned, its lease expired`)
      t.ok((after?.finished_at?.getTime() ?? 0) >= (row.lease_until?.getTime() ?? Infinity) - 50, 'not before its lease ran out')
    }
    await pollUntil('5 runs by the survivors after the kill', async () =>
      (await executions(url, 'busy')).filter((row) => row.status === 'success' && row.run_time.getTime() > killedAt).length >= 5, 60_000)

    await nothingStuck(t, db, url)
    await stopPlannerFirst(t, db, url, leader, [workers[1] as FailureWorker])
    const all = await executions(url, 'busy')
    t.ok(all.filter((row) => row.owner === victim.nodeId && row.status === 'abandoned').length >= held.length, 'the killed worker\'s rows are abandoned')
    // A loaded machine may fall behind: then the job's limit refuses an occurrence (max_instances,
    // recorded, not lost). Nothing else: no error, no missed run, no row of a survivor abandoned.
    t.same(all.filter((row) => row.owner !== victim.nodeId && !['success', 'max_instances'].includes(row.status)).map((row) => `${row.run_time.toISOString()} ${row.status}`), [],
      'the survivors\' rows all succeeded (or were refused by maxInstances when the machine fell behind)')
    t.comment(`statuses: ${JSON.stringify(Object.fromEntries(['success', 'abandoned', 'max_instances'].map((s) => [s, all.filter((row) => row.status === s).length])))}`)
    await assertEffectsIn(t, db, url, 5)
    await nothingLeft(t, db, url)
    noUncaught(t, [leader, ...workers])
  })
}
