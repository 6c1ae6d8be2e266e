/**
 * `SchedulerAudit`: the audit trail (table `scheduler_audit`, issue #14): one row per change made
 * to a job through the API, the REST routes, the admin page or an ORM flush, written in the same
 * transaction as the change. `job_id` is no foreign key: the trail outlives the job. Written by the
 * scheduler only; listed among `schedulerEntities` so the host's schema tools know the table and
 * leave it be.
 */
import { defineEntity, p } from '@mikro-orm/core'
import { AUDIT_ACTIONS, type AuditAction, type AuditChange } from '../stores/audit.js'

export const SchedulerAuditSchema = defineEntity({
  name: 'SchedulerAudit',
  tableName: 'scheduler_audit',
  properties: {
    id: p.bigint('number').columnType('bigint').primary().autoincrement().generated('by default as identity'),
    /** When the change was made (database clock). */
    at: p.datetime().runtimeType('Date').defaultRaw('now()'),
    /** `added`, `modified`, `rescheduled`, `paused`, `resumed`, `removed` or `run`. */
    action: p.enum(AUDIT_ACTIONS).$type<AuditAction>().columnType('text'),
    jobId: p.text(),
    /** Who made the change: the REST `actor` hook's answer, an API call's `{ actor }`, `'code'`, `'orm'` or `'api'`. */
    actor: p.text(),
    /** The changed fields: `{ field: { before, after } }` (JSON values, dates as ISO strings). */
    changes: p.json<Record<string, AuditChange>>().columnType('jsonb').defaultRaw("'{}'::jsonb")
  },
  indexes: [
    { name: 'scheduler_audit_job_id_at_idx', columns: [{ name: 'job_id' }, { name: 'at', sort: 'DESC' }] },
    { properties: ['at'], name: 'scheduler_audit_at_idx' }
  ]
})

export class SchedulerAudit extends SchedulerAuditSchema.class {}
SchedulerAuditSchema.setClass(SchedulerAudit)
