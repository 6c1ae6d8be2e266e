/**
 * The tasks the cluster can run: those registered on a live process with `execute: true`, read from
 * the node registry (`scheduler_node`, each process's heartbeat lists its tasks and roles). The
 * leader flags a job as unloadable only when no such process has its task (DESIGN.md "Roles"): a
 * task registered on workers only is planned and queued for them, not flagged by a leader that lacks it.
 *
 * Read at most once per `nodeHeartbeatMs` by the leader before it claims, so a worker that just
 * started may be missed for one heartbeat; the worker clears the flags of its tasks' jobs at start
 * (`unflagFixedJobs`), so such a job is not stuck.
 */
import type { JobStore } from '../stores/job-store.js'
import { NODE_STALE_HEARTBEATS } from './node-heartbeat.js'

export class ClusterTasks {
  readonly #store: JobStore
  readonly #clock: (() => Date) | null
  readonly #timeoutMs: number
  #tasks = new Set<string>()
  /** `performance.now()` of the last read; -Infinity before the first. */
  #readAt = -Infinity

  constructor (deps: { store: JobStore, clock: (() => Date) | null, statementTimeoutMs: number }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#timeoutMs = deps.statementTimeoutMs
  }

  /** Whether a live process with `execute: true` has `task` registered, as of the last read. */
  has (task: string): boolean {
    return this.#tasks.has(task)
  }

  /** Reads the live nodes again when the last read is older than `maxAgeMs`. A database fault is thrown (the loop retries). */
  async refreshIfOlderThan (maxAgeMs: number): Promise<void> {
    if (performance.now() - this.#readAt < maxAgeMs) return
    const nodes = await this.#store.getNodes(NODE_STALE_HEARTBEATS, this.#clock?.() ?? null, { timeoutMs: this.#timeoutMs })
    this.#tasks = new Set(nodes.filter((node) => node.roles.includes('execute')).flatMap((node) => node.tasks))
    this.#readAt = performance.now()
  }
}
