/**
 * The JobStore contract against `MikroOrmJobStore` on SQLite through `@mikro-orm/libsql`: every
 * contract part on a fresh database file per test (in a temporary directory, removed at the end),
 * and the job contract once more on `:memory:`. The sibling store shares the ORM (one process owns
 * a SQLite file). Plus SQLite's own schema checks, where the shared schema contract reads
 * PostgreSQL's catalogs.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MikroORM } from '@mikro-orm/libsql'
import t from 'tap'
import { SchedulerJob } from '../../src/entities/scheduler-job.js'
import { SchedulerJobExecution } from '../../src/entities/scheduler-job-execution.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { isUndefinedTable, type SqlClient } from '../../src/sql/sql-client.js'
import { createSqliteClient, SQLITE_NOTIFY, SqliteConnectionBusyError, type ConnectionHolder, type LibsqlDatabaseLike } from '../../src/sql/sqlite-client.js'
import type { ExecutionRecord } from '../../src/stores/job-store.js'
import { at, jobStoreContract, newJob, type MakeStore, type TapTest } from './contract.js'
import { allStoreContracts } from './all-parts-contract.js'

const dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-'))
t.teardown(async () => rm(dir, { recursive: true, force: true }))
let files = 0

/** A MikroORM on a new database file, closed at the end of `t`. */
async function freshOrm (t: TapTest, dbName = join(dir, `store-${++files}.db`)): Promise<MikroORM> {
  const orm = await MikroORM.init({ dbName, entities: [SchedulerJob, SchedulerJobExecution] })
  t.teardown(async () => orm.close(true))
  return orm
}

const onFile: MakeStore = async (t) => {
  const orm = await freshOrm(t)
  return { store: new MikroOrmJobStore(orm), sibling: () => new MikroOrmJobStore(orm) }
}

t.test('the ORM runs on SQLite (libsql), the file in WAL mode', async (t) => {
  const orm = await freshOrm(t)
  const store = new MikroOrmJobStore(orm)
  await store.initialize()
  t.equal(store.sql.dialect, 'sqlite')
  const [mode] = await store.sql.query<{ journal_mode: string }>('PRAGMA journal_mode')
  t.equal(mode?.journal_mode, 'wal')
})

allStoreContracts(t, onFile)

t.test('on :memory:', async (t) => {
  jobStoreContract(t, async (t) => {
    const orm = await freshOrm(t, ':memory:')
    return { store: new MikroOrmJobStore(orm), sibling: () => new MikroOrmJobStore(orm) }
  })
})

/** The SQL port of an initialized store on a fresh file. */
async function openSql (t: TapTest): Promise<SqlClient> {
  const store = new MikroOrmJobStore(await freshOrm(t))
  await store.initialize()
  return store.sql
}

t.test('schema: the occurrence key (job_id, run_time, attempt) refuses a second row for one attempt', async (t) => {
  const sql = await openSql(t)
  await sql.query("INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', 1000, 'missed')")
  const error = await sql.query("INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', 1000, 'running')")
    .then(() => null, (error: { code?: string }) => error)
  t.equal(error?.code, 'SQLITE_CONSTRAINT_UNIQUE')
  await sql.query("INSERT INTO scheduler_job_execution (job_id, run_time, attempt, status) VALUES ('j', 1000, 2, 'queued')")
  await sql.query("INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', 1001, 'missed')")
  const [count] = await sql.query<{ n: number }>('SELECT count(*) AS n FROM scheduler_job_execution')
  t.equal(count?.n, 3, 'another attempt and another run time are accepted')
})

