/**
 * The leader's planner in a cluster: `planClaim` (claim-planner.ts) given this process's tasks and
 * what the node registry says the other processes run (cluster-tasks.ts), and the clearing of
 * missing-task flags when a process with the task appears. Built by `Scheduler.start()` for the
 * runtime.
 */
import type { ResolvedSchedulerOptions } from '../options.js'
import type { ClaimPlanner, JobRecord } from '../stores/job-store.js'
import { hasMissingTaskFlag, planClaim } from './claim-planner.js'
import { ClusterTasks } from './cluster-tasks.js'
import { unflagFixedJobs } from './code-jobs.js'
import type { TaskRegistry } from './task-registry.js'
import type { TriggerCache } from './trigger-cache.js'

export interface ClusterPlanner {
  plan: ClaimPlanner
  clusterTasks: ClusterTasks
  /** Clears the missing-task flags of the jobs of `tasks` (a live process that runs jobs has them now). */
  unflagTasks: (tasks: string[]) => Promise<void>
}

/** `announce`: emits `job:modified` for a job whose flag was cleared, and wakes the loop. */
export function clusterPlanner (
  options: ResolvedSchedulerOptions, tasks: TaskRegistry, triggers: TriggerCache, announce: (job: JobRecord) => void
): ClusterPlanner {
  const { store, log } = options
  const clusterTasks = new ClusterTasks({ store, clock: options.clock, statementTimeoutMs: options.statementTimeoutMs, nodeHeartbeatMs: options.nodeHeartbeatMs })
  return {
    clusterTasks,
    plan: (job, now, instances, horizon) => planClaim({
      job,
      now,
      ...(horizon === undefined ? {} : { horizon }),
      instances,
      trigger: triggers.get(job),
      // Flagged only when no live process that runs jobs has the task (DESIGN.md "Roles").
      taskRegistered: (options.execute && tasks.has(job.task)) || !clusterTasks.mayBeMissing(job.task),
      maxCatchUp: options.maxCatchUp,
      random: options.random
    }),
    unflagTasks: async (appeared) => {
      const cleared = await unflagFixedJobs(store, (job) => appeared.includes(job.task) && hasMissingTaskFlag(job), log)
      for (const job of cleared) announce(job)
    }
  }
}
