/**
 * Prometheus metrics: after real executions on PostgreSQL, the registry's text output carries the
 * counts of a ledger the handlers keep (not the scheduler's own counters), fire lags computed from
 * the test clock's arithmetic, and gauges equal to counts read straight from the tables.
 */
import t from 'tap'
import { Registry } from 'prom-client'
import type { MetricsOptions } from '../../src/observability/metrics.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'
import { MemoryJobStore } from '../../src/stores/memory-job-store.js'
import { FakeClock } from '../helpers/clock.js'
import { query } from '../helpers/database.js'
import { metricTypes, parsePrometheusText, sampleValue, type Sample } from '../helpers/prometheus.js'
import { schedulerOnPostgres } from '../helpers/scheduler.js'
import { waitUntil } from '../helpers/wait.js'

const T0 = '2026-11-21T10:00:00.000Z'
const at = (seconds: number): Date => new Date(Date.parse(T0) + seconds * 1000)

async function scrape (registry: Registry): Promise<Sample[]> {
  return parsePrometheusText(await registry.metrics())
}

/** Job counts by state, straight from the table: the evidence for `scheduler_jobs{state}`. */
async function jobStates (url: string): Promise<Record<string, number>> {
  const [row] = await query<Record<string, number>>(url, `SELECT
      count(*) FILTER (WHERE NOT paused AND last_error IS NULL)::integer AS active,
      count(*) FILTER (WHERE paused)::integer AS paused,
      count(*) FILTER (WHERE NOT paused AND last_error IS NOT NULL)::integer AS flagged
    FROM scheduler_job`)
  return row as Record<string, number>
}

