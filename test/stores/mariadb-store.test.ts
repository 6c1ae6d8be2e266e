/**
 * What only a MySQL/MariaDB server shows about `MikroOrmJobStore` on it (the contract itself runs
 * in `mariadb.test.ts`): the installed schema read from `information_schema` (the counterpart of
 * `schema-contract.ts`, whose checks read PostgreSQL's catalogs), concurrent installs under
 * `GET_LOCK`, `FOR UPDATE SKIP LOCKED`, the leader fence, UTC timestamps whatever the session's
 * time zone, the client-side deadline, and driver detection for `@mikro-orm/mysql` too.
 */
import { CompiledQuery } from 'kysely'
import { MikroORM as MariaDbORM } from '@mikro-orm/mariadb'
import { MikroORM as MySqlORM } from '@mikro-orm/mysql'
import mysql from 'mysql2/promise'
import t from 'tap'
import { schedulerEntities } from '../../src/entities/index.js'
import { MYSQL_DROP_STATEMENTS } from '../../src/schema/mysql-ddl.js'
import { ConnectionTimeoutError } from '../../src/sql/pg-client.js'
import type { ClaimPlanner } from '../../src/stores/job-store.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { freshMariadbDatabase, mariadbQuery, openMariadbOrm } from '../helpers/mariadb.js'
import { at, newJob } from './contract.js'

const url = await freshMariadbDatabase(t, 'mariadb_store')
const orm = await openMariadbOrm(t, url)
const otherOrm = await openMariadbOrm(t, url)

async function dropTables (): Promise<void> {
  for (const statement of MYSQL_DROP_STATEMENTS) await mariadbQuery(url, statement)
}

async function freshStore (): Promise<MikroOrmJobStore> {
  await dropTables()
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  return store
}

const plan: ClaimPlanner = (job) => ({ run: [job.nextRunTime as Date], missed: [], maxInstances: [], coalesced: 0, nextRunTime: at(3600) })
const claimOptions = { now: at(10), limit: 10, startLimit: 10, tasks: ['task.a'], owner: 'n', leaseMs: 1000, plan }

t.test('schema: the occurrence key (job_id, run_time, attempt) refuses a second row for one attempt', async (t) => {
  await freshStore()
  const keys = await mariadbQuery<{ name: string, columns: string }>(url,
    `SELECT INDEX_NAME AS name, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS columns FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'scheduler_job_execution' AND NON_UNIQUE = 0 GROUP BY INDEX_NAME ORDER BY INDEX_NAME`)
  t.same(keys.map((row) => [row.name, row.columns]), [['PRIMARY', 'id'], ['scheduler_job_execution_occurrence_key', 'job_id,run_time,attempt']])
  await mariadbQuery(url, "INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', '2030-01-01 00:00:00', 'missed')")
  const error = await mariadbQuery(url, "INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', '2030-01-01 00:00:00', 'running')")
    .then(() => null, (error: { errno?: number }) => error)
  t.equal(error?.errno, 1062, 'ER_DUP_ENTRY')
  await mariadbQuery(url, "INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status) VALUES ('j', '2030-01-01 00:00:00', 2, 'queued')")
  await mariadbQuery(url, "INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', '2030-01-01 00:00:00.001', 'missed')")
  const [count] = await mariadbQuery<{ n: number }>(url, "SELECT count(*) AS n FROM scheduler_job_execution WHERE job_id = 'j'")
  t.equal(Number(count?.n), 3, 'a second attempt and another millisecond are accepted')
})

t.test('schema: the indexes that replace the partial ones, no foreign key, the status check', async (t) => {
  await freshStore()
  const indexes = await mariadbQuery<{ t: string, name: string, columns: string }>(url,
    `SELECT TABLE_NAME AS t, INDEX_NAME AS name, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS columns FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 1 GROUP BY TABLE_NAME, INDEX_NAME ORDER BY TABLE_NAME, INDEX_NAME`)
  t.same(indexes.map((row) => `${row.t}.${row.name}(${row.columns})`), [
    'scheduler_audit.scheduler_audit_at_idx(at)',
    'scheduler_audit.scheduler_audit_job_id_at_idx(job_id,at)',
    'scheduler_job.scheduler_job_next_run_time_idx(paused,next_run_time)',
    'scheduler_job_execution.scheduler_job_execution_queued_idx(status,task,run_time)',
    'scheduler_job_execution.scheduler_job_execution_running_idx(status,job_id,lease_until)',
    'scheduler_job_execution.scheduler_job_execution_status_run_time_idx(status,run_time)'
  ])
  const foreign = await mariadbQuery(url, "SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_TYPE = 'FOREIGN KEY'")
  t.same(foreign, [], 'no foreign key (history outlives jobs)')
  const error = await mariadbQuery(url, "INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', UTC_TIMESTAMP(3), 'started')")
    .then(() => null, (error: { errno?: number }) => error)
  t.equal(error?.errno, 4025, 'an unknown status violates the check constraint (MariaDB ER_CONSTRAINT_FAILED)')
  const plan = await mariadbQuery<{ key: string | null }>(url,
    "EXPLAIN SELECT id FROM scheduler_job WHERE paused = FALSE AND last_error IS NULL AND next_run_time <= '2030-01-01' ORDER BY next_run_time LIMIT 10")
  t.equal(plan[0]?.key, 'scheduler_job_next_run_time_idx', 'the claim reads due jobs through (paused, next_run_time)')
})

