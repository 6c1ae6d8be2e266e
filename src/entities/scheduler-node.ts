/**
 * `SchedulerNode`: the node registry (table `scheduler_node`, DESIGN.md "Data model"): one row per
 * started scheduler, upserted by its heartbeat every `nodeHeartbeatMs` (on the database clock)
 * and deleted when it shuts down; a row unseen for three of its heartbeats is a dead process. Written by
 * the scheduler only; listed among `schedulerEntities` so the host's schema tools know the table
 * and leave it be.
 */
import { defineEntity, p } from '@mikro-orm/core'

export const SchedulerNodeSchema = defineEntity({
  name: 'SchedulerNode',
  tableName: 'scheduler_node',
  properties: {
    /** The process's node id (`nodeId` option; default `host:pid:random`), the `owner` of its executions. */
    nodeId: p.text().primary(),
    /** Host name (`os.hostname()`). */
    host: p.text(),
    /** Process id on that host. */
    pid: p.integer(),
    /** Names of the tasks the process has registered (JSON array of strings). */
    tasks: p.json<string[]>().columnType('jsonb').defaultRaw("'[]'::jsonb"),
    /** What the process may do (JSON array): `plan` (lead and claim) and `execute` (run handlers). */
    roles: p.json<string[]>().columnType('jsonb').defaultRaw("'[]'::jsonb"),
    /** The leader lock it uses: `advisory`, `file` or `none`. */
    lock: p.text(),
    /** Its `nodeHeartbeatMs`: it is live while its last heartbeat is younger than three of these. */
    heartbeatMs: p.integer(),
    /** When the process's scheduler started (database clock). */
    startedAt: p.datetime().runtimeType('Date'),
    /** Its last heartbeat (database clock). */
    lastSeenAt: p.datetime().runtimeType('Date')
  }
})

export class SchedulerNode extends SchedulerNodeSchema.class {}
SchedulerNodeSchema.setClass(SchedulerNode)
