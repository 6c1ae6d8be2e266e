/**
 * The node registry's records (`scheduler_node`): what a process says of itself at each heartbeat,
 * when stale rows are pruned, and a live node as read back. Part of the job store port
 * (`job-store.ts` re-exports them).
 */

/** What a scheduler process says of itself in the node registry (`scheduler_node`) at each heartbeat. */
export interface NodeRegistration {
  /** The process's node id: the `owner` of the executions it runs. */
  nodeId: string
  host: string
  pid: number
  /** Names of the tasks it has registered. */
  tasks: string[]
  /** What it may do: `plan` (take the leader lock and claim), `execute` (run handlers). */
  roles: Array<'plan' | 'execute'>
  /** The leader lock it uses (`advisory`, `file`, `none`). */
  lock: string
  /** Milliseconds between its heartbeats (`nodeHeartbeatMs`). */
  heartbeatMs: number
}

/** When `recordNode` prunes another node's row: unseen for more than `retentionMs` and more than `staleHeartbeats` of its heartbeats. */
export interface NodeRetention {
  retentionMs: number
  staleHeartbeats: number
}

/** A live node as `getNodes` reports it: its registration, times on the store's clock, and what it runs now. */
export interface NodeRecord extends NodeRegistration {
  /** When the node first registered (its scheduler started). */
  startedAt: Date
  /** Its last heartbeat. */
  lastSeenAt: Date
  /** Milliseconds since its last heartbeat, by the store's clock. */
  lastSeenAgoMs: number
  /** Its `running` executions (leases not checked). */
  running: number
}
