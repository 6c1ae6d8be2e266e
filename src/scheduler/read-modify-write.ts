/**
 * Read-modify-write of one job under optimistic concurrency: read the job, compute a patch from
 * what was read, and write it only while the job still has the version that was read
 * (`UPDATE … WHERE id = $1 AND version = $n`). When another writer got in between, read again and
 * recompute, up to `attempts` times; then fail with `JobConflictError` (409). Without this, a
 * `rescheduleJob` landing between `resumeJob`'s read and write was overwritten with a next run
 * time computed from the old trigger.
 */
import { JobConflictError, JobNotFoundError, VersionMismatchError } from '../errors.js'
import type { AuditContext } from '../stores/audit.js'
import type { JobPatch, JobRecord, JobStore } from '../stores/job-store.js'

/** Tries of one read-modify-write before `JobConflictError`. */
export const READ_MODIFY_WRITE_ATTEMPTS = 5

/**
 * Applies `compute(job)` to the job as read; `compute` returns null to write nothing.
 * Returns the written job, or null when nothing was written. With `audit`, the write records its audit row.
 * @throws JobNotFoundError; JobConflictError after `attempts` lost version races.
 */
export async function updateJobChecked (
  store: JobStore, id: string, compute: (job: JobRecord) => Promise<JobPatch | null> | JobPatch | null, attempts = READ_MODIFY_WRITE_ATTEMPTS,
  audit?: AuditContext
): Promise<JobRecord | null> {
  for (let attempt = 1; ; attempt++) {
    const job = await store.getJob(id)
    if (job === null) throw new JobNotFoundError(id)
    const patch = await compute(job)
    if (patch === null) return null
    try {
      return await store.updateJob(id, patch, audit === undefined ? { expectedVersion: job.version } : { expectedVersion: job.version, audit })
    } catch (error) {
      if (!(error instanceof VersionMismatchError)) throw error
      if (attempt >= attempts) throw new JobConflictError(id, attempts)
    }
  }
}
