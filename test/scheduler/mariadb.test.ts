/**
 * What is MariaDB's own in the scheduler (MikroORM's MariaDB driver): the `GET_LOCK` leader lock's
 * heartbeat row, wake-ups through the polled change counter, the tables installed again after a
 * drop, and jobs written through the host's `em`. Everything else the scheduler does (executions,
 * retries, leases, leader failover and fencing, …) is tested on MariaDB by the files of
 * test/scheduler that run once per server (`SERVER_DATABASES`). The cross-process wake-up delay is
 * measured by this test's own clock, between a job write on one scheduler and its execution on the
 * other, with the loops' own polling set to 30 s so that only a wake-up can explain a run within a
 * second.
 */
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t from 'tap'
import { SchedulerJob, schedulerPlugin } from '../../src/index.js'
import type { SchedulerOptions } from '../../src/options.js'
import type { Scheduler } from '../../src/scheduler/scheduler.js'
import { freshMariadbDatabase, mariadbQuery, openMariadbOrm } from '../helpers/mariadb.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { MARIADB } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const url = await freshMariadbDatabase(t, 'scheduler')

const schedulerOnMariadb = async (t: { teardown(fn: () => unknown): void }, options: Partial<SchedulerOptions> = {}): Promise<Scheduler> =>
  (await schedulerOn(MARIADB, t, 'scheduler', options, url)).scheduler

t.test("lock 'auto' takes GET_LOCK, and the leader's heartbeat row names the connection that holds it", async (t) => {
  const scheduler = await schedulerOnMariadb(t, { nodeId: 'smoke' })
  await scheduler.start()
  await waitUntil('the scheduler leads', () => scheduler.status().isLeader)
  t.equal(scheduler.status().lock, 'advisory', "lock 'auto' picks the GET_LOCK lock on MySQL")
  const [holder] = await mariadbQuery<{ holders: number }>(url,
    `SELECT count(*) AS holders FROM scheduler_leader WHERE node_id = 'smoke' AND backend_pid = IS_USED_LOCK(CONCAT('fms_leader_', SHA1(CONCAT(DATABASE(), ':', lock_key))))`)
  t.equal(Number(holder?.holders), 1, 'the leader row names the connection that holds the lock')
})

t.test('a job added on one process wakes the leader on another within a second (the polled change counter)', async (t) => {
  const leader = await schedulerOnMariadb(t, { nodeId: 'leader' })
  const other = await schedulerOnMariadb(t, { nodeId: 'other', plan: false })
  const ran: Array<{ id: string, at: number }> = []
  leader.registerTask('wake', async (ctx) => { ran.push({ id: ctx.job.id, at: Date.now() }) })
  other.registerTask('wake', async () => {})
  await leader.start()
  await waitUntil('the first scheduler leads', () => leader.status().isLeader)
  await other.start()
  const delays: number[] = []
  for (let round = 0; round < 5; round++) {
    const id = `wake-${round}`
    // An idle leader: nothing due, its loop asleep for 30 s unless woken.
    const added = Date.now()
    await other.addJob({ id, task: 'wake', trigger: { type: 'date', runDate: new Date().toISOString() } })
    const run = await waitUntil(`${id} runs`, () => ran.find((entry) => entry.id === id), 10_000)
    delays.push(run.at - added)
  }
  t.comment(`cross-process wake-up delays (ms): ${delays.join(', ')}`)
  t.ok(Math.max(...delays) < 1000, `every job ran within 1 s of its write on the other process (max ${Math.max(...delays)} ms; the loops poll every 30 s)`)
  t.equal(ran.length, 5, 'each job ran once')
})

t.test('a run queued by a planner that does not execute wakes a worker on another process within a second', async (t) => {
  const planner = await schedulerOnMariadb(t, { nodeId: 'planner', execute: false })
  const worker = await schedulerOnMariadb(t, { nodeId: 'worker', plan: false })
  const ran: Array<{ id: string, at: number }> = []
  planner.registerTask('queued', async () => {})
  worker.registerTask('queued', async (ctx) => { ran.push({ id: ctx.job.id, at: Date.now() }) })
  await planner.start()
  await waitUntil('the planner leads', () => planner.status().isLeader)
  await worker.start()
  const delays: number[] = []
  for (let round = 0; round < 5; round++) {
    const id = `queued-${round}`
    const added = Date.now()
    // Written on the planner: it wakes at once (same process), plans a queued run, and bumps the
    // queued counter; the worker, whose own loops sleep 30 s, can only learn of it by its poll.
    await planner.addJob({ id, task: 'queued', trigger: { type: 'date', runDate: new Date().toISOString() } })
    const run = await waitUntil(`${id} runs on the worker`, () => ran.find((entry) => entry.id === id), 10_000)
    delays.push(run.at - added)
  }
  t.comment(`planner-to-worker delays (ms): ${delays.join(', ')}`)
  t.ok(Math.max(...delays) < 1000, `every queued run started on the worker within 1 s (max ${Math.max(...delays)} ms; its loops poll every 30 s)`)
  const owners = await mariadbQuery<{ owner: string }>(url, "SELECT DISTINCT owner FROM scheduler_job_execution WHERE job_id LIKE 'queued-%'")
  t.same(owners.map((row) => row.owner), ['worker'], 'the worker started them all')
})

