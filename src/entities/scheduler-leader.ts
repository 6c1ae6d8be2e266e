/**
 * `SchedulerLeader`: the advisory leader's heartbeat row (table `scheduler_leader`, DESIGN.md
 * "Leadership"): who holds the leader lock `lockKey` (node id, backend pid), since when, and when it
 * last proved its loop alive. It is also the fence every claim checks. Written by the scheduler
 * only; listed among `schedulerEntities` so the host's schema tools know the table and leave it be.
 */
import { defineEntity, p } from '@mikro-orm/core'

export const SchedulerLeaderSchema = defineEntity({
  name: 'SchedulerLeader',
  tableName: 'scheduler_leader',
  properties: {
    /** The advisory lock key (64-bit integer) this row describes. */
    lockKey: p.bigint('number').primary().autoincrement(false),
    /** Node id of the holder (`host:pid:random`). */
    nodeId: p.text(),
    /** PostgreSQL backend pid of the holder's lock connection (`pg_backend_pid()`). */
    backendPid: p.integer(),
    acquiredAt: p.datetime().runtimeType('Date'),
    /** The holder's last heartbeat; older than `leaderStaleMs` and a standby fences it. */
    heartbeatAt: p.datetime().runtimeType('Date')
  }
})

export class SchedulerLeader extends SchedulerLeaderSchema.class {}
SchedulerLeaderSchema.setClass(SchedulerLeader)
