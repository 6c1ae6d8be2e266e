/**
 * Prometheus metrics of the scheduler on a host-supplied `prom-client` `Registry` (the one
 * `fastify-metrics` or the host's own `/metrics` already serves). Counters and histograms are fed
 * by the scheduler's typed events; gauges are read when the registry is scraped, from this
 * process's state or from bounded count queries. Names, types and units follow the Prometheus
 * naming conventions (https://prometheus.io/docs/practices/naming/): base units (seconds), `_total`
 * on counters.
 *
 * `prom-client` is an optional peer dependency: it is loaded only when `metrics` is given.
 */
import { createRequire } from 'node:module'
import type { Counter, Histogram, Registry } from 'prom-client'
import { InvalidOptionsError } from '../errors.js'
import type { ExecutionRecord, ExecutionFilter, JobFilter } from '../stores/job-store.js'
import type { SchedulerEventName, SchedulerEvents } from '../types.js'

/** The `metrics` option. */
export interface MetricsOptions {
  /** The `prom-client` `Registry` to register the scheduler's metrics on. Required. */
  registry: Registry
  /**
   * Label `scheduler_executions_total` with the job id (`job`). Default `true`; set `false` for
   * hosts with very many jobs, to keep the series count bounded by the number of tasks.
   */
  perJobLabels?: boolean
  /** Milliseconds a scrape waits for the gauges' count queries before keeping their last values. Default 2000. */
  scrapeTimeoutMs?: number
}

export interface ResolvedMetricsOptions {
  registry: Registry
  perJobLabels: boolean
  scrapeTimeoutMs: number
}

/** What the metrics read from the scheduler: its public API, so this module never imports it. */
export interface MetricsSource {
  on<E extends SchedulerEventName>(event: E, listener: (payload: SchedulerEvents[E]) => void): () => void
  status(): { isLeader: boolean, runningExecutions: number[] }
  countJobs(filter?: JobFilter): Promise<number>
  countExecutions(filter?: ExecutionFilter): Promise<number>
  getJob(id: string): Promise<{ task: string } | null>
}

/** Every metric name, type, labels and unit (README "Metrics" lists the same). */
export const METRIC_NAMES = {
  executions: 'scheduler_executions_total',
  executionDuration: 'scheduler_execution_duration_seconds',
  fireLag: 'scheduler_fire_lag_seconds',
  running: 'scheduler_running_executions',
  queued: 'scheduler_queued_executions',
  jobs: 'scheduler_jobs',
  isLeader: 'scheduler_is_leader',
  claimDuration: 'scheduler_claim_duration_seconds',
  errors: 'scheduler_errors_total'
} as const

/** Seconds; from a 5 ms handler to an hour-long report. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]
/** Seconds late; a healthy cluster stays in the first buckets. */
const FIRE_LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
/** Seconds per claim transaction. */
const CLAIM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** `scheduler_jobs{state}` states: claimable, paused, or flagged by `lastError` (and not paused). */
export const JOB_STATES = ['active', 'paused', 'flagged'] as const

/** Validates the `metrics` option. @throws InvalidOptionsError naming the bad field. */
export function resolveMetricsOptions (options: MetricsOptions | undefined): ResolvedMetricsOptions | null {
  if (options === undefined) return null
  if (options === null || typeof options !== 'object') throw new InvalidOptionsError('metrics', 'must be an object: { registry } with a prom-client Registry')
  const registry = options.registry as Partial<Registry> | undefined
  if (registry === undefined || registry === null || typeof registry.registerMetric !== 'function' || typeof registry.metrics !== 'function') {
    throw new InvalidOptionsError('metrics.registry', "must be a prom-client Registry: metrics: { registry: new Registry() } or prom-client's default `register`")
  }
  if (options.perJobLabels !== undefined && typeof options.perJobLabels !== 'boolean') throw new InvalidOptionsError('metrics.perJobLabels', 'must be a boolean')
  const scrapeTimeoutMs = options.scrapeTimeoutMs ?? 2000
  if (!Number.isSafeInteger(scrapeTimeoutMs) || scrapeTimeoutMs <= 0) throw new InvalidOptionsError('metrics.scrapeTimeoutMs', 'must be a positive integer of milliseconds')
  return { registry: options.registry, perJobLabels: options.perJobLabels ?? true, scrapeTimeoutMs }
}

