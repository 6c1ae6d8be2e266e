/**
 * The node registry's heartbeat: every started scheduler, leader or not, upserts its row in
 * `scheduler_node` (node id, host, pid, registered tasks, roles, lock, its own heartbeat interval)
 * at start and then every `nodeHeartbeatMs`, and deletes it when it shuts down, so the cluster's
 * status lists every live process. A node unseen for {@link NODE_STALE_HEARTBEATS} of its own
 * heartbeats is not listed (it died or lost the database); its row is pruned by the other nodes'
 * heartbeats once it is also older than {@link NODE_RETENTION_MS}.
 *
 * Faults are logged and emitted as `scheduler:error`, never thrown: the registry is for people, and
 * nothing in the scheduling protocol depends on it. A heartbeat that finds the table gone (a host's
 * schema tool dropped it) asks the store to install it again, as the scheduling loop does.
 *
 * On PostgreSQL the rows are written on the scheduler's dedicated session (when it is open; a beat
 * is skipped otherwise), never through the host's pool: during a partition, a pool user that beats
 * every few seconds leaves connection attempts hanging in the pool (until the server's
 * `authentication_timeout`, a minute), and the host's `orm.close()` waits for them.
 */
import { hostname } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import type { JobStore, NodeRegistration, NodeRetention } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'
import type { SchedulerEventBus } from './events.js'
import { healMissingTable } from './missing-table.js'

/** A node is live while its last heartbeat is younger than this many of its heartbeat intervals. */
export const NODE_STALE_HEARTBEATS = 3

/** Milliseconds after which a dead node's row (unseen since) is deleted: one hour, kept for a post-mortem look at the table. */
export const NODE_RETENTION_MS = 60 * 60 * 1000

/** Where the node's row is written. `record` resolves false when it skipped the write (no connection open). */
export interface NodeRegistryWriter {
  record(node: NodeRegistration, retention: NodeRetention, now: Date | null, timeoutMs: number): Promise<boolean>
  remove(nodeId: string, timeoutMs: number): Promise<boolean>
}

/** The writer through the store (its pool): for stores without a dedicated session (PGlite, memory). */
export function storeRegistryWriter (store: JobStore): NodeRegistryWriter {
  return {
    record: async (node, retention, now, timeoutMs) => { await store.recordNode(node, retention, now, { timeoutMs }); return true },
    remove: async (nodeId, timeoutMs) => store.removeNode(nodeId, { timeoutMs })
  }
}

export interface NodeHeartbeatDeps {
  store: JobStore
  /** Where rows are written; default {@link storeRegistryWriter} of `store`. */
  writer?: NodeRegistryWriter
  events: SchedulerEventBus
  log: SchedulerLogger
  nodeId: string
  /** The registered task names now (read at every heartbeat: tasks may be registered after start). */
  tasks: () => string[]
  /** What this node may do (`plan`, `execute`). */
  roles: NodeRegistration['roles']
  lock: string
  heartbeatMs: number
  /** Milliseconds each heartbeat statement may take (`statementTimeoutMs`). */
  statementTimeoutMs: number
  clock: (() => Date) | null
}

export class NodeHeartbeat {
  readonly #deps: NodeHeartbeatDeps
  #timer: NodeJS.Timeout | null = null
  /** The heartbeat being written, if any: stop() waits for it, so it does not re-create the row after the removal. */
  #inFlight: Promise<boolean> | null = null
  #stopped = false
  readonly #writer: NodeRegistryWriter

  constructor (deps: NodeHeartbeatDeps) {
    this.#deps = deps
    this.#writer = deps.writer ?? storeRegistryWriter(deps.store)
  }

  /**
   * Starts beating every `heartbeatMs`, the first beat now. Resolves with that first beat (whether
   * it was written); a caller need not wait for it, and a failure is reported, not thrown.
   */
  start (): Promise<boolean> {
    this.#stopped = false
    this.#timer = setInterval(() => { void this.beat() }, this.#deps.heartbeatMs)
    this.#timer.unref()
    return this.beat()
  }

  /** One heartbeat: upserts this node's row. Resolves whether it was written; a fault is logged and emitted. */
  async beat (): Promise<boolean> {
    if (this.#inFlight !== null || this.#stopped) return false
    const { clock, statementTimeoutMs } = this.#deps
    const writer = this.#writer
    this.#inFlight = Promise.resolve()
      .then(async () => writer.record(this.registration(), { retentionMs: NODE_RETENTION_MS, staleHeartbeats: NODE_STALE_HEARTBEATS }, clock?.() ?? null, statementTimeoutMs))
      .then((written) => {
        // Written after stop() gave up waiting for it: take the row away again (best effort).
        if (written && this.#stopped) void writer.remove(this.#deps.nodeId, statementTimeoutMs).catch(() => {})
        return written
      }, async (error: unknown) => {
        this.#report(error as Error, 'node heartbeat')
        await healMissingTable(this.#deps.store, error, this.#deps.log, (failure) => this.#report(failure, 'reinstalling missing tables'))
        return false
      })
      .finally(() => { this.#inFlight = null })
    return this.#inFlight
  }

  /**
   * Stops the heartbeat and deletes this node's row, in at most `timeoutMs` (default
   * `statementTimeoutMs`) whatever the database does: a beat in flight is waited for within that
   * budget, and the removal is not awaited past it (it may still complete; otherwise the row ages
   * out). A fault is logged, never thrown.
   */
  async stop (timeoutMs = this.#deps.statementTimeoutMs): Promise<void> {
    this.#stopped = true
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    const deadline = performance.now() + timeoutMs
    const budget = (): Promise<void> => delay(Math.max(0, deadline - performance.now()), undefined, { ref: false })
    if (this.#inFlight !== null) await Promise.race([this.#inFlight, budget()])
    const removal = Promise.resolve()
      .then(async () => this.#writer.remove(this.#deps.nodeId, Math.max(1, Math.floor(deadline - performance.now()))))
      .then(() => {}, (error: unknown) => { this.#report(error as Error, 'node unregistration') })
    await Promise.race([removal, budget()])
  }

  /** What this node says of itself. */
  registration (): NodeRegistration {
    return {
      nodeId: this.#deps.nodeId,
      host: hostname(),
      pid: process.pid,
      tasks: [...this.#deps.tasks()].sort(),
      roles: this.#deps.roles,
      lock: this.#deps.lock,
      heartbeatMs: this.#deps.heartbeatMs
    }
  }

  #report (error: Error, during: string): void {
    this.#deps.log.error({ err: error }, `scheduler ${during} failed; retrying at the next heartbeat`)
    this.#deps.events.emit('scheduler:error', { error, during })
  }
}
