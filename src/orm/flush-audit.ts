/**
 * The audit rows of jobs written through the host's EntityManager (`SchedulerJobSubscriber`): one
 * per created, updated or deleted `SchedulerJob` of a flush, with actor {@link ORM_ACTOR}.
 *
 * They are written by the `after*` hooks of the flush, which MikroORM runs inside the flush's
 * transaction (the EntityManager holds it as its transaction context), so the rows commit or roll
 * back with the jobs. Each insert runs under a savepoint: when it fails, the savepoint is rolled
 * back, the failure is reported, and the flush goes on. Only writes through the unit of work are
 * seen: `em.nativeUpdate`, `em.nativeDelete` and raw SQL bypass MikroORM's events.
 */
import type { EntityManager, EntityMetadata } from '@mikro-orm/core'
import { qualifyTables } from '../schema/placement.js'
import { ormDialect } from '../sql/from-orm.js'
import type { SqlClient } from '../sql/sql-client.js'
import { NOW_MS } from '../stores/sqlite/sql.js'
import { auditEntry, jobChanges, type AuditAction, type AuditEntry } from '../stores/audit.js'
import type { JobRecord } from '../stores/job-store.js'

/**
 * One audit row's VALUES in the dialect of the EntityManager's driver (`?` placeholders, as
 * MikroORM's `execute` takes them): the time (null: the database's clock), action, job id, actor,
 * changes (JSON text); and how the time is bound.
 */
const AUDIT_ROW: Record<SqlClient['dialect'], { values: string, at: (at: Date | null) => unknown }> = {
  postgresql: { values: '(coalesce(?::timestamptz, now()), ?, ?, ?, ?::jsonb)', at: (at) => at?.toISOString() ?? null },
  pglite: { values: '(coalesce(?::timestamptz, now()), ?, ?, ?, ?::jsonb)', at: (at) => at?.toISOString() ?? null },
  sqlite: { values: `(coalesce(?, ${NOW_MS}), ?, ?, ?, ?)`, at: (at) => at?.getTime() ?? null },
  // datetime(3) holding UTC: bound as UTC text, whatever the session's time zone or the driver's.
  mysql: { values: '(coalesce(?, UTC_TIMESTAMP(3)), ?, ?, ?, ?)', at: (at) => at?.toISOString().slice(0, 23).replace('T', ' ') ?? null }
}

/** The actor of changes made by ORM flushes. */
export const ORM_ACTOR = 'orm'

/** A job entity's fields as plain values, dates as `Date`s and JSON columns parsed (snapshots may hold them serialised). */
export function jobFields (meta: EntityMetadata<any>, data: Record<string, unknown> | undefined): Partial<JobRecord> {
  const fields: Record<string, unknown> = {}
  for (const [name, prop] of Object.entries(meta.properties)) {
    if (data === undefined || !(name in data)) continue
    let value = data[name]
    const type = String(prop.runtimeType ?? prop.type ?? '').toLowerCase()
    if (value !== null && value !== undefined && !(value instanceof Date) && type.includes('date')) value = new Date(value as string)
    if (typeof value === 'string' && (name === 'args' || name === 'trigger')) {
      try {
        value = JSON.parse(value) as unknown
      } catch {}
    }
    fields[name] = value
  }
  return fields as Partial<JobRecord>
}

/** What an ORM update did, from its changes: a new trigger reschedules; only `paused` (and derived times) pauses or resumes. */
/** The audit entry of one change set of a flush. */
export function flushEntry (type: 'create' | 'update' | 'delete', before: Partial<JobRecord> | null, after: Partial<JobRecord> | null, at: Date | null): AuditEntry {
  const changes = jobChanges(before, after)
  const action: AuditAction = type === 'create' ? 'added' : type === 'delete' ? 'removed' : 'modified'
  return auditEntry({ action, actor: ORM_ACTOR, at }, String(after?.id ?? before?.id ?? ''), changes)
}

/**
 * Inserts `entries` in the flush's transaction (the EntityManager's transaction context; without
 * one, on their own), under a savepoint; `schema` places the table as the store placed it.
 * Resolves with the error when the insert failed (the flush goes on), null otherwise.
 */
export async function writeFlushAudit (em: EntityManager, entries: AuditEntry[], schema: string | null): Promise<Error | null> {
  if (entries.length === 0) return null
  const connection = em.getConnection('write')
  const ctx = em.getTransactionContext()
  const run = async (sql: string, params: unknown[] = []): Promise<unknown> => connection.execute(sql, params, 'run', ctx)
  const row = AUDIT_ROW[ormDialect(em)]
  const values = entries.map(() => row.values).join(', ')
  const params = entries.flatMap((entry) => [row.at(entry.at), entry.action, entry.jobId, entry.actor, entry.changesJson])
  const insert = qualifyTables(`INSERT INTO scheduler_audit (at, action, job_id, actor, changes) VALUES ${values}`, schema)
  if (ctx === undefined) {
    try {
      await run(insert, params)
      return null
    } catch (error) {
      return error as Error
    }
  }
  await run('SAVEPOINT audit_row')
  try {
    await run(insert, params)
  } catch (error) {
    await run('ROLLBACK TO SAVEPOINT audit_row')
    return error as Error
  }
  await run('RELEASE SAVEPOINT audit_row')
  return null
}
