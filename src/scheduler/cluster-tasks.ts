/**
 * The tasks the cluster can run: those registered on a live process with `execute: true`, read from
 * the node registry (`scheduler_node`, each process's heartbeat lists its tasks and roles). The
 * leader flags a job as unloadable only when no such process has its task (DESIGN.md "Roles"): a
 * task registered on workers only is planned and queued for them, not flagged by a leader that lacks it.
 *
 * Read at most once per `nodeHeartbeatMs` by the leader before it claims, so a worker that just
 * started may be missed for one heartbeat, and its job flagged by a claim in between (after the
 * worker cleared its tasks' flags at start: `unflagFixedJobs`). So each read returns the tasks it
 * lists for the first time, and the leader clears the flags of their jobs: such a job waits at
 * most one heartbeat, it is not stuck.
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

  /**
   * Reads the live nodes again when the last read is older than `maxAgeMs`; returns the tasks this
   * read lists and the one before did not (every task at the first read; none without a read). A
   * database fault is thrown (the loop retries).
   */
  async refreshIfOlderThan (maxAgeMs: number): Promise<string[]> {
    if (performance.now() - this.#readAt < maxAgeMs) return []
    const nodes = await this.#store.getNodes(NODE_STALE_HEARTBEATS, this.#clock?.() ?? null, { timeoutMs: this.#timeoutMs })
    const before = this.#tasks
    this.#tasks = new Set(nodes.filter((node) => node.roles.includes('execute')).flatMap((node) => node.tasks))
    this.#readAt = performance.now()
    return [...this.#tasks].filter((task) => !before.has(task))
  }
}