t.test('schema: the indexes mirror PostgreSQL\'s, partial ones included, and no foreign keys', async (t) => {
  const sql = await openSql(t)
  const rows = await sql.query<{ name: string, sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
  const defs = new Map(rows.map((row) => [row.name, row.sql.replace(/\s+/g, ' ')]))
  const has = (name: string, tail: string): void => { t.match(defs.get(name), new RegExp(`${tail.replace(/[()]/g, '\\$&')}$`), name) }
  has('scheduler_job_next_run_time_idx', 'ON scheduler_job (next_run_time) WHERE NOT paused')
  has('scheduler_job_execution_status_run_time_idx', 'ON scheduler_job_execution (status, run_time)')
  has('scheduler_job_execution_running_idx', "ON scheduler_job_execution (job_id, lease_until) WHERE status = 'running'")
  has('scheduler_job_execution_queued_idx', "ON scheduler_job_execution (task, run_time) WHERE status = 'queued'")
  has('scheduler_job_execution_occurrence_key', 'ON scheduler_job_execution (job_id, run_time, attempt)')
  has('scheduler_audit_job_id_at_idx', 'ON scheduler_audit (job_id, at DESC)')
  has('scheduler_audit_at_idx', 'ON scheduler_audit (at)')
  t.notOk(defs.has('scheduler_job_execution_job_id_run_time_idx'), 'no (job_id, run_time DESC) index: the occurrence key serves a job\'s newest executions')
  const foreign = await sql.query("SELECT * FROM pragma_foreign_key_list('scheduler_job_execution')")
  t.same(foreign, [], 'no foreign key from executions to jobs')
  await sql.query("INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('never-existed', 1, 'abandoned')")
})

t.test('schema: checks on status, json columns and max_instances', async (t) => {
  const sql = await openSql(t)
  const code = async (statement: string): Promise<string | undefined> =>
    sql.query(statement).then(() => undefined, (error: { code?: string }) => error.code)
  t.equal(await code("INSERT INTO scheduler_job_execution (job_id, run_time, status) VALUES ('j', 1, 'started')"), 'SQLITE_CONSTRAINT_CHECK', 'an unknown status')
  t.equal(await code("INSERT INTO scheduler_job (id, name, task, args, trigger) VALUES ('a', 'a', 't', '{}', '{}')"), 'SQLITE_CONSTRAINT_CHECK', 'args not an array')
  t.equal(await code("INSERT INTO scheduler_job (id, name, task, trigger) VALUES ('b', 'b', 't', 'not json')"), 'SQLITE_CONSTRAINT_CHECK', 'trigger not json')
  t.equal(await code("INSERT INTO scheduler_job (id, name, task, trigger, max_instances) VALUES ('c', 'c', 't', '{}', 0)"), 'SQLITE_CONSTRAINT_CHECK', 'max_instances 0')
  t.equal(await code("INSERT INTO scheduler_job (id, name, task, trigger) VALUES ('d', 'd', 't', '{}')"), undefined, 'a valid row')
})

t.test('SQLite: an outcome and its retry are one transaction, under a timeout too', async (t) => {
  for (const options of [{}, { timeoutMs: 5000 }]) {
    const store = new MikroOrmJobStore(await freshOrm(t))
    await store.initialize()
    await store.addJob({ ...newJob('r'), nextRunTime: at(0) })
    const [claim] = await store.claimDueJobs({ now: at(0), limit: 10, startLimit: 10, tasks: ['task.a'], owner: 'n', leaseMs: 60_000, plan: (job) => ({ run: [job.nextRunTime as Date], missed: [], maxInstances: [], coalesced: 0, nextRunTime: at(3600) }) })
    const running = claim?.running[0] as ExecutionRecord
    // The retry's insert (the outcome's second statement on SQLite) fails: the outcome must not stay written.
    await store.sql.query("CREATE TRIGGER no_retries BEFORE INSERT ON scheduler_job_execution WHEN NEW.attempt > 1 BEGIN SELECT RAISE(ABORT, 'no retries'); END")
    const outcome = { status: 'error' as const, exception: 'boom', retryDelayMs: 5000 }
    await t.rejects(store.finishExecutions([{ id: running.id, outcome }], at(1), options), /no retries/, `${JSON.stringify(options)}: the batch fails`)
    t.equal((await store.getExecution(running.id))?.status, 'running', `${JSON.stringify(options)}: the outcome was rolled back with the retry`)
    await store.sql.query('DROP TRIGGER no_retries')
    const [finished] = await store.finishExecutions([{ id: running.id, outcome }], at(1), options)
    t.equal(finished?.nextAttemptAt?.getTime(), at(6).getTime(), 'then it is written, the next attempt 5 s after the outcome')
    const rows = await store.getExecutions({ jobId: 'r' })
    t.same(rows.map((row) => [row.attempt, row.status, row.startAfter?.getTime() ?? null]).sort(), [[1, 'error', null], [2, 'queued', at(6).getTime()]], 'with its retry')
  }
})

t.test('SQLite: a missing table is reported as the port\'s 42P01 and recoverMissingTable installs it again', async (t) => {
  const store = new MikroOrmJobStore(await freshOrm(t))
  await store.initialize()
  await store.sql.query('DROP TABLE scheduler_job_execution')
  const error = await store.getExecutions({}).then(() => null, (error: Error) => error)
  t.ok(error !== null && isUndefinedTable(error), `the read failed with code 42P01 (${String(error?.message)})`)
  t.match(await store.recoverMissingTable(error as Error), /installed again/)
  t.same(await store.getExecutions({}), [], 'the table is back')
})

t.test('SQLite: an audit row that cannot be written is reported and the change still commits', async (t) => {
  const store = new MikroOrmJobStore(await freshOrm(t))
  await store.initialize()
  await store.sql.query('DROP TABLE scheduler_audit')
  const failures: Error[] = []
  const added = await store.addJob(newJob('kept'), { audit: { action: 'added', actor: 'test', onError: (error) => failures.push(error) } })
  t.equal(added.id, 'kept')
  t.equal((await store.getJob('kept'))?.id, 'kept', 'the job committed')
  t.equal(failures.length, 1, 'the failure was reported once')
  t.match(failures[0]?.message, /scheduler_audit/)
})

t.test('SQLite: values the port binds (bigint, Buffer, objects) and its wake-ups', async (t) => {
  const store = new MikroOrmJobStore(await freshOrm(t))
  await store.initialize()
  const [row] = await store.sql.query<{ n: number, b: Buffer, o: string }>('SELECT ?1 AS n, ?2 AS b, ?3 AS o', [42n, Buffer.from('hi'), { a: 1 }])
  t.equal(row?.n, 42)
  t.equal(Buffer.from(row?.b as Buffer).toString(), 'hi')
  t.equal(row?.o, '{"a":1}')
  const session = await store.sql.openSession()
  const heard: string[] = []
  await session.listen('scheduler_wakeup', (payload) => heard.push(payload))
  await t.rejects(store.sql.transaction(async (tx) => {
    await tx.query(SQLITE_NOTIFY, ['scheduler_wakeup', 'rolled back'])
    throw new Error('rollback')
  }))
  await store.notifyChange('committed')
  await store.sql.transaction(async (tx) => { await tx.query(SQLITE_NOTIFY, ['scheduler_wakeup', 'at commit']) })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(heard, ['committed', 'at commit'], 'notifications reach this process at commit, none after a rollback')
  let ended = 0
  session.onEnd(() => ended++)
  await session.close()
  await session.close()
  session.onEnd(() => ended++)
  t.equal(ended, 2, 'onEnd fires once at close, and at once when registered after it')
  await store.notifyChange('after close')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(heard, ['committed', 'at commit'], 'a closed session hears nothing')
})

t.test('SQLite: a write inside the host\'s em.transactional fails after the connection wait, never runs, and the host\'s transaction goes on', async (t) => {
  const orm = await freshOrm(t)
  const connection = orm.em.getConnection()
  const sql = await createSqliteClient(await connection.getNativeClient() as LibsqlDatabaseLike, (connection as unknown as { getClient(): ConnectionHolder }).getClient(), { connectionWaitMs: 300 })
  const store = new MikroOrmJobStore(sql)
  await store.initialize()
  const startedAt = Date.now()
  const outcome = await orm.em.fork().transactional(async (em) => {
    await em.getConnection().execute("SELECT 1 AS one", [], 'all', em.getTransactionContext())
    const error = await store.addJob(newJob('inside')).then(() => null, (error: Error) => error)
    await em.getConnection().execute("INSERT INTO scheduler_audit (action, job_id, actor) VALUES ('added', 'host', 'host')", [], 'run', em.getTransactionContext())
    return error
  })
  t.type(outcome, SqliteConnectionBusyError, 'the write failed with the error that says why')
  t.match(outcome?.message, /em\.transactional/)
  t.ok(Date.now() - startedAt >= 300, 'after waiting connectionWaitMs')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await store.getJob('inside'), null, 'it never ran, not even once the connection was free')
  t.equal(await store.countAudit({ jobId: 'host' }), 1, "the host's transaction committed its own write")
  t.equal((await store.addJob(newJob('after'))).id, 'after', 'after the transaction the write works')
})