/**
 * Registers the scheduler's metrics on `options.registry` and subscribes to `source`'s events.
 * `close()` unsubscribes and removes the metrics from the registry.
 * @throws InvalidOptionsError when prom-client cannot be loaded or the registry already holds one of these metric names.
 */
export class SchedulerMetrics {
  readonly #registry: Registry
  readonly #offs: Array<() => void> = []
  /** Task of each job seen in an event, for executions reaped without one. */
  readonly #tasks = new Map<string, string>()
  readonly #executions: Counter<string>
  readonly #duration: Histogram<string>
  readonly #fireLag: Histogram<string>
  readonly #claimDuration: Histogram<string>
  readonly #errors: Counter<string>
  readonly #perJobLabels: boolean

  constructor (source: MetricsSource, options: ResolvedMetricsOptions) {
    const prom = loadPromClient()
    const { registry, perJobLabels, scrapeTimeoutMs } = options
    this.#registry = registry
    this.#perJobLabels = perJobLabels
    for (const name of Object.values(METRIC_NAMES)) {
      if (registry.getSingleMetric(name) !== undefined) {
        throw new InvalidOptionsError('metrics.registry', `already has a metric named ${name}: give each scheduler its own registry, or close the other scheduler first`)
      }
    }
    const registers = [registry]
    this.#executions = new prom.Counter({
      name: METRIC_NAMES.executions,
      help: 'Executions that reached a terminal status in this process (success, error, timeout, missed, max_instances, abandoned).',
      labelNames: perJobLabels ? ['job', 'task', 'status'] : ['task', 'status'],
      registers
    })
    this.#duration = new prom.Histogram({
      name: METRIC_NAMES.executionDuration,
      help: 'Seconds a handler ran, from its start to its outcome (success, error, timeout).',
      labelNames: ['task'],
      buckets: DURATION_BUCKETS,
      registers
    })
    this.#fireLag = new prom.Histogram({
      name: METRIC_NAMES.fireLag,
      help: 'Seconds between an occurrence\'s scheduled run time and the start of its execution.',
      labelNames: ['task'],
      buckets: FIRE_LAG_BUCKETS,
      registers
    })
    this.#claimDuration = new prom.Histogram({
      name: METRIC_NAMES.claimDuration,
      help: 'Seconds per claim transaction of the scheduling loop (leader, or every node with lock: none).',
      buckets: CLAIM_BUCKETS,
      registers
    })
    this.#errors = new prom.Counter({
      name: METRIC_NAMES.errors,
      help: 'Faults of the scheduler\'s own loops (database down, ...), by what it was doing; each was logged and retried.',
      labelNames: ['during'],
      registers
    })
    const scrape = new ScrapeQueries(scrapeTimeoutMs, (during) => this.#errors.inc({ during }))
    new prom.Gauge({
      name: METRIC_NAMES.running,
      help: 'Executions running in this process now.',
      registers,
      collect () { this.set(source.status().runningExecutions.length) }
    })
    new prom.Gauge({
      name: METRIC_NAMES.isLeader,
      help: '1 while this process holds the leader lock and runs the scheduling loop, else 0.',
      registers,
      collect () { this.set(source.status().isLeader ? 1 : 0) }
    })
    new prom.Gauge({
      name: METRIC_NAMES.queued,
      help: 'Executions waiting in the queue cluster-wide (read from the database at scrape; the same on every node).',
      registers,
      async collect () {
        const queued = await scrape.run('metrics scrape', async () => source.countExecutions({ status: 'queued' }))
        if (queued !== null) this.set(queued)
      }
    })
    new prom.Gauge({
      name: METRIC_NAMES.jobs,
      help: 'Jobs by state cluster-wide: active (claimable or finished), paused, flagged (cannot run, see lastError). Read from the database at scrape.',
      labelNames: ['state'],
      registers,
      async collect () {
        const counts = await scrape.run('metrics scrape', async () => Promise.all([
          source.countJobs({ paused: false, flagged: false }),
          source.countJobs({ paused: true }),
          source.countJobs({ paused: false, flagged: true })
        ]))
        if (counts !== null) JOB_STATES.forEach((state, i) => this.set({ state }, counts[i] as number))
      }
    })

    this.#subscribe(source)
  }

  #subscribe (source: MetricsSource): void {
    const finished = (payload: { jobId: string, task: string, execution: ExecutionRecord }): void => {
      this.#tasks.set(payload.jobId, payload.task)
      this.#countExecution(payload.jobId, payload.task, payload.execution)
      this.#observeRun(payload.task, payload.execution)
    }
    this.#offs.push(
      source.on('job:submitted', ({ jobId, task }) => { this.#tasks.set(jobId, task) }),
      source.on('job:added', ({ job }) => { this.#tasks.set(job.id, job.task) }),
      source.on('job:modified', ({ job }) => { this.#tasks.set(job.id, job.task) }),
      source.on('job:removed', ({ jobId }) => { this.#tasks.delete(jobId) }),
      source.on('job:executed', finished),
      source.on('job:error', finished),
      source.on('job:missed', finished),
      source.on('job:max_instances', finished),
      source.on('job:abandoned', ({ jobId, task, execution }) => {
        const known = task ?? this.#tasks.get(jobId)
        if (known !== undefined) {
          this.#countExecution(jobId, known, execution)
          return
        }
        // Reaped from another process: one lookup of the job's task (empty when the job is gone).
        source.getJob(jobId).then(
          (job) => this.#countExecution(jobId, job?.task ?? '', execution),
          () => this.#countExecution(jobId, '', execution)
        )
      }),
      source.on('scheduler:claimed', ({ durationMs }) => { this.#claimDuration.observe(durationMs / 1000) }),
      source.on('scheduler:error', ({ during }) => { this.#errors.inc({ during }) })
    )
  }

  #countExecution (jobId: string, task: string, execution: ExecutionRecord): void {
    this.#executions.inc(this.#perJobLabels ? { job: jobId, task, status: execution.status } : { task, status: execution.status })
  }

  /** Duration and fire lag of executions whose handler ran. */
  #observeRun (task: string, execution: ExecutionRecord): void {
    if (execution.durationMs === null || execution.startedAt === null) return
    this.#duration.observe({ task }, execution.durationMs / 1000)
    this.#fireLag.observe({ task }, Math.max(0, execution.startedAt.getTime() - execution.runTime.getTime()) / 1000)
  }

  /** Unsubscribes and removes the scheduler's metrics from the registry. */
  close (): void {
    for (const off of this.#offs.splice(0)) off()
    for (const name of Object.values(METRIC_NAMES)) this.#registry.removeSingleMetric(name)
  }
}

/** Runs the gauges' queries with a deadline; a failure or a timeout counts as an error and keeps the last value. */
class ScrapeQueries {
  constructor (readonly timeoutMs: number, readonly onError: (during: string) => void) {}

  async run<T>(during: string, query: () => Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), this.timeoutMs) })
    try {
      const result = await Promise.race([query(), deadline])
      if (result === null) this.onError(during)
      return result
    } catch {
      this.onError(during)
      return null
    } finally {
      clearTimeout(timer)
    }
  }
}

type PromClient = typeof import('prom-client')

function loadPromClient (): PromClient {
  try {
    return createRequire(import.meta.url)('prom-client') as PromClient
  } catch (error) {
    throw new InvalidOptionsError('metrics', `needs the prom-client package (an optional peer dependency): npm install prom-client (${(error as Error).message})`)
  }
}
