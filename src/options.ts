/**
 * Scheduler options: what callers pass (`SchedulerOptions`) and what the scheduler uses after
 * validation and defaults (`ResolvedSchedulerOptions`). Resolved once; the caller's object is
 * never mutated. Every invalid option throws `InvalidOptionsError` naming it.
 */
import { parseRetryPolicy } from './scheduler/retry-policy.js'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { MikroORM } from '@mikro-orm/core'
import { InvalidOptionsError } from './errors.js'
import { DEFAULT_LEADER_LOCK_KEY } from './locks/advisory-lock.js'
import type { JobStore } from './stores/job-store.js'
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from './observability/metrics.js'
import type { JobOptions, SchedulerLogger } from './types.js'

export type LockOption = 'auto' | 'advisory' | 'file' | 'none'

export interface SchedulerOptions {
  /** Where jobs live. The plugin builds a `MikroOrmJobStore` from `orm` when this is absent. */
  store: JobStore
  /** The host's ORM: gives each execution `ctx.em` (a fork). */
  orm?: MikroORM
  /**
   * Who runs the loop. `advisory`: PostgreSQL session advisory lock, or on MySQL and MariaDB a
   * `GET_LOCK` user-level lock with the same heartbeat row and fence (`locks/get-lock.ts`); `file`:
   * a lock file (`lockFile`); `none`: every process loops (still exactly-once). `auto` (default):
   * `advisory` on PostgreSQL, MySQL and MariaDB, `file` on PGlite with a data directory or SQLite
   * with a database file (the plugin's `<path>.scheduler.lock`), else `none`. `advisory` on SQLite
   * throws InvalidOptionsError.
   */
  lock?: LockOption
  /** Lock file path for `lock: 'file'`. */
  lockFile?: string
  /** Advisory lock key (64-bit integer; on MySQL the `GET_LOCK` name is derived from it and the database name); default 7215830002. Change it to run two schedulers on one database. */
  leaderLockKey?: number
  /** This process's id in `owner` columns and logs. Default `host:pid:random`. */
  nodeId?: string
  /** pino-compatible logger; the plugin passes a child of `fastify.log`. Default: silent. */
  log?: SchedulerLogger
  /** Most handlers running at once in this process. Default 10. */
  maxConcurrency?: number
  /**
   * Whether this process runs handlers (the execute step): it starts queued executions of the tasks
   * it has registered, and, when it leads, runs what it plans within its free slots. `false`: a
   * process that plans or stands by but never runs a handler (a web process next to workers).
   * Default true.
   */
  execute?: boolean
  /**
   * Whether this process may lead (the plan step): take the leader lock and turn due occurrences
   * into executions. `false`: a worker that only runs what others plan. Default true.
   */
  plan?: boolean
  /** Most jobs claimed in one claim transaction. Default 100. */
  batchSize?: number
  /** Milliseconds between checks for due jobs when no notification arrives. Default 5000 (never more than 30000). */
  pollIntervalMs?: number
  /** Milliseconds between a standby's tries to take the leader lock. Default 1000. */
  leaderRetryMs?: number
  /** Milliseconds between the advisory leader's heartbeats (`scheduler_leader.heartbeat_at`). Default 1000. */
  leaderHeartbeatMs?: number
  /**
   * Milliseconds without a leader heartbeat after which a standby fences the leader (terminates its
   * lock connection) and takes over: a frozen leader is replaced after this long. Must exceed
   * `leaderHeartbeatMs`; a handler that blocks the event loop longer than this costs the leadership. Default 10000.
   */
  leaderStaleMs?: number
  /** Milliseconds of lease per running execution, renewed every third of it; past it the execution is abandoned. Default 30000. */
  leaseMs?: number
  /**
   * Milliseconds between this process's heartbeats in the node registry (`scheduler_node`); a node
   * unseen for three of them is no longer listed as live by `getStatus()`. Default 5000.
   */
  nodeHeartbeatMs?: number
  /**
   * Milliseconds a statement of the scheduler's own loop may take: claims run with
   * `SET LOCAL statement_timeout` and `SET LOCAL idle_in_transaction_session_timeout` of this
   * value, the dedicated session (lock, LISTEN) has both set, and a connection that has not
   * answered this long plus one second is closed by the client (a half-open connection).
   * Default 5000, or half of `leaderStaleMs` when that is less; must be less than `leaderStaleMs`.
   */
  statementTimeoutMs?: number
  /** Milliseconds to wait for the dedicated session's connection to be established. Default 10000. */
  connectTimeoutMs?: number
  /** Milliseconds of idleness before TCP keepalive probes start on the dedicated session. Default 10000. */
  keepAliveInitialDelayMs?: number
  /**
   * Connection string of the dedicated session (leader lock, LISTEN), when it must not follow the
   * pool's settings: say the pool goes through a transaction-mode PgBouncer, which cannot carry a
   * session advisory lock. Default: the pool's own connection settings.
   */
  sessionUrl?: string
  /** Milliseconds `shutdown()` waits for running executions before aborting them, and then for unwritten outcomes. Default 10000. Under the plugin the whole shutdown is also fitted into Fastify's `pluginTimeout` less 1000 ms (see `Scheduler.shutdown`). */
  shutdownTimeoutMs?: number
  /**
   * Most execution outcomes kept in memory waiting to be written (through a database outage, they
   * wait and are retried, their leases renewed). Beyond it an outcome is reported lost
   * (`scheduler:outcomes_lost`) and its row becomes `abandoned` when its lease expires. Default 10000.
   */
  maxPendingOutcomes?: number
  /** Most overdue occurrences of one job enumerated in one claim (the rest come in the next claim). Default 1000. */
  maxCatchUp?: number
  /** Defaults for job options not given on a job. */
  jobDefaults?: JobOptions
  /** Time source for tests; production reads the database clock. */
  clock?: () => Date
  /** Random source in [0, 1) for jitter; default `Math.random`. */
  random?: () => number
  /**
   * Prometheus metrics on a `prom-client` `Registry` (README "Metrics"): `{ registry, perJobLabels? }`.
   * Off when absent; needs the `prom-client` package.
   */
  metrics?: MetricsOptions
}

