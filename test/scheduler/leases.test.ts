/**
 * Leases on real PostgreSQL and MariaDB: renewal lasts until the outcome is written (not merely until the
 * handler settles); a lease this process loses aborts the handler's signal and emits
 * `job:lease_lost`; an outcome that arrives for an `abandoned` row is recorded as its late outcome.
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import t from 'tap'
import type { Scheduler } from '../../src/scheduler/scheduler.js'
import { schedulerOn } from '../helpers/scheduler.js'
import { SERVER_DATABASES, type TestDatabase } from '../helpers/test-databases.js'
import { waitUntil } from '../helpers/wait.js'

const LEASE_MS = 1500
/** The database clock, in SQL. */
const NOW = { postgresql: 'now()', mariadb: 'UTC_TIMESTAMP(3)' }

/**
 * A trigger refusing any write that moves an execution row out of 'running' while the gate is
 * shut (lease renewals, which keep the row running, still work); `update outcome_gate set shut =
 * false` opens it.
 */
const OUTCOME_GATE = {
  postgresql: [`create table outcome_gate (shut boolean not null);
    insert into outcome_gate values (true);
    create function refuse_outcomes() returns trigger language plpgsql as $$
    begin
      if new.status <> 'running' and (select shut from outcome_gate) then raise exception 'outcome writes refused by the test'; end if;
      return new;
    end $$;
    create trigger refuse_outcomes before update on scheduler_job_execution for each row execute function refuse_outcomes();`],
  mariadb: [
    'create table outcome_gate (shut boolean not null)',
    'insert into outcome_gate values (true)',
    `create trigger refuse_outcomes before update on scheduler_job_execution for each row
    begin
      if new.status <> 'running' and (select shut from outcome_gate) then signal sqlstate '45000' set message_text = 'outcome writes refused by the test'; end if;
    end`
  ]
}

/** Holds a row lock on execution `id` from a connection of its own until the returned function rolls it back. */
async function lockExecutionRow (db: TestDatabase, t: { teardown(fn: () => unknown): void }, url: string, id: number): Promise<() => Promise<void>> {
  const lock = 'select 1 from scheduler_job_execution where id = ? for update'
  if (db.name === 'postgresql') {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    t.teardown(async () => client.end())
    await client.query('begin')
    await client.query(lock.replace('?', '$1'), [id])
    return async () => { await client.query('rollback') }
  }
  const connection = await mysql.createConnection({ uri: url })
  t.teardown(async () => connection.end())
  await connection.query('start transaction')
  await connection.query(lock, [id])
  return async () => { await connection.query('rollback') }
}

/** Starts `scheduler` with job 'job', whose handler waits for its signal and throws its reason. */
async function startAbortableJob (scheduler: Scheduler): Promise<{ started: boolean }> {
  const handler = { started: false }
  scheduler.registerTask('work', async (ctx) => {
    handler.started = true
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()))
    throw ctx.signal.reason
  })
  await scheduler.start()
  await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 3600 } })
  return handler
}

