/**
 * Healing a missing table (a host's `schema:update` or `schema:drop` removed one of ours): after a
 * statement failed with PostgreSQL 42P01 (MySQL errno 1146), the store installs its tables again (`install: 'auto'`)
 * or refuses (the host's migrations own them). Used by the scheduling loop and the node heartbeat,
 * which each keep retrying, so they heal as soon as the tables are back.
 */
import { isUndefinedTable } from '../sql/sql-client.js'
import type { JobStore } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'

/**
 * When `cause` says a table is missing, asks the store to install the tables again and logs what it
 * did; a store that cannot (it throws: the host's migrations own the schema) goes to `onFailure`.
 * Never throws.
 */
export async function healMissingTable (store: JobStore, cause: unknown, log: SchedulerLogger, onFailure: (error: Error) => void): Promise<void> {
  const recover = store.recoverMissingTable
  if (!isUndefinedTable(cause) || recover === undefined) return
  try {
    log.warn({ err: cause }, await recover.call(store, cause as Error))
  } catch (error) {
    onFailure(error as Error)
  }
}