export interface ResolvedSchedulerOptions {
  store: JobStore
  orm: MikroORM | null
  lock: LockOption
  lockFile: string | null
  leaderLockKey: number
  nodeId: string
  log: SchedulerLogger
  maxConcurrency: number
  execute: boolean
  plan: boolean
  batchSize: number
  pollIntervalMs: number
  leaderRetryMs: number
  leaderHeartbeatMs: number
  leaderStaleMs: number
  leaseMs: number
  nodeHeartbeatMs: number
  statementTimeoutMs: number
  connectTimeoutMs: number
  keepAliveInitialDelayMs: number
  sessionUrl: string | null
  shutdownTimeoutMs: number
  maxPendingOutcomes: number
  maxCatchUp: number
  jobDefaults: Required<JobOptions>
  clock: (() => Date) | null
  random: () => number
  metrics: ResolvedMetricsOptions | null
}

/** The loop re-checks the clock at least this often (croner's rule: timers drift, laptops sleep). */
export const MAX_SLEEP_MS = 30_000

const KNOWN_OPTIONS = new Set([
  'store', 'orm', 'lock', 'lockFile', 'leaderLockKey', 'nodeId', 'log', 'maxConcurrency', 'execute', 'plan', 'batchSize', 'pollIntervalMs',
  'leaderRetryMs', 'leaderHeartbeatMs', 'leaderStaleMs', 'leaseMs', 'nodeHeartbeatMs', 'shutdownTimeoutMs', 'maxPendingOutcomes', 'maxCatchUp', 'jobDefaults', 'clock', 'random', 'metrics',
  'statementTimeoutMs', 'connectTimeoutMs', 'keepAliveInitialDelayMs', 'sessionUrl'
])

