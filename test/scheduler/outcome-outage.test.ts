/**
 * Outcomes survive a database outage longer than any retry budget: a TCP proxy between this
 * scheduler and the shared PostgreSQL server cuts every connection (the server itself keeps
 * running for everyone else). The outcome of a handler that finished during the outage waits in
 * memory and is written once the database is reachable again; at shutdown, an outcome still
 * unwritten is reported (log and `scheduler:outcomes_lost`), not dropped silently.
 *
 * PostgreSQL only, for now: not yet run once per server like the other store-dependent files here
 * (issue #15 converted those first; this one holds a 10 s outage per test, and its proxy targets
 * `DATABASE_URL`'s server).
 */
import t from 'tap'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MikroOrmJobStore } from '../../src/stores/mikro-orm-job-store.js'
import { BASE_URL, freshDatabase, openOrm, query } from '../helpers/database.js'
import { OutageProxy } from '../helpers/outage-proxy.js'
import { waitUntil } from '../helpers/wait.js'

/** Longer than the writer's old retry budget (6 attempts, about 6 s of backoff). */
const OUTAGE_MS = 10_000

async function setup (t: { teardown(fn: () => unknown): void }, label: string, options: Record<string, unknown> = {}) {
  const url = await freshDatabase(t, label)
  const target = new URL(BASE_URL)
  const proxy = await new OutageProxy({ host: target.hostname, port: Number(target.port || 5432) }).listen()
  t.teardown(async () => proxy.close())
  const orm = await openOrm(t, proxy.url(url))
  const scheduler = new Scheduler({ store: new MikroOrmJobStore(orm), orm, pollIntervalMs: 30_000, leaseMs: 60_000, ...options })
  t.teardown(async () => scheduler.shutdown())
  const errors: string[] = []
  scheduler.on('scheduler:error', ({ during }) => errors.push(during))
  const lost: unknown[] = []
  scheduler.on('scheduler:outcomes_lost', (payload) => lost.push(payload))
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let settled = false
  scheduler.registerTask('work', async () => { await released; settled = true })
  await scheduler.start()
  await scheduler.addJob({ id: 'job', task: 'work', trigger: { type: 'interval', seconds: 3600 } })
  const run = await scheduler.runJob('job', { inProcess: true })
  return { url, proxy, scheduler, errors, lost, run, release, settled: () => settled }
}

t.test('an outcome finished during a long outage is written when the database is back', async (t) => {
  const { url, proxy, errors, lost, run, release, settled } = await setup(t, 'outcome_outage')
  proxy.down()
  const downAt = performance.now()
  release()
  await waitUntil('the handler settled and its outcome failed to be written', () => settled() && errors.includes('record outcome'), 20_000)
  await waitUntil(`an outage of ${OUTAGE_MS} ms`, () => performance.now() - downAt >= OUTAGE_MS, OUTAGE_MS + 5000)
  t.ok(proxy.refused > 0, `${proxy.refused} connection attempts refused during the outage`)
  proxy.up()
  const row = await waitUntil('the outcome is written', async () => {
    const [execution] = await query<{ status: string }>(url, 'select status from scheduler_job_execution where id = $1', [run.id])
    return execution?.status === 'running' ? undefined : execution
  }, 30_000)
  t.equal(row.status, 'success', 'recorded success after the outage')
  t.same(lost, [], 'nothing reported lost')
})

t.test('an outcome still unwritten at shutdown is reported lost', async (t) => {
  const { proxy, scheduler, lost, run, release, settled } = await setup(t, 'outcome_lost', { shutdownTimeoutMs: 500 })
  proxy.down()
  release()
  await waitUntil('the handler settled', () => settled(), 10_000)
  await scheduler.shutdown()
  t.match(lost, [{ executions: [{ executionId: run.id, jobId: 'job', status: 'success' }], reason: /shutdownTimeoutMs/ }], 'scheduler:outcomes_lost names the execution')
})