t.test('schema: ids are case-sensitive, as on PostgreSQL (utf8mb4_bin)', async (t) => {
  const store = await freshStore()
  await store.addJob(newJob('report'))
  await store.addJob(newJob('Report'))
  t.same((await store.getJobs()).map((job) => job.id), ['Report', 'report'], 'two jobs, sorted by code point')
  t.same((await store.getJobs({ search: 'REP' })).map((job) => job.id), ['Report', 'report'], 'the search ignores case, as ILIKE')
})

t.test('initialize() from many processes at once never fails (GET_LOCK), and creates the six tables', async (t) => {
  for (let round = 0; round < 3; round++) {
    await dropTables()
    const stores = [orm, otherOrm, orm, otherOrm, orm, otherOrm].map((o) => new MikroOrmJobStore(o))
    const results = await Promise.allSettled(stores.map(async (store) => store.initialize()))
    t.same(results.filter((result) => result.status === 'rejected'), [], `round ${round}: every concurrent initialize() succeeded`)
  }
  const tables = await mariadbQuery<{ name: string }>(url, "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'scheduler\\_%' ORDER BY TABLE_NAME")
  t.same(tables.map((row) => row.name), ['scheduler_audit', 'scheduler_change', 'scheduler_job', 'scheduler_job_execution', 'scheduler_leader', 'scheduler_node'])
})

t.test("install: 'migrations' names what is missing", async (t) => {
  await dropTables()
  const error = await new MikroOrmJobStore(orm, { install: 'migrations' }).initialize().then(() => null, (error: Error) => error)
  t.match(error?.message, /scheduler_job\.id/, 'the first missing column is named')
  await new MikroOrmJobStore(orm).initialize()
  await new MikroOrmJobStore(orm, { install: 'migrations' }).initialize()
  t.pass('once installed, the check passes')
})

t.test('a schema option is refused on MySQL with a clear error', async (t) => {
  const error = await new MikroOrmJobStore(orm, { schema: 'jobs' }).initialize().then(() => null, (error: Error) => error)
  t.match(error, { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /no schemas inside a database/ })
})

t.test('claimDueJobs skips a job locked by another transaction instead of waiting (SKIP LOCKED)', async (t) => {
  const store = await freshStore()
  await store.addJob(newJob('locked', { nextRunTime: at(0) }))
  await store.addJob(newJob('free', { nextRunTime: at(1) }))
  const holder = await mysql.createConnection({ uri: url })
  t.teardown(async () => holder.end())
  await holder.query('START TRANSACTION')
  await holder.query("SELECT id FROM scheduler_job WHERE id = 'locked' FOR UPDATE")
  let timer: NodeJS.Timeout | undefined
  const blocked = new Promise<'blocked'>((resolve) => { timer = setTimeout(() => resolve('blocked'), 5000) })
  const claims = await Promise.race([store.claimDueJobs(claimOptions), blocked])
  clearTimeout(timer)
  await holder.query('ROLLBACK')
  t.not(claims, 'blocked', 'the claim did not wait for the locked row')
  if (claims === 'blocked') return
  t.same(claims.map((claim) => claim.job.id), ['free'], 'only the unlocked job was claimed')
  t.equal((await store.getJob('locked'))?.nextRunTime?.getTime(), at(0).getTime(), 'the locked job is untouched')
  const later = await store.claimDueJobs(claimOptions)
  t.same(later.map((claim) => claim.job.id), ['locked'], 'once released it is claimed')
})