t.test('counters, histograms and gauges after real executions', async (t) => {
  const clock = new FakeClock(at(-1))
  const registry = new Registry()
  const { scheduler, url } = await schedulerOnPostgres(t, 'metrics', { clock: clock.now, metrics: { registry } })
  // The ledger: one entry per handler call, written by the handlers themselves.
  const ledger: Array<{ jobId: string, task: string, outcome: 'success' | 'error' }> = []
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  scheduler.registerTask('ok', (ctx) => { ledger.push({ jobId: ctx.job.id, task: 'ok', outcome: 'success' }) })
  scheduler.registerTask('fail', (ctx) => {
    ledger.push({ jobId: ctx.job.id, task: 'fail', outcome: 'error' })
    throw new Error('fails on purpose')
  })
  scheduler.registerTask('hold', async (ctx) => {
    ledger.push({ jobId: ctx.job.id, task: 'hold', outcome: 'success' })
    await held
  })
  for (const id of ['a', 'b']) await scheduler.addJob({ id, task: 'ok', trigger: { type: 'date', runDate: T0 } })
  await scheduler.addJob({ id: 'c', task: 'fail', trigger: { type: 'date', runDate: T0 } })
  await scheduler.addJob({ id: 'm', task: 'ok', trigger: { type: 'date', runDate: T0 }, misfireGraceTime: 1 })
  await scheduler.addJob({ id: 'p', task: 'ok', trigger: { type: 'interval', seconds: 3600 }, paused: true })
  await scheduler.addJob({ id: 'f', task: 'ok', trigger: { type: 'interval', seconds: 3600 } })
  await scheduler.addJob({ id: 'q', task: 'ok', trigger: { type: 'interval', seconds: 3600 }, maxInstances: 2 })
  await scheduler.addJob({ id: 'h', task: 'hold', trigger: { type: 'interval', seconds: 3600 } })
  await query(url, "UPDATE scheduler_job SET last_error = 'flagged by the test' WHERE id = 'f'")
  await scheduler.runJob('q')
  await scheduler.runJob('q')

  const types = metricTypes(await registry.metrics())
  t.same(Object.fromEntries(types), {
    scheduler_executions_total: 'counter',
    scheduler_execution_duration_seconds: 'histogram',
    scheduler_fire_lag_seconds: 'histogram',
    scheduler_claim_duration_seconds: 'histogram',
    scheduler_errors_total: 'counter',
    scheduler_running_executions: 'gauge',
    scheduler_is_leader: 'gauge',
    scheduler_queued_executions: 'gauge',
    scheduler_jobs: 'gauge'
  }, 'every metric is registered with its type')

  let samples = await scrape(registry)
  const [{ queued }] = await query<{ queued: number }>(url, "SELECT count(*)::integer AS queued FROM scheduler_job_execution WHERE status = 'queued'") as [{ queued: number }]
  t.equal(queued, 2, 'two runs wait in the queue')
  t.equal(sampleValue(samples, 'scheduler_queued_executions'), queued)
  const before = await jobStates(url)
  t.same(before, { active: 6, paused: 1, flagged: 1 })
  for (const state of ['active', 'paused', 'flagged']) t.equal(sampleValue(samples, 'scheduler_jobs', { state }), before[state], `jobs{state="${state}"}`)
  t.equal(sampleValue(samples, 'scheduler_is_leader'), 0, 'not leader before start')
  t.equal(sampleValue(samples, 'scheduler_running_executions'), 0)

  // Terminal events seen by the test: the point at which every outcome has been recorded.
  let finished = 0
  for (const event of ['job:executed', 'job:error', 'job:missed'] as const) scheduler.on(event, () => { finished++ })
  const leader = scheduler.once('leader:acquired')
  await scheduler.start()
  await leader
  // The two queued runs start at once, on the clock at T0 - 1 s, which is their run time: no lag.
  await waitUntil('the queued runs', () => finished === 2)
  // Then the date jobs fall due, three seconds late: a, b run 3 s late, c fails, m is missed (grace 1 s).
  clock.set(at(3))
  scheduler.wakeup()
  await waitUntil('the date jobs', () => finished === 6)

  samples = await scrape(registry)
  const expected = new Map<string, number>()
  for (const call of ledger) expected.set(`${call.jobId}/${call.task}/${call.outcome}`, (expected.get(`${call.jobId}/${call.task}/${call.outcome}`) ?? 0) + 1)
  t.same(Object.fromEntries(expected), { 'q/ok/success': 2, 'a/ok/success': 1, 'b/ok/success': 1, 'c/fail/error': 1 }, 'the ledger')
  for (const [key, count] of expected) {
    const [job, task, status] = key.split('/') as [string, string, string]
    t.equal(sampleValue(samples, 'scheduler_executions_total', { job, task, status }), count, `executions_total for ${key} equals the ledger`)
  }
  const missedRows = await query(url, "SELECT job_id FROM scheduler_job_execution WHERE status = 'missed'")
  t.same(missedRows, [{ job_id: 'm' }])
  t.equal(sampleValue(samples, 'scheduler_executions_total', { job: 'm', task: 'ok', status: 'missed' }), 1, 'the missed occurrence')
  t.equal(samples.filter((s) => s.name === 'scheduler_executions_total').length, 5, 'no other series')

  const okCalls = ledger.filter((call) => call.task === 'ok').length
  t.equal(sampleValue(samples, 'scheduler_execution_duration_seconds_count', { task: 'ok' }), okCalls, 'one duration per ok handler call')
  t.equal(sampleValue(samples, 'scheduler_execution_duration_seconds_count', { task: 'fail' }), 1)
  // Fire lag = start - run time: 0 for the queued runs (clock unmoved), 3 s minus the handler's
  // few milliseconds for a and b.
  t.equal(sampleValue(samples, 'scheduler_fire_lag_seconds_bucket', { task: 'ok', le: '0.001' }), 2, 'queued runs: no lag')
  t.equal(sampleValue(samples, 'scheduler_fire_lag_seconds_bucket', { task: 'ok', le: '2.5' }), 2, 'nothing between 1 ms and 2.5 s')
  t.equal(sampleValue(samples, 'scheduler_fire_lag_seconds_bucket', { task: 'ok', le: '5' }), 4, 'a and b: about 3 s late')
  const lagSum = sampleValue(samples, 'scheduler_fire_lag_seconds_sum', { task: 'ok' }) as number
  t.ok(lagSum > 5.5 && lagSum <= 6, `lag sum ${lagSum} is 2 × (3 s − a handler's duration)`)
  t.ok((sampleValue(samples, 'scheduler_claim_duration_seconds_count') as number) >= 2, 'claims are timed')
  t.equal(sampleValue(samples, 'scheduler_queued_executions'), 0, 'the queue is empty')
  t.equal(sampleValue(samples, 'scheduler_is_leader'), 1, 'this process leads')
  const after = await jobStates(url)
  for (const state of ['active', 'paused', 'flagged']) t.equal(sampleValue(samples, 'scheduler_jobs', { state }), after[state], `jobs{state="${state}"} after the runs`)

  // A handler held open: the running gauge counts it.
  const started = await scheduler.runJob('h')
  await waitUntil('the held handler', () => ledger.some((call) => call.jobId === 'h'))
  t.equal(sampleValue(await scrape(registry), 'scheduler_running_executions'), 1, 'one handler running in this process')
  release()
  await scheduler.waitForExecution(started.id)
  samples = await scrape(registry)
  t.equal(sampleValue(samples, 'scheduler_running_executions'), 0)
  t.equal(sampleValue(samples, 'scheduler_executions_total', { job: 'h', task: 'hold', status: 'success' }), 1)

  await scheduler.shutdown()
  t.equal(sampleValue(await scrape(registry), 'scheduler_is_leader'), 0, 'not leader after shutdown')
  scheduler.metrics?.close()
  t.same(registry.getMetricsAsArray(), [], 'close() removes the metrics from the registry')
})

