/** What `Scheduler.status()` and `getStatus()` report, and how `getStatus()` reads the cluster. */
import type { LeaderInfo } from '../locks/leader-lock.js'
import type { ResolvedSchedulerOptions } from '../options.js'
import type { ExecutionRecord, NodeRecord } from '../stores/job-store.js'
import { NODE_STALE_HEARTBEATS } from './node-heartbeat.js'

export type SchedulerState = 'stopped' | 'starting' | 'running' | 'stopping'

/** What `status()` reports about this process. */
export interface SchedulerStatus {
  nodeId: string
  state: SchedulerState
  isLeader: boolean
  /** The lock in use (`auto` resolved): `advisory`, `file` or `none`; the option's value before start. */
  lock: string
  /** Ids of the executions running in this process. */
  runningExecutions: number[]
  /** Earliest next run time at the loop's last check (leader only). */
  nextWakeup: Date | null
  tasks: string[]
}

/** `getStatus()`: this process and the cluster, read from the database. */
export interface ClusterStatus extends Omit<SchedulerStatus, 'runningExecutions' | 'nextWakeup'> {
  /** Who leads (advisory: from the heartbeat row; file: the lock file), null when unknown or `lock: 'none'`. */
  leader: LeaderInfo | null
  /**
   * Every started scheduler that is alive (node registry `scheduler_node`: seen within three of
   * its own `nodeHeartbeatMs`), ordered by node id, with its tasks, roles, lock and running count.
   */
  nodes: NodeRecord[]
  /** Executions running anywhere in the cluster. */
  runningExecutions: ExecutionRecord[]
  /** Ids of the executions running in this process. */
  localExecutions: number[]
  /** Earliest next run time of any claimable job. */
  nextWakeup: Date | null
}

/** `getStatus()`: this process's view plus the cluster as the store shows it, read at once. */
export async function readClusterStatus (
  local: SchedulerStatus, options: Pick<ResolvedSchedulerOptions, 'store' | 'clock'>, describeLeader: () => Promise<LeaderInfo | null>
): Promise<ClusterStatus> {
  const { store, clock } = options
  const [leader, running, wakeup, nodes] = await Promise.all([
    describeLeader(),
    store.getExecutions({ status: 'running' }),
    store.getNextWakeup(),
    store.getNodes(NODE_STALE_HEARTBEATS, clock?.() ?? null)
  ])
  return { ...local, leader, nodes, runningExecutions: running, localExecutions: local.runningExecutions, nextWakeup: wakeup.nextRunTime }
}