for (const db of SERVER_DATABASES) {
  t.test(`${db.name}: the lease is renewed until the outcome is written, not until the handler settles`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'lease_until_written', { leaseMs: LEASE_MS })
    const databaseNow = async (): Promise<Date> => (await db.query<{ now: Date }>(url, `select ${NOW[db.name]} as now`))[0]?.now as Date
    let settledAt: Date | null = null
    scheduler.registerTask('work', async () => { settledAt = await databaseNow() })
    await scheduler.start()
    // Outcome writes fail while the gate is shut (a trigger refuses any row leaving 'running');
    // lease renewals, which keep the row running, still work.
    for (const statement of OUTCOME_GATE[db.name]) await db.query(url, statement)
    await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 3600 } })
    const run = await scheduler.runJob('job', { inProcess: true })
    const settled = await waitUntil('the handler settled', () => settledAt, 10_000)
    // Three lease lengths after the handler settled (database clock): without renewal the lease
    // would have expired and the reaper marked the row abandoned.
    await waitUntil('three lease lengths on the database clock', async () => (await databaseNow()).getTime() > settled.getTime() + 3 * LEASE_MS, 20_000)
    const [held] = await db.query<{ status: string, lease_until: Date | null, now: Date }>(url, `select status, lease_until, ${NOW[db.name]} as now from scheduler_job_execution where id = ?`, [run.id])
    const live = held?.lease_until instanceof Date && held.lease_until >= held.now
    t.same({ status: held?.status, live }, { status: 'running', live: true }, 'still running under a live lease while its outcome waits')
    await db.query(url, 'update outcome_gate set shut = false')
    const done = await scheduler.waitForExecution(run.id, { timeoutMs: 20_000 })
    t.equal(done.status, 'success', 'the outcome is written once the database accepts it')
    t.equal(done.lateStatus, null)
  })

  t.test(`${db.name}: a lost lease aborts the handler and its late outcome is recorded`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'lease_lost', { leaseMs: LEASE_MS })
    const handler = await startAbortableJob(scheduler)
    const leaseLost = scheduler.once('job:lease_lost')
    const late = scheduler.once('job:late_outcome')
    const run = await scheduler.runJob('job', { inProcess: true })
    await waitUntil('the handler started', () => handler.started, 10_000)
    // Another process's reaper marked it abandoned (as after a freeze longer than the lease).
    await db.query(url, `update scheduler_job_execution set status = 'abandoned', lease_until = null, finished_at = ${NOW[db.name]}, exception = 'lease expired (test)' where id = ?`, [run.id])
    const lost = await Promise.race([leaseLost, new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000).unref())])
    t.match(lost, { jobId: 'job', executionId: run.id, reason: /lease lost/ }, 'job:lease_lost')
    const { execution } = await late
    t.match(execution, { id: run.id, status: 'abandoned', exception: 'lease expired (test)', lateStatus: 'error', lateException: /^LeaseLostError: lease lost/ },
      'the abandoned row keeps its status and records the late outcome')
    const [row] = await db.query(url, 'select status, late_status, late_finished_at from scheduler_job_execution where id = ?', [run.id])
    t.same({ status: row?.status, late_status: row?.late_status, has_time: row?.late_finished_at instanceof Date }, { status: 'abandoned', late_status: 'error', has_time: true })
  })

  t.test(`${db.name}: a lease that cannot be renewed for leaseMs aborts the handler without waiting for the database`, async (t) => {
    const { scheduler, url } = await schedulerOn(db, t, 'lease_watchdog', { leaseMs: LEASE_MS })
    const handler = await startAbortableJob(scheduler)
    const leaseLost = scheduler.once('job:lease_lost')
    const run = await scheduler.runJob('job', { inProcess: true })
    await waitUntil('the handler started', () => handler.started, 10_000)
    // As in a partition: every write to the running row hangs (renewals, the reaper, the outcome),
    // held behind a row lock the test takes, so nothing the database says can tell this process
    // that its lease ran out. Only the watchdog can.
    const unlock = await lockExecutionRow(db, t, url, run.id)
    const lost = await Promise.race([leaseLost, new Promise<null>((resolve) => setTimeout(() => resolve(null), 4 * LEASE_MS).unref())])
    t.match(lost, { jobId: 'job', executionId: run.id, reason: /could not renew it for 1500 ms \(leaseMs\)/ }, 'job:lease_lost from the watchdog')
    const [row] = await db.query(url, 'select status from scheduler_job_execution where id = ?', [run.id])
    t.same(row, { status: 'running' }, 'the database still shows it running: the process learnt it alone')
    await unlock()
    const done = await scheduler.waitForExecution(run.id, { timeoutMs: 20_000 })
    t.ok(['error', 'abandoned'].includes(done.status), `the aborted handler's outcome reaches the row once writes work (${done.status})`)
  })
}