t.test('perJobLabels: false drops the job label', async (t) => {
  const registry = new Registry()
  const { scheduler } = await schedulerOnPostgres(t, 'metrics_nojob', { metrics: { registry, perJobLabels: false } })
  let calls = 0
  scheduler.registerTask('ok', () => { calls++ })
  await scheduler.start()
  for (const id of ['one', 'two', 'three']) await scheduler.addJob({ id, task: 'ok', trigger: { type: 'interval', seconds: 3600 } })
  for (const id of ['one', 'two', 'three']) await scheduler.waitForExecution((await scheduler.runJob(id)).id)
  const series = (await scrape(registry)).filter((sample) => sample.name === 'scheduler_executions_total')
  t.same(series, [{ name: 'scheduler_executions_total', labels: { task: 'ok', status: 'success' }, value: calls }], 'one series for three jobs, counting every call')
  t.equal(calls, 3)
})

t.test('bad metrics options are refused with what to do', async (t) => {
  const registry = new Registry()
  const build = (metrics: unknown): Scheduler => new Scheduler({ store: new MemoryJobStore(), metrics: metrics as MetricsOptions })
  t.throws(() => build({ registry: {} }), { code: 'FST_SCHEDULER_INVALID_OPTIONS', message: /metrics\.registry.*prom-client Registry/ })
  t.throws(() => build({ registry, perJobLabels: 'no' }), { message: /metrics\.perJobLabels: must be a boolean/ })
  const first = build({ registry })
  t.throws(() => build({ registry }), { message: /already has a metric named scheduler_executions_total/ }, 'one scheduler per registry')
  first.metrics?.close()
  t.ok(build({ registry }).metrics, 'a closed scheduler\'s registry can be reused')
})

t.test('scheduler_errors_total counts the faults the store was made to raise, by where they struck', async (t) => {
  // The evidence: the number of faults this store injected, counted by the test, not by the scheduler.
  class FailingWrites extends MemoryJobStore {
    injected = 0
    override async finishExecutions (...args: Parameters<MemoryJobStore['finishExecutions']>): ReturnType<MemoryJobStore['finishExecutions']> {
      if (this.injected < 3) {
        this.injected++
        throw new Error(`outcome write refused by the test (${this.injected})`)
      }
      return super.finishExecutions(...args)
    }
  }
  const store = new FailingWrites()
  const registry = new Registry()
  const scheduler = new Scheduler({ store, metrics: { registry }, pollIntervalMs: 50 })
  t.teardown(async () => { await scheduler.shutdown(); scheduler.metrics?.close() })
  scheduler.registerTask('ok', () => {})
  await scheduler.start()
  const job = await scheduler.addJob({ id: 'job', task: 'ok', trigger: { type: 'interval', seconds: 3600 } })
  const run = await scheduler.runJob(job.id, { inProcess: true })
  const done = await scheduler.waitForExecution(run.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'success', 'the outcome is written once the store accepts it')
  t.equal(store.injected, 3, 'three writes were refused')
  const samples = await scrape(registry)
  t.equal(sampleValue(samples, 'scheduler_errors_total', { during: 'record outcome' }), store.injected, 'errors_total{during="record outcome"} equals the faults injected')
  t.same(samples.filter((s) => s.name === 'scheduler_errors_total' && s.labels.during !== 'record outcome'), [], 'no error counted elsewhere')
})