export function resolveOptions (options: SchedulerOptions): ResolvedSchedulerOptions {
  if (options === null || typeof options !== 'object') throw new InvalidOptionsError('options', 'must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new InvalidOptionsError(key, `is not a scheduler option; known options: ${[...KNOWN_OPTIONS].join(', ')}`)
  }
  if (options.store === undefined || typeof options.store.claimDueJobs !== 'function') {
    throw new InvalidOptionsError('store', 'must be a JobStore (MikroOrmJobStore or MemoryJobStore)')
  }
  const lock = options.lock ?? 'auto'
  if (!['auto', 'advisory', 'file', 'none'].includes(lock)) {
    throw new InvalidOptionsError('lock', `must be 'auto', 'advisory', 'file' or 'none', got ${JSON.stringify(lock)}`)
  }
  if (options.lockFile !== undefined && (typeof options.lockFile !== 'string' || options.lockFile === '')) {
    throw new InvalidOptionsError('lockFile', 'must be a non-empty path')
  }
  if (lock === 'file' && options.lockFile === undefined) {
    throw new InvalidOptionsError('lockFile', "is required with lock: 'file'")
  }
  if (options.leaderLockKey !== undefined && !Number.isSafeInteger(options.leaderLockKey)) {
    throw new InvalidOptionsError('leaderLockKey', 'must be an integer')
  }
  if (options.nodeId !== undefined && (typeof options.nodeId !== 'string' || options.nodeId === '')) {
    throw new InvalidOptionsError('nodeId', 'must be a non-empty string')
  }
  for (const role of ['execute', 'plan'] as const) {
    if (options[role] !== undefined && typeof options[role] !== 'boolean') {
      throw new InvalidOptionsError(role, `must be true or false, got ${JSON.stringify(options[role])}`)
    }
  }
  for (const fn of ['clock', 'random'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') throw new InvalidOptionsError(fn, 'must be a function')
  }
  const leaderHeartbeatMs = positiveInteger(options, 'leaderHeartbeatMs', 1000)
  const leaderStaleMs = positiveInteger(options, 'leaderStaleMs', 10_000)
  if (leaderStaleMs <= leaderHeartbeatMs * 2) {
    throw new InvalidOptionsError('leaderStaleMs', `must be more than twice leaderHeartbeatMs (${leaderHeartbeatMs}), got ${leaderStaleMs}; otherwise a live leader can be fenced between two heartbeats`)
  }
  const statementTimeoutMs = positiveInteger(options, 'statementTimeoutMs', Math.min(5000, Math.floor(leaderStaleMs / 2)))
  if (statementTimeoutMs >= leaderStaleMs) {
    throw new InvalidOptionsError('statementTimeoutMs', `must be less than leaderStaleMs (${leaderStaleMs}), got ${statementTimeoutMs}; a claim hung that long would hold the leader row past a takeover`)
  }
  if (options.sessionUrl !== undefined && (typeof options.sessionUrl !== 'string' || options.sessionUrl === '')) {
    throw new InvalidOptionsError('sessionUrl', 'must be a non-empty connection string')
  }
  return {
    store: options.store,
    orm: options.orm ?? null,
    lock,
    lockFile: options.lockFile ?? null,
    leaderLockKey: options.leaderLockKey ?? DEFAULT_LEADER_LOCK_KEY,
    nodeId: options.nodeId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    log: options.log ?? silentLogger,
    maxConcurrency: positiveInteger(options, 'maxConcurrency', 10),
    execute: options.execute ?? true,
    plan: options.plan ?? true,
    batchSize: positiveInteger(options, 'batchSize', 100),
    pollIntervalMs: Math.min(positiveInteger(options, 'pollIntervalMs', 5000), MAX_SLEEP_MS),
    leaderRetryMs: positiveInteger(options, 'leaderRetryMs', 1000),
    leaderHeartbeatMs,
    leaderStaleMs,
    leaseMs: positiveInteger(options, 'leaseMs', 30_000),
    nodeHeartbeatMs: positiveInteger(options, 'nodeHeartbeatMs', 5000),
    statementTimeoutMs,
    connectTimeoutMs: positiveInteger(options, 'connectTimeoutMs', 10_000),
    keepAliveInitialDelayMs: positiveInteger(options, 'keepAliveInitialDelayMs', 10_000),
    sessionUrl: options.sessionUrl ?? null,
    shutdownTimeoutMs: nonNegativeInteger(options, 'shutdownTimeoutMs', 10_000),
    maxPendingOutcomes: positiveInteger(options, 'maxPendingOutcomes', 10_000),
    maxCatchUp: positiveInteger(options, 'maxCatchUp', 1000),
    jobDefaults: resolveJobDefaults(options.jobDefaults),
    clock: options.clock ?? null,
    random: options.random ?? Math.random,
    metrics: resolveMetricsOptions(options.metrics)
  }
}

function resolveJobDefaults (defaults: JobOptions | undefined): Required<JobOptions> {
  if (defaults !== undefined && (defaults === null || typeof defaults !== 'object')) {
    throw new InvalidOptionsError('jobDefaults', 'must be an object')
  }
  const given = defaults ?? {}
  const check = (key: keyof JobOptions, ok: boolean, rule: string): void => {
    if (key in given && !ok) throw new InvalidOptionsError(`jobDefaults.${key}`, rule)
  }
  check('misfireGraceTime', given.misfireGraceTime === null || isPositiveInteger(given.misfireGraceTime), 'must be null or a positive whole number of seconds')
  check('coalesce', typeof given.coalesce === 'boolean', 'must be a boolean')
  check('maxInstances', isPositiveInteger(given.maxInstances), 'must be a positive integer')
  check('timeoutMs', given.timeoutMs === null || isPositiveInteger(given.timeoutMs), 'must be null or a positive number of milliseconds')
  check('captureLogs', typeof given.captureLogs === 'boolean', 'must be a boolean')
  check('recover', typeof given.recover === 'boolean', 'must be a boolean')
  const retry = parseRetryPolicy(given.retry, (field, rule) => { throw new InvalidOptionsError(`jobDefaults.${field}`, rule) })
  if (given.recover === true && retry === null) {
    throw new InvalidOptionsError('jobDefaults.recover', 'needs attempts to recover with: a recovered run is another attempt, counted against retry.attempts; set jobDefaults.retry: { attempts: 2 } or more')
  }
  return {
    misfireGraceTime: given.misfireGraceTime ?? null,
    coalesce: given.coalesce ?? true,
    maxInstances: given.maxInstances ?? 1,
    timeoutMs: given.timeoutMs ?? null,
    captureLogs: given.captureLogs ?? true,
    retry,
    recover: given.recover ?? false
  }
}

function positiveInteger (options: SchedulerOptions, key: keyof SchedulerOptions, fallback: number): number {
  const value = options[key]
  if (value === undefined) return fallback
  if (!isPositiveInteger(value)) throw new InvalidOptionsError(key, `must be a positive integer, got ${JSON.stringify(value)}`)
  return value
}

function nonNegativeInteger (options: SchedulerOptions, key: keyof SchedulerOptions, fallback: number): number {
  const value = options[key]
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new InvalidOptionsError(key, `must be a non-negative integer, got ${JSON.stringify(value)}`)
  return value as number
}

export function isPositiveInteger (value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0
}

const noop = (): void => {}

/** The logger used when none is given: drops everything. */
export const silentLogger: SchedulerLogger = {
  trace: noop, debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger
}
