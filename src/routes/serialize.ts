/**
 * Records to response JSON: dates as ISO-8601 strings, a job's trigger in words (`description`)
 * and its `state`, an execution's status label. Lists carry their paging: `{ items, total, limit, offset }`.
 */
import { STATUS_LABELS } from '../execution-status.js'
import type { ClusterStatus } from '../scheduler/scheduler.js'
import type { AuditRecord } from '../stores/audit.js'
import type { ExecutionRecord, JobRecord } from '../stores/job-store.js'
import { describeTrigger } from '../triggers/index.js'
import type { AuditEntryJson, ExecutionJson, JobJson, StatusJson } from './schemas.js'

export interface Page<T> {
  items: T[]
  total: number
  limit: number
  offset: number
}

export function jobJson (job: JobRecord): JobJson {
  return {
    id: job.id,
    name: job.name,
    task: job.task,
    args: job.args,
    trigger: job.trigger as JobJson['trigger'],
    description: describe(job),
    state: job.lastError !== null ? 'flagged' : job.paused ? 'paused' : job.nextRunTime === null ? 'finished' : 'scheduled',
    nextRunTime: iso(job.nextRunTime),
    nextFireTime: iso(job.nextFireTime),
    paused: job.paused,
    misfireGraceTime: job.misfireGraceTime,
    coalesce: job.coalesce,
    maxInstances: job.maxInstances,
    timeoutMs: job.timeoutMs,
    captureLogs: job.captureLogs,
    retry: job.retry,
    recover: job.recover,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    version: job.version,
    lastError: job.lastError
  }
}

/** An audit entry as REST JSON. */
export function auditJson (entry: AuditRecord): AuditEntryJson {
  return { id: entry.id, at: entry.at.toISOString(), action: entry.action, jobId: entry.jobId, actor: entry.actor, changes: entry.changes }
}

/** An execution; `traceback` is included only in the detail view (it may be 64 KiB). */
/** An execution as REST JSON; `withTraceback` (detail views) adds its traceback, result and logs. */
export function executionJson (execution: ExecutionRecord, withTraceback: boolean): ExecutionJson {
  const json: ExecutionJson = {
    id: execution.id,
    jobId: execution.jobId,
    runTime: execution.runTime.toISOString(),
    attempt: execution.attempt,
    nextAttemptAt: iso(execution.nextAttemptAt),
    startAfter: iso(execution.startAfter),
    status: execution.status,
    statusLabel: STATUS_LABELS[execution.status] ?? execution.status,
    startedAt: iso(execution.startedAt),
    finishedAt: iso(execution.finishedAt),
    durationMs: execution.durationMs,
    exception: execution.exception,
    owner: execution.owner,
    leaseUntil: iso(execution.leaseUntil),
    lateStatus: execution.lateStatus,
    lateFinishedAt: iso(execution.lateFinishedAt),
    lateException: execution.lateException,
    traceback: execution.traceback,
    result: execution.result ?? null,
    logs: execution.logs ?? null
  }
  if (!withTraceback) {
    delete (json as Partial<ExecutionJson>).traceback
    delete (json as Partial<ExecutionJson>).result
    delete (json as Partial<ExecutionJson>).logs
  }
  return json
}

export function statusJson (status: ClusterStatus): StatusJson {
  return {
    nodeId: status.nodeId,
    state: status.state,
    isLeader: status.isLeader,
    lock: status.lock,
    leader: status.leader === null
      ? null
      : { nodeId: status.leader.nodeId, acquiredAt: iso(status.leader.acquiredAt), heartbeatAt: iso(status.leader.heartbeatAt) },
    nodes: status.nodes.map((node) => ({ ...node, startedAt: node.startedAt.toISOString(), lastSeenAt: node.lastSeenAt.toISOString() })),
    runningExecutions: status.runningExecutions.map((execution) => executionJson(execution, false)),
    localExecutions: status.localExecutions,
    nextWakeup: iso(status.nextWakeup),
    tasks: status.tasks
  }
}

export function iso (date: Date | null): string | null {
  return date === null ? null : date.toISOString()
}

/** The trigger in words; null for a stored trigger that cannot be loaded (the job is flagged). */
function describe (job: JobRecord): string | null {
  try {
    return describeTrigger(job.trigger)
  } catch {
    return null
  }
}
