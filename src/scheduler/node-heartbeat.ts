/**
 * The node registry's heartbeat: every scheduler process, leader or not, upserts its row in
 * `scheduler_node` (node id, host, pid, registered tasks, roles, lock) at start and then every
 * `nodeHeartbeatMs`, and deletes it when it shuts down, so the cluster's status lists every live
 * process. A node unseen for {@link NODE_STALE_HEARTBEATS} heartbeats is not listed (it died or
 * lost the database); rows unseen for {@link NODE_RETENTION_MS} are pruned by the other nodes'
 * heartbeats. Faults are logged and emitted as `scheduler:error`, never thrown: the registry is
 * for people, and nothing in the scheduling protocol depends on it.
 */
import { hostname } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import type { JobStore, NodeRegistration } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'
import type { SchedulerEventBus } from './events.js'

/** A node is live while its last heartbeat is younger than this many heartbeat intervals. */
export const NODE_STALE_HEARTBEATS = 3

/** Milliseconds after which a dead node's row (unseen since) is deleted: one hour, kept for a post-mortem look at the table. */
export const NODE_RETENTION_MS = 60 * 60 * 1000

export interface NodeHeartbeatDeps {
  store: JobStore
  events: SchedulerEventBus
  log: SchedulerLogger
  nodeId: string
  /** The task names registered now (read at every heartbeat: tasks may be registered after start). */
  tasks: () => string[]
  lock: string
  heartbeatMs: number
  /** Milliseconds each statement may take (`statementTimeoutMs`). */
  statementTimeoutMs: number
  clock: (() => Date) | null
}

export class NodeHeartbeat {
  readonly #deps: NodeHeartbeatDeps
  #timer: NodeJS.Timeout | null = null
  /** The heartbeat being written, if any: stop() waits for it, so it cannot re-create the row after the removal. */
  #inFlight: Promise<boolean> | null = null

  constructor (deps: NodeHeartbeatDeps) {
    this.#deps = deps
  }

  /** Registers the node now (a failure is reported, not thrown), then every `heartbeatMs`. */
  async start (): Promise<void> {
    await this.beat()
    this.#timer = setInterval(() => { void this.beat() }, this.#deps.heartbeatMs)
    this.#timer.unref()
  }

  /** One heartbeat: upserts this node's row. Resolves whether it was written; a fault is logged and emitted. */
  async beat (): Promise<boolean> {
    if (this.#inFlight !== null) return false
    const { store, clock, statementTimeoutMs } = this.#deps
    this.#inFlight = store.recordNode(this.registration(), NODE_RETENTION_MS, clock?.() ?? null, { timeoutMs: statementTimeoutMs })
      .then(() => true, (error: unknown) => {
        this.#report(error as Error, 'node heartbeat')
        return false
      })
      .finally(() => { this.#inFlight = null })
    return this.#inFlight
  }

  /**
   * Stops the heartbeat and deletes this node's row, waiting at most `timeoutMs` (default
   * `statementTimeoutMs`) for the database; a fault is logged, and the row then ages out.
   */
  async stop (timeoutMs = this.#deps.statementTimeoutMs): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    // A beat still being written would re-create the row after the removal; wait for it, within the budget.
    const deadline = performance.now() + timeoutMs
    if (this.#inFlight !== null) await Promise.race([this.#inFlight, delay(timeoutMs, undefined, { ref: false })])
    timeoutMs = Math.max(1, Math.floor(deadline - performance.now()))
    try {
      await this.#deps.store.removeNode(this.#deps.nodeId, { timeoutMs })
    } catch (error) {
      this.#report(error as Error, 'node unregistration')
    }
  }

  /** What this node says of itself. Every process may lead and execute until roles become options (DESIGN.md "Roles"). */
  registration (): NodeRegistration {
    return {
      nodeId: this.#deps.nodeId,
      host: hostname(),
      pid: process.pid,
      tasks: [...this.#deps.tasks()].sort(),
      roles: ['plan', 'execute'],
      lock: this.#deps.lock
    }
  }

  #report (error: Error, during: string): void {
    this.#deps.log.error({ err: error }, `scheduler ${during} failed; retrying at the next heartbeat`)
    this.#deps.events.emit('scheduler:error', { error, during })
  }
}