t.test('the lease reaper skips an execution row another transaction holds instead of waiting (no deadlock with outcome writes)', async (t) => {
  const store = await freshStore()
  await store.addJob(newJob('held', { nextRunTime: at(0) }))
  await store.addJob(newJob('free', { nextRunTime: at(1) }))
  const claims = await store.claimDueJobs(claimOptions)
  const ids = new Map(claims.map((claim) => [claim.job.id, claim.running[0]?.id]))
  t.same([...ids.keys()].sort(), ['free', 'held'], 'both jobs claimed, each with a running execution (lease 1 s)')
  const holder = await mysql.createConnection({ uri: url })
  t.teardown(async () => holder.end())
  await holder.query('START TRANSACTION')
  await holder.query('SELECT id FROM scheduler_job_execution WHERE id = ? FOR UPDATE', [ids.get('held')])
  let timer: NodeJS.Timeout | undefined
  const blocked = new Promise<'blocked'>((resolve) => { timer = setTimeout(() => resolve('blocked'), 5000) })
  const reaped = await Promise.race([store.abandonExpiredExecutions('lease expired', at(60)), blocked])
  clearTimeout(timer)
  await holder.query('ROLLBACK')
  t.not(reaped, 'blocked', 'the reaper did not wait for the held row')
  if (reaped === 'blocked') return
  t.same(reaped.map((execution) => execution.jobId), ['free'], 'only the row nobody held was reaped')
  const again = await store.abandonExpiredExecutions('lease expired', at(60))
  t.same(again.map((execution) => execution.jobId), ['held'], 'once released, the next pass reaps it')
})

t.test('the leader fence: a claim goes ahead only while the leader row names this node, session and a fresh heartbeat', async (t) => {
  const store = await freshStore()
  const fence = { lockKey: 7, nodeId: 'leader', backendPid: 99, staleMs: 2000 }
  const stage = async (nodeId: string, backendPid: number, ageMs: number): Promise<number> => {
    await mariadbQuery(url, 'DELETE FROM scheduler_job_execution')
    await mariadbQuery(url, 'DELETE FROM scheduler_job')
    await mariadbQuery(url, 'DELETE FROM scheduler_leader')
    await store.addJob(newJob('fenced', { nextRunTime: at(0) }))
    await mariadbQuery(url, `INSERT INTO scheduler_leader (lock_key, node_id, backend_pid, acquired_at, heartbeat_at)
      VALUES (7, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) - INTERVAL ? * 1000 MICROSECOND)`, [nodeId, backendPid, ageMs])
    return (await store.claimDueJobs({ ...claimOptions, fence })).length
  }
  t.equal(await stage('leader', 99, 0), 1, 'leading: claimed')
  t.equal(await stage('leader', 99, 5000), 0, 'a stale heartbeat: nothing claimed')
  t.equal(await stage('leader', 100, 0), 0, 'another lock session: nothing claimed')
  t.equal(await stage('standby', 99, 0), 0, 'another node: nothing claimed')
  t.equal((await store.getExecutions()).length, 0, 'no execution written by a fenced-out claim')
})

t.test('timestamps are UTC whatever the session and driver time zone', async (t) => {
  await dropTables()
  const shifted = await MariaDbORM.init({
    clientUrl: url,
    entities: [...schedulerEntities],
    timezone: '+05:00',
    onCreateConnection: async (connection) => { await (connection as { executeQuery(query: CompiledQuery): Promise<unknown> }).executeQuery(CompiledQuery.raw("SET time_zone = '+05:00'")) }
  })
  t.teardown(async () => shifted.close(true))
  const store = new MikroOrmJobStore(shifted)
  await store.initialize()
  const [zone] = await store.sql.query<{ zone: string }>('SELECT @@session.time_zone AS zone')
  t.equal(zone?.zone, '+05:00', 'the pool\'s sessions are at +05:00')
  const added = await store.addJob(newJob('utc', { nextRunTime: at(90.5) }))
  t.equal(added.nextRunTime?.toISOString(), '2030-01-01T00:01:30.500Z', 'a Date round-trips to the millisecond')
  const [stored] = await mariadbQuery<{ text: string }>(url, "SELECT DATE_FORMAT(next_run_time, '%Y-%m-%d %H:%i:%s.%f') AS text FROM scheduler_job WHERE id = 'utc'")
  t.equal(stored?.text, '2030-01-01 00:01:30.500000', 'the column holds the UTC wall time')
  const drift = Math.abs((await store.now()).getTime() - Date.now())
  t.ok(drift < 5000, `now() is the UTC clock (off by ${drift} ms from this process)`)
  t.ok(Math.abs(added.createdAt.getTime() - Date.now()) < 5000, 'createdAt is written on the UTC clock')
})

t.test('a statement or transaction past its deadline is abandoned and its connection destroyed', async (t) => {
  const store = await freshStore()
  const started = Date.now()
  const error = await store.sql.transaction(async (tx) => tx.query('SELECT SLEEP(10)'), { timeoutMs: 300 }).then(() => null, (error: Error) => error)
  t.type(error, ConnectionTimeoutError)
  t.ok(Date.now() - started < 5000, `rejected after ${Date.now() - started} ms, not after the 10 s sleep`)
  const queryError = await store.sql.query('SELECT SLEEP(10)', [], { timeoutMs: 300 }).then(() => null, (error: Error) => error)
  t.type(queryError, ConnectionTimeoutError)
  const [row] = await store.sql.query<{ one: number }>('SELECT 1 AS one')
  t.equal(row?.one, 1, 'the pool still answers')
})