t.test('a table dropped under a running scheduler on MariaDB is installed again, and jobs keep running', async (t) => {
  const orm = await openMariadbOrm(t, url)
  const lines: Array<{ msg: string }> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as { msg: string }); done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(async () => app.close())
  const runs: Date[] = []
  await app.register(schedulerPlugin, {
    orm,
    tasks: { tick: async (ctx) => { runs.push(ctx.runTime) } },
    jobs: [{ id: 'healed', task: 'tick', trigger: { type: 'interval', seconds: 1 } }],
    pollIntervalMs: 500,
    leaderHeartbeatMs: 200,
    leaderStaleMs: 1000
  })
  await app.ready()
  await waitUntil('the first run', () => runs.length > 0)
  await mariadbQuery(url, 'DROP TABLE scheduler_leader')
  const reinstalled = await waitUntil('a log line saying the tables were installed again', () => lines.find((line) => /installed again/.test(line.msg)))
  t.match(reinstalled.msg, /scheduler_leader/, 'the log names the missing table')
  const runsAtReinstall = runs.length
  await waitUntil('two more runs after the reinstall', () => runs.length >= runsAtReinstall + 2)
  const leader = await waitUntil('a leader row again', async () => (await mariadbQuery(url, 'SELECT node_id FROM scheduler_leader'))[0])
  t.equal(leader.node_id, app.scheduler.nodeId, 'the leader heartbeats into the reinstalled table')
})

t.test("a job written through the host's em on MariaDB is validated, scheduled and run", async (t) => {
  const orm = await openMariadbOrm(t, url)
  const app = Fastify()
  t.teardown(async () => app.close())
  const runs: string[] = []
  await app.register(schedulerPlugin, { orm, tasks: { orm: async (ctx) => { runs.push(ctx.job.id) } }, pollIntervalMs: 30_000 })
  await app.ready()
  const em = orm.em.fork()
  em.create(SchedulerJob, { id: 'from-em', name: 'from em', task: 'orm', args: [], trigger: { type: 'interval', seconds: 1 } })
  await em.flush()
  await waitUntil('the em-written job runs', () => runs.includes('from-em'), 5000)
  const job = await app.scheduler.getJob('from-em')
  t.ok(job?.nextRunTime instanceof Date, 'the flush computed its next run time')
  const loaded = await orm.em.fork().findOneOrFail(SchedulerJob, 'from-em')
  t.ok(loaded.createdAt instanceof Date, 'the entity loads its dates as Dates')
  t.equal(loaded.createdAt.getTime(), job?.createdAt.getTime(), 'the same instant the store reads')
  const audit = await app.scheduler.getAudit({ jobId: 'from-em' })
  t.same(audit.map((entry) => [entry.action, entry.actor]), [['added', 'orm']], 'the flush wrote its audit row (actor orm)')
  t.ok(Math.abs((audit[0]?.at.getTime() ?? 0) - (job?.createdAt.getTime() ?? 0)) < 5000, 'at the time of the write, in UTC')
  const invalid = orm.em.fork()
  invalid.create(SchedulerJob, { id: 'bad', name: 'bad', task: 'orm', args: [], trigger: { type: 'interval', seconds: -1 } })
  await t.rejects(invalid.flush(), { code: 'FST_SCHEDULER_INVALID_TRIGGER' }, 'an invalid row makes the flush throw')
  t.equal(await app.scheduler.getJob('bad'), null, 'and nothing of it is written')
})

t.test('an outcome MariaDB refuses for its data (SQLSTATE 22001 from mysql2) is stored as a plain note, not retried as an outage', async (t) => {
  const scheduler = await schedulerOnMariadb(t, { nodeId: 'refused' })
  await scheduler.start()
  await waitUntil('the tables are installed', async () => (await mariadbQuery(url, "SHOW TABLES LIKE 'scheduler_job_execution'")).length === 1)
  // The server refuses this one exception text as "data too long" would (SQLSTATE class 22).
  await mariadbQuery(url, `CREATE TRIGGER refuse_poison BEFORE UPDATE ON scheduler_job_execution FOR EACH ROW
    BEGIN IF NEW.exception LIKE '%poison pill%' THEN SIGNAL SQLSTATE '22001' SET MESSAGE_TEXT = 'refused by the test trigger'; END IF; END`)
  t.teardown(async () => mariadbQuery(url, 'DROP TRIGGER IF EXISTS refuse_poison'))
  scheduler.registerTask('poisoned', async () => { throw new Error('poison pill') })
  await scheduler.addJob({ id: 'poisoned', task: 'poisoned', trigger: { type: 'date', runDate: new Date(Date.now() + 200).toISOString() } })
  const [row] = await waitUntil('the refused outcome stored as a plain note', async () => {
    const rows = await mariadbQuery<{ status: string, exception: string }>(url,
      "SELECT status, exception FROM scheduler_job_execution WHERE job_id = 'poisoned' AND status <> 'running'")
    return rows.length > 0 ? rows : null
  }, 20_000)
  t.equal(row?.status, 'error', 'the outcome is stored')
  t.match(row?.exception, /^the outcome \(error\) could not be stored as is: .*refused by the test trigger/, 'with why its own text was refused')
})
