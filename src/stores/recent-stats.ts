/**
 * Folds each job's newest executions (newest first) into `RecentExecutionStats`; shared by the stores.
 */
import type { ExecutionRecord, RecentExecutionStats } from './job-store.js'

export function recentStats (jobIds: string[], newestFirst: ExecutionRecord[]): Map<string, RecentExecutionStats> {
  const byJob = new Map<string, ExecutionRecord[]>(jobIds.map((jobId) => [jobId, []]))
  for (const execution of newestFirst) byJob.get(execution.jobId)?.push(execution)
  return new Map([...byJob].map(([jobId, executions]) => {
    const durations = executions.map((execution) => execution.durationMs).filter((duration): duration is number => duration !== null)
    return [jobId, {
      lastExecution: executions[0] ?? null,
      averageDurationMs: durations.length === 0 ? null : durations.reduce((sum, duration) => sum + duration, 0) / durations.length
    }]
  }))
}
