/**
 * The tasks the cluster can run: those registered on a live process with `execute: true`, read from
 * the node registry (`scheduler_node`, each process's heartbeat lists its tasks and roles). The
 * leader flags a job as unloadable only when no such process has its task (DESIGN.md "Roles"): a
 * task registered on workers only is planned and queued for them, not flagged by a leader that lacks it.
 *
 * Read at most once per `nodeHeartbeatMs` by the leader before it claims, so a worker that just
 * started may be missed for one heartbeat. Two rules keep that from stopping a job:
 * - until the registry has been read for {@link SETTLE_HEARTBEATS} heartbeat intervals (every live
 *   node has beaten since), a task is not known to be missing (`mayBeMissing` is false): a leader
 *   that just took over queues such runs for workers instead of flagging their jobs;
 * - a refresh answers the tasks that appeared since the last one: the leader then clears the
 *   missing-task flags of their jobs (a worker that started after its job was flagged).
 */
import type { JobStore } from '../stores/job-store.js'
import { NODE_STALE_HEARTBEATS } from './node-heartbeat.js'

/** Heartbeat intervals after the first read before a task absent from the registry is taken as missing. */
export const SETTLE_HEARTBEATS = 2

export class ClusterTasks {
  readonly #store: JobStore
  readonly #clock: (() => Date) | null
  readonly #timeoutMs: number
  readonly #heartbeatMs: number
  #tasks = new Set<string>()
  /** `performance.now()` of the last read; -Infinity before the first. */
  #readAt = -Infinity
  /** `performance.now()` of the first read; Infinity before it. */
  #firstReadAt = Infinity

  /** `nodeHeartbeatMs`: how often it is read again, and how long it takes to settle. */
  constructor (deps: { store: JobStore, clock: (() => Date) | null, statementTimeoutMs: number, nodeHeartbeatMs: number }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#timeoutMs = deps.statementTimeoutMs
    this.#heartbeatMs = deps.nodeHeartbeatMs
  }

  /** Whether `task` may be taken as missing from the cluster: absent, and the registry read long enough to be sure. */
  mayBeMissing (task: string): boolean {
    return !this.#tasks.has(task) && performance.now() - this.#firstReadAt >= SETTLE_HEARTBEATS * this.#heartbeatMs
  }

  /**
   * Reads the live nodes again when the last read is older than `nodeHeartbeatMs`; resolves the tasks
   * that appeared since the previous read (all of them at the first). A database fault is thrown
   * (the loop retries).
   */
  async refresh (): Promise<string[]> {
    const now = performance.now()
    if (now - this.#readAt < this.#heartbeatMs) return []
    const nodes = await this.#store.getNodes(NODE_STALE_HEARTBEATS, this.#clock?.() ?? null, { timeoutMs: this.#timeoutMs })
    const tasks = new Set(nodes.filter((node) => node.roles.includes('execute')).flatMap((node) => node.tasks))
    const appeared = [...tasks].filter((task) => !this.#tasks.has(task) || this.#readAt === -Infinity)
    this.#tasks = tasks
    this.#readAt = performance.now()
    if (this.#firstReadAt === Infinity) this.#firstReadAt = now
    return appeared
  }
}
