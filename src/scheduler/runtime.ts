/**
 * What runs between `Scheduler.start()` and `shutdown()`: the dedicated session (advisory lock and
 * LISTEN, PostgreSQL only), the leader lock and the scheduling loop (the plan step, with
 * `plan: true`), the execute loop (with `execute: true`), the lease keeper and the node heartbeat,
 * wired together, started in order and stopped in reverse. The `Scheduler` keeps the API, the tasks, the
 * job writes and the executor; this keeps the moving parts.
 */
import { InvalidJobError, InvalidOptionsError } from '../errors.js'
import { ADVISORY_ON_SQLITE, AdvisoryLock } from '../locks/advisory-lock.js'
import { FileLock } from '../locks/file-lock.js'
import { GetLock } from '../locks/get-lock.js'
import type { LeaderInfo, LeaderLock } from '../locks/leader-lock.js'
import { NoLock } from '../locks/no-lock.js'
import type { SchedulerTracing } from '../observability/tracing.js'
import type { ResolvedSchedulerOptions } from '../options.js'
import type { ClaimPlanner } from '../stores/job-store.js'
import { MikroOrmJobStore } from '../stores/mikro-orm-job-store.js'
import { DedicatedSession } from './dedicated-session.js'
import type { SchedulerEventBus } from './events.js'
import type { ExecutionRunner } from './execution-runner.js'
import type { Executor } from './executor.js'
import { LeaseKeeper } from './lease-keeper.js'
import { NodeHeartbeat, type NodeRegistryWriter } from './node-heartbeat.js'
import { OrphanAdoption } from './orphan-adoption.js'
import { SchedulingLoop } from './scheduling-loop.js'
import type { ClusterTasks } from './cluster-tasks.js'
import { ExecuteLoop } from './execute-loop.js'
import { QUEUED_PAYLOAD } from '../stores/wakeup.js'
import { UnscheduledJobs } from './unscheduled-jobs.js'

export interface SchedulerRuntimeDeps {
  options: ResolvedSchedulerOptions
  events: SchedulerEventBus
  executor: Executor
  runner: ExecutionRunner
  tracing: SchedulerTracing
  plan: ClaimPlanner
  /** The registered task names now, for the node registry and the execute step. */
  tasks: () => string[]
  /** The tasks live executing processes have registered (read by the leader before it claims). */
  clusterTasks: ClusterTasks
  /** Clears the missing-task flags of the jobs of these tasks (see SchedulingLoopDeps.unflagTasks). */
  unflagTasks?: (tasks: string[]) => Promise<void>
}

/** Milliseconds: at shutdown, a run claimed ahead due later than this is handed to other processes. */
export const HAND_OVER_AFTER_MS = 500

export class SchedulerRuntime {
  readonly #deps: SchedulerRuntimeDeps
  #session: DedicatedSession | null = null
  #leases: LeaseKeeper | null = null
  #lock: LeaderLock | null = null
  #loop: SchedulingLoop | null = null
  #executeLoop: ExecuteLoop | null = null
  #heartbeat: NodeHeartbeat | null = null

  constructor (deps: SchedulerRuntimeDeps) {
    this.#deps = deps
  }

