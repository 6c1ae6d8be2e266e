/**
 * Every table of the scheduler as a MikroORM entity: list `schedulerEntities` in the host's
 * `entities` and MikroORM's schema tools (`schema:update`, `migration:create`) see the tables
 * exactly as the scheduler creates them, and so propose nothing for them.
 *
 * Timestamps are declared `p.datetime().runtimeType('Date')`, with no column type: MikroORM maps
 * them to each platform's own (`timestamptz` on PostgreSQL, `datetime` on MySQL), and the runtime
 * type makes it hydrate a `Date` on every driver (on SQLite the column holds epoch milliseconds; a
 * PostgreSQL `columnType` left them text on MySQL and raw numbers on SQLite).
 */
import { SchedulerAudit } from './scheduler-audit.js'
import { SchedulerJob } from './scheduler-job.js'
import { SchedulerJobExecution } from './scheduler-job-execution.js'
import { SchedulerLeader } from './scheduler-leader.js'
import { SchedulerNode } from './scheduler-node.js'

export { SchedulerJob, SchedulerJobExecution, SchedulerLeader, SchedulerNode, SchedulerAudit }

/** The scheduler's entities, for the host's MikroORM `entities` option: `entities: [...appEntities, ...schedulerEntities]`. */
export const schedulerEntities = [SchedulerJob, SchedulerJobExecution, SchedulerLeader, SchedulerNode, SchedulerAudit] as const
