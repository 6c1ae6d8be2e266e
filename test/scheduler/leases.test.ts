/**
 * Leases on real PostgreSQL: renewal lasts until the outcome is written (not merely until the
 * handler settles); a lease this process loses aborts the handler's signal and emits
 * `job:lease_lost`; an outcome that arrives for an `abandoned` row is recorded as its late outcome.
 */
import pg from 'pg'
import t from 'tap'
import { query } from '../helpers/database.js'
import type { Scheduler } from '../../src/scheduler/scheduler.js'
import { schedulerOnPostgres } from '../helpers/scheduler.js'
import { waitUntil } from '../helpers/wait.js'

const LEASE_MS = 1500

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

t.test('the lease is renewed until the outcome is written, not until the handler settles', async (t) => {
  const { scheduler, url } = await schedulerOnPostgres(t, 'lease_until_written', { leaseMs: LEASE_MS })
  let settledAt: Date | null = null
  scheduler.registerTask('work', async () => {
    settledAt = (await query<{ now: Date }>(url, 'select now() as now'))[0]?.now ?? null
  })
  await scheduler.start()
  // Outcome writes fail while the gate is shut (a trigger refuses any row leaving 'running');
  // lease renewals, which keep the row running, still work.
  await query(url, `create table outcome_gate (shut boolean not null);
    insert into outcome_gate values (true);
    create function refuse_outcomes() returns trigger language plpgsql as $$
    begin
      if new.status <> 'running' and (select shut from outcome_gate) then raise exception 'outcome writes refused by the test'; end if;
      return new;
    end $$;
    create trigger refuse_outcomes before update on scheduler_job_execution for each row execute function refuse_outcomes();`)
  await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 3600 } })
  const run = await scheduler.runJob('job', { inProcess: true })
  await waitUntil('the handler settled', () => settledAt, 10_000)
  // Three lease lengths after the handler settled (database clock): without renewal the lease
  // would have expired and the reaper marked the row abandoned.
  await waitUntil('three lease lengths on the database clock', async () =>
    (await query<{ passed: boolean }>(url, 'select now() > $1::timestamptz + make_interval(secs => $2 / 1000.0) as passed', [settledAt, 3 * LEASE_MS]))[0]?.passed, 20_000)
  const [held] = await query<{ status: string, live: boolean }>(url, 'select status, lease_until >= now() as live from scheduler_job_execution where id = $1', [run.id])
  t.same(held, { status: 'running', live: true }, 'still running under a live lease while its outcome waits')
  await query(url, 'update outcome_gate set shut = false')
  const done = await scheduler.waitForExecution(run.id, { timeoutMs: 20_000 })
  t.equal(done.status, 'success', 'the outcome is written once the database accepts it')
  t.equal(done.lateStatus, null)
})

t.test('a lost lease aborts the handler and its late outcome is recorded', async (t) => {
  const { scheduler, url } = await schedulerOnPostgres(t, 'lease_lost', { leaseMs: LEASE_MS })
  const handler = await startAbortableJob(scheduler)
  const leaseLost = scheduler.once('job:lease_lost')
  const late = scheduler.once('job:late_outcome')
  const run = await scheduler.runJob('job', { inProcess: true })
  await waitUntil('the handler started', () => handler.started, 10_000)
  // Another process's reaper marked it abandoned (as after a freeze longer than the lease).
  await query(url, "update scheduler_job_execution set status = 'abandoned', lease_until = null, finished_at = now(), exception = 'lease expired (test)' where id = $1", [run.id])
  const lost = await Promise.race([leaseLost, new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000).unref())])
  t.match(lost, { jobId: 'job', executionId: run.id, reason: /lease lost/ }, 'job:lease_lost')
  const { execution } = await late
  t.match(execution, { id: run.id, status: 'abandoned', exception: 'lease expired (test)', lateStatus: 'error', lateException: /^LeaseLostError: lease lost/ },
    'the abandoned row keeps its status and records the late outcome')
  const [row] = await query(url, 'select status, late_status, late_finished_at is not null as has_time from scheduler_job_execution where id = $1', [run.id])
  t.same(row, { status: 'abandoned', late_status: 'error', has_time: true })
})

t.test('a lease that cannot be renewed for leaseMs aborts the handler without waiting for the database', async (t) => {
  const { scheduler, url } = await schedulerOnPostgres(t, 'lease_watchdog', { leaseMs: LEASE_MS })
  const handler = await startAbortableJob(scheduler)
  const leaseLost = scheduler.once('job:lease_lost')
  const run = await scheduler.runJob('job', { inProcess: true })
  await waitUntil('the handler started', () => handler.started, 10_000)
  // As in a partition: every write to the running row hangs (renewals, the reaper, the outcome),
  // held behind a row lock the test takes, so nothing the database says can tell this process
  // that its lease ran out. Only the watchdog can.
  const blocker = new pg.Client({ connectionString: url })
  await blocker.connect()
  t.teardown(async () => blocker.end())
  await blocker.query('begin')
  await blocker.query('select 1 from scheduler_job_execution where id = $1 for update', [run.id])
  const lost = await Promise.race([leaseLost, new Promise<null>((resolve) => setTimeout(() => resolve(null), 4 * LEASE_MS).unref())])
  t.match(lost, { jobId: 'job', executionId: run.id, reason: /could not renew it for 1500 ms \(leaseMs\)/ }, 'job:lease_lost from the watchdog')
  const [row] = await query(url, 'select status from scheduler_job_execution where id = $1', [run.id])
  t.same(row, { status: 'running' }, 'the database still shows it running: the process learnt it alone')
  await blocker.query('rollback')
  const done = await scheduler.waitForExecution(run.id, { timeoutMs: 20_000 })
  t.ok(['error', 'abandoned'].includes(done.status), `the aborted handler's outcome reaches the row once writes work (${done.status})`)
})