  /** Opens the session, reaps expired executions, starts the lease keeper and the loop. On failure, closes what it opened and rethrows. */
  async start (): Promise<void> {
    const { options, events, executor, runner, tracing, plan } = this.#deps
    const { store, log } = options
    try {
      this.#session = store instanceof MikroOrmJobStore
        // Queued runs wake the execute loop; a job change both (a resumed job's retry, a raised maxInstances, a removed job's runs).
        ? new DedicatedSession(store.sql, (payload) => { if (payload === QUEUED_PAYLOAD) this.#executeLoop?.wake(); else this.wake() }, {
          statementTimeoutMs: options.statementTimeoutMs,
          connectTimeoutMs: options.connectTimeoutMs,
          keepAliveInitialDelayMs: options.keepAliveInitialDelayMs,
          ...(options.sessionUrl === null ? {} : { url: options.sessionUrl })
        })
        : null
      this.#leases = new LeaseKeeper({
        store,
        held: () => runner.heldIds(),
        onLeaseLost: (ids, cause) => runner.leaseLost(ids, cause),
        events,
        log,
        nodeId: options.nodeId,
        leaseMs: options.leaseMs,
        statementTimeoutMs: options.statementTimeoutMs,
        clock: options.clock,
        // Reaped rows free instance slots: queued runs waiting for them may start, here and elsewhere.
        onReaped: () => {
          this.wakeExecute()
          store.notifyQueued?.().catch((error: Error) => log.warn({ err: error }, 'could not NOTIFY workers of freed instance slots; they will see them at their next poll'))
        }
      })
      await this.#leases.reap()
      this.#leases.start()
      // Created with `plan: false` too, to describe the leader in getStatus(); only the scheduling loop takes it.
      this.#lock = this.#createLock()
      this.#heartbeat = new NodeHeartbeat({
        store,
        ...(this.#session === null || !(store instanceof MikroOrmJobStore) ? {} : { writer: sessionRegistryWriter(store, this.#session) }),
        events,
        log,
        nodeId: options.nodeId,
        tasks: this.#deps.tasks,
        roles: [...(options.plan ? ['plan' as const] : []), ...(options.execute ? ['execute' as const] : [])],
        lock: this.#lock.kind,
        heartbeatMs: options.nodeHeartbeatMs,
        statementTimeoutMs: options.statementTimeoutMs,
        clock: options.clock
      })
      // Not awaited: a slow database must not hold up the start for a row only people read.
      void this.#heartbeat.start()
      const adoption = new OrphanAdoption({ store, runner, log, nodeId: options.nodeId, leaseMs: options.leaseMs, statementTimeoutMs: options.statementTimeoutMs, clock: options.clock })
      const ownTasks = (): string[] => options.execute ? this.#deps.tasks() : []
      if (options.execute) {
        this.#executeLoop = new ExecuteLoop({ options, session: this.#session, executor, runner, events, tracing, tasks: ownTasks, adoption })
        this.#executeLoop.start()
      }
      if (options.plan) {
        this.#loop = new SchedulingLoop({
          options,
          lock: this.#lock,
          session: this.#session,
          executor,
          runner,
          events,
          tracing,
          unscheduled: new UnscheduledJobs(options),
          adoption,
          plan,
          clusterTasks: this.#deps.clusterTasks,
          tasks: ownTasks,
          onQueued: () => this.#executeLoop?.wake(),
          databaseClock: runner.databaseClock,
          ...(this.#deps.unflagTasks === undefined ? {} : { unflagTasks: this.#deps.unflagTasks })
        })
        this.#loop.start()
      }
    } catch (error) {
      await this.close()
      throw error
    }
  }

  /**
   * `Scheduler.shutdown`, within `budgetMs` (Infinity: each wait bounded by `shutdownTimeoutMs`
   * only): stops claiming and releases the lock, waits for running executions (cut short to leave a
   * quarter of the budget, at most 2000 ms), aborts and records the rest as `abandoned`, writes the
   * outcomes (leases renewed meanwhile; a second kept for closing the session), then closes.
   */
  async stop (budgetMs: number): Promise<void> {
    const { options: { shutdownTimeoutMs }, executor, runner } = this.#deps
    const startedAt = performance.now()
    const leftMs = (): number => Math.max(0, budgetMs - (performance.now() - startedAt))
    await Promise.all([this.#loop?.stop(), this.#executeLoop?.stop()])
    runner.stopStarting()
    await this.#handOverWaiting()
    const drainMs = Math.max(0, Math.floor(Math.min(shutdownTimeoutMs, leftMs() - Math.min(2000, budgetMs / 4))))
    const within = drainMs < shutdownTimeoutMs
      ? `${drainMs} ms; cut from shutdownTimeoutMs (${shutdownTimeoutMs} ms) to fit the shutdown's time limit`
      : `shutdownTimeoutMs (${shutdownTimeoutMs} ms)`
    await executor.drain(drainMs, { status: 'abandoned', exception: `cut off: the scheduler shut down and the execution did not finish within ${within}` })
    await runner.close(Math.floor(Math.min(shutdownTimeoutMs, Math.max(0, leftMs() - 1000))))
    await this.close()
  }

  /**
   * At shutdown: runs claimed ahead whose fire time is more than {@link HAND_OVER_AFTER_MS} away are
   * put back to `queued` for any worker (`requeueExecutions`), rather than kept waiting through the
   * drain or cut off by it; sooner ones start here, as running handlers finish, within the drain.
   */
  async #handOverWaiting (): Promise<void> {
    const { options: { store, nodeId, log, statementTimeoutMs }, executor, runner } = this.#deps
    if (store.requeueExecutions === undefined) return
    const ids = executor.takeWaiting(HAND_OVER_AFTER_MS)
    if (ids.length === 0) return
    runner.forget(ids)
    try {
      const requeued = await store.requeueExecutions(nodeId, ids, { timeoutMs: statementTimeoutMs })
      log.info({ executionIds: requeued }, 'runs claimed ahead, still waiting for their fire time at shutdown, were queued for another process')
    } catch (error) {
      log.warn({ err: error, executionIds: ids }, 'could not queue the runs still waiting for their fire time at shutdown; they are abandoned when their leases expire')
    }
  }

  /**
   * Stops renewing leases, leaves the node registry (on the dedicated session, waiting at most half
   * a second for it) and closes the dedicated session (after the outcomes are written, or a failed start).
   */
  async close (): Promise<void> {
    this.#leases?.stop()
    await this.#heartbeat?.stop(Math.min(500, this.#deps.options.statementTimeoutMs))
    this.#heartbeat = null
    await this.#session?.close()
    this.#loop = null
    this.#executeLoop = null
  }

  /** Re-checks for due jobs and for startable queued runs now. */
  wake (): void {
    this.#loop?.wake()
    this.#executeLoop?.wake()
  }

  /** Re-checks for startable queued runs now (runs were queued, or slots freed in the database). */
  wakeExecute (): void {
    this.#executeLoop?.wake()
  }

  /** An executor slot freed, or outcomes were written: the execute loop looks again if a run waits for a slot. */
  slotFreed (): void {
    this.#executeLoop?.slotFreed()
  }

  get isLeader (): boolean {
    return this.#loop?.isLeader ?? false
  }

  /** The lock in use (`auto` resolved), null before start. */
  get lockKind (): string | null {
    return this.#lock?.kind ?? null
  }

  /** Earliest next run time at the loop's last check (leader only). */
  get nextRunTime (): Date | null {
    return this.#loop?.nextRunTime ?? null
  }

  async describeLeader (): Promise<LeaderInfo | null> {
    return this.#lock?.describeLeader() ?? null
  }

  #createLock (): LeaderLock {
    const { options } = this.#deps
    const { lock, lockFile, leaderLockKey, nodeId, store } = options
    // The dedicated session's database: PostgreSQL's advisory lock, or GET_LOCK on MySQL/MariaDB.
    const dialect = this.#session !== null && store instanceof MikroOrmJobStore ? store.sql.dialect : null
    const kind = lock !== 'auto'
      ? lock
      : dialect === 'postgresql' || dialect === 'mysql'
        ? 'advisory'
        : lockFile !== null ? 'file' : 'none'
    if (kind === 'advisory') {
      if (dialect === 'sqlite' || (store instanceof MikroOrmJobStore && store.sql.dialect === 'sqlite')) throw new InvalidOptionsError('lock', ADVISORY_ON_SQLITE)
      if (this.#session === null) throw new InvalidJobError('lock', "'advisory' needs a PostgreSQL, MySQL or MariaDB job store")
      const lockOptions = {
        key: leaderLockKey,
        nodeId,
        heartbeatMs: options.leaderHeartbeatMs,
        staleMs: options.leaderStaleMs,
        loopStalledMs: () => this.#loop?.stalledMs ?? 0,
        onFenced: (leader: { nodeId: string, backendPid: number, heartbeatAgeMs: number }) => options.log.warn(leader, 'the leader stopped renewing its heartbeat; its lock connection was terminated so this node can take over')
      }
      return dialect === 'mysql' ? new GetLock(this.#session, lockOptions) : new AdvisoryLock(this.#session, lockOptions)
    }
    if (kind === 'file') return new FileLock(lockFile as string, nodeId)
    return new NoLock()
  }
}

/**
 * Node registry writes on the dedicated session (opened as the loop opens it, within
 * `connectTimeoutMs`), never through the host's pool (see node-heartbeat.ts). The session's own
 * `statement_timeout` bounds each statement, and closing it fails what is still pending. The
 * removal at shutdown uses the session only if it is still open.
 */
function sessionRegistryWriter (store: MikroOrmJobStore, session: DedicatedSession): NodeRegistryWriter {
  return {
    async record (node, retention, now) {
      await store.nodeRegistryOn(await session.get()).record(node, retention, now)
      return true
    },
    async remove (nodeId) {
      const open = session.current
      return open === null ? false : store.nodeRegistryOn(open).remove(nodeId)
    }
  }
}