t.test('@mikro-orm/mysql is detected as well', async (t) => {
  await dropTables()
  const mysqlOrm = await MySqlORM.init({ clientUrl: url, entities: [...schedulerEntities] })
  t.teardown(async () => mysqlOrm.close(true))
  const store = new MikroOrmJobStore(mysqlOrm)
  await store.initialize()
  t.equal(store.sql.dialect, 'mysql')
  t.equal((await store.addJob(newJob('via-mysql-driver'))).id, 'via-mysql-driver')
})

t.test('claims racing from six stores on two pools win each occurrence exactly once', async (t) => {
  const store = await freshStore()
  const JOBS = 30
  const LAST = 600
  for (let i = 0; i < JOBS; i++) await store.addJob(newJob(`race-${i}`, { nextRunTime: at(0) }))
  // Each claim runs a job's next occurrence and moves it a minute on, until past at(LAST).
  const stepping: ClaimPlanner = (job) => {
    const due = job.nextRunTime as Date
    return { run: [due], missed: [], maxInstances: [], coalesced: 0, nextRunTime: new Date(due.getTime() + 60_000) }
  }
  const claimers = [orm, otherOrm, orm, otherOrm, orm, otherOrm].map((o) => new MikroOrmJobStore(o))
  const won: string[] = []
  const elsewhere: string[] = []
  await Promise.all(claimers.map(async (claimer, n) => {
    for (;;) {
      const claims = await claimer.claimDueJobs({ now: at(LAST), limit: 4, startLimit: 4, tasks: ['task.a'], owner: `claimer-${n}`, leaseMs: 60_000, plan: stepping })
      if (claims.length === 0) return
      for (const claim of claims) {
        for (const execution of claim.running) won.push(`${execution.jobId}@${execution.runTime.toISOString()}`)
        for (const runTime of claim.claimedElsewhere) elsewhere.push(`${claim.job.id}@${runTime.toISOString()}`)
      }
    }
  }))
  const expected = JOBS * (LAST / 60 + 1)
  t.equal(won.length, expected, `${JOBS} jobs × ${LAST / 60 + 1} occurrences were won in all`)
  t.equal(new Set(won).size, won.length, 'no occurrence was won twice')
  t.same(elsewhere, [], 'no claim planned an occurrence another had already written (the job lock serialises them)')
  const [rows] = await mariadbQuery<{ n: number, owners: number }>(url, "SELECT count(*) AS n, count(DISTINCT owner) AS owners FROM scheduler_job_execution WHERE status = 'running'")
  t.equal(Number(rows?.n), expected, 'as many execution rows as occurrences won')
  t.ok(Number(rows?.owners) > 1, `the work was shared by ${String(rows?.owners)} claimers`)
})

t.test('run-now racing the plan step on one job never loses nor doubles an occurrence', async (t) => {
  const store = await freshStore()
  await store.addJob(newJob('busy', { nextRunTime: at(0), maxInstances: 1000 }))
  const stepping: ClaimPlanner = (job) => {
    const due = job.nextRunTime as Date
    return { run: [due], missed: [], maxInstances: [], coalesced: 0, nextRunTime: new Date(due.getTime() + 1) }
  }
  const planner = new MikroOrmJobStore(otherOrm)
  const planned: number[] = []
  const ranNow: number[] = []
  await Promise.all([
    (async () => {
      for (let i = 0; i < 40; i++) {
        const claims = await planner.claimDueJobs({ now: at(1), limit: 1, startLimit: 1, tasks: ['task.a'], owner: 'planner', leaseMs: 60_000, plan: stepping })
        for (const claim of claims) for (const execution of claim.running) planned.push(execution.id)
      }
    })(),
    (async () => {
      for (let i = 0; i < 40; i++) {
        const run = i % 2 === 0
          ? await store.queueRun('busy', at(0))
          : await store.claimImmediateRun('busy', { now: at(0), owner: 'now', leaseMs: 60_000 })
        if (run !== null) ranNow.push(run.id)
      }
    })()
  ])
  t.equal(ranNow.length, 40, 'every run-now got its own execution')
  const [row] = await mariadbQuery<{ n: number }>(url, "SELECT count(*) AS n FROM scheduler_job_execution WHERE job_id = 'busy'")
  t.equal(Number(row?.n), planned.length + ranNow.length, `${planned.length} planned + ${ranNow.length} run-now rows, nothing lost or doubled`)
  t.equal(new Set([...planned, ...ranNow]).size, planned.length + ranNow.length, 'distinct executions')
})
