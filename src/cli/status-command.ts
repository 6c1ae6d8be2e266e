/**
 * `status`: the cluster as the database shows it: the advisory leader (its heartbeat row, alive
 * only while its backend is), every live node (the node registry: seen within three of its own
 * `nodeHeartbeatMs`) with its running executions,
 * the owners of running executions that are not live nodes (dead processes whose leases will
 * expire), the queue, the jobs by state and the next wake-up. Every query is an aggregate or a
 * small table.
 */
import { DEFAULT_LEADER_LOCK_KEY } from '../locks/advisory-lock.js'
import { NODE_STALE_HEARTBEATS } from '../scheduler/node-heartbeat.js'
import { leaderLockKeyFor } from '../schema/placement.js'
import { toDate, toDateOrNull } from '../sql/sql-client.js'
import { stringOption, type Command } from './command.js'
import { fields, json, table } from './table.js'
import { UsageError } from './usage.js'

interface LeaderRow { node_id: string, acquired_at: unknown, heartbeat_at: unknown, alive: boolean, heartbeat_age_ms: number }
interface OwnerRow { owner: string | null, running: number, expired: number, oldest_start: unknown }
interface CountsRow { queued: number, active: number, paused: number, flagged: number, finished: number, now: unknown }

const status: Command = {
  options: ['leader-lock-key'],
  args: [],
  async run ({ options, json: asJson, connection, out }) {
    const given = stringOption(options, 'leader-lock-key')
    if (given !== undefined && (!/^-?\d+$/.test(given) || !Number.isSafeInteger(Number(given)))) throw new UsageError(`--leader-lock-key must be an integer (the app's leaderLockKey); got '${given}'`)
    const conn = await connection()
    // The plugin's default key for the schema (see leaderLockKeyFor), unless the app set its own.
    const keyText = given ?? String(leaderLockKeyFor(DEFAULT_LEADER_LOCK_KEY, conn.schema))
    const scheduler = await conn.scheduler()
    const { sql } = conn
    const [leaderRows, ownerRows, [counts], wakeup, live] = await Promise.all([
      sql.query<LeaderRow>(
        `SELECT l.node_id, l.acquired_at, l.heartbeat_at,
                EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid) AS alive,
                (extract(epoch FROM now() - l.heartbeat_at) * 1000)::float8 AS heartbeat_age_ms
         FROM scheduler_leader l WHERE l.lock_key = $1`, [Number(keyText)]
      ).catch(() => [] as LeaderRow[]),
      sql.query<OwnerRow>(
        `SELECT owner, count(*)::integer AS running, count(*) FILTER (WHERE lease_until < now())::integer AS expired, min(started_at) AS oldest_start
         FROM scheduler_job_execution WHERE status = 'running' GROUP BY owner ORDER BY owner`
      ),
      sql.query<CountsRow>(
        `SELECT (SELECT count(*)::integer FROM scheduler_job_execution WHERE status = 'queued') AS queued,
                count(*) FILTER (WHERE NOT paused AND last_error IS NULL AND next_run_time IS NOT NULL)::integer AS active,
                count(*) FILTER (WHERE paused)::integer AS paused,
                count(*) FILTER (WHERE NOT paused AND last_error IS NOT NULL)::integer AS flagged,
                count(*) FILTER (WHERE NOT paused AND last_error IS NULL AND next_run_time IS NULL)::integer AS finished,
                now() AS now
         FROM scheduler_job`
      ),
      scheduler.options.store.getNextWakeup(),
      scheduler.options.store.getNodes(NODE_STALE_HEARTBEATS, null)
    ])
    const row = leaderRows.find((candidate) => candidate.alive)
    const leader = row === undefined
      ? null
      : { nodeId: row.node_id, acquiredAt: toDateOrNull(row.acquired_at), heartbeatAt: toDateOrNull(row.heartbeat_at), heartbeatAgeMs: Math.round(row.heartbeat_age_ms) }
    const owners = new Map(ownerRows.map((row) => [row.owner, row]))
    const nodes = live.map((node) => {
      const owned = owners.get(node.nodeId)
      return { ...node, expiredLeases: owned?.expired ?? 0, oldestStart: toDateOrNull(owned?.oldest_start ?? null) }
    })
    const liveIds = new Set(live.map((node) => node.nodeId))
    const otherOwners = ownerRows.filter((row) => row.owner === null || !liveIds.has(row.owner))
      .map((row) => ({ nodeId: row.owner, running: row.running, expiredLeases: row.expired, oldestStart: toDateOrNull(row.oldest_start) }))
    const c = counts as CountsRow
    const report = {
      now: toDate(c.now),
      leader,
      nodes,
      otherOwners,
      running: ownerRows.reduce((sum, row) => sum + row.running, 0),
      queued: c.queued,
      jobs: { active: c.active, paused: c.paused, flagged: c.flagged, finished: c.finished },
      nextWakeup: wakeup.nextRunTime
    }
    if (asJson) {
      out(json(report))
      return 0
    }
    out(fields([
      ['database time', report.now],
      ['leader', leader === null ? 'none (no live advisory leader; schedulers with lock \'none\' or \'file\' record none)' : leader.nodeId],
      ...(leader === null ? [] : [['leader since', leader.acquiredAt], ['last heartbeat', `${leader.heartbeatAt?.toISOString() ?? '-'} (${leader.heartbeatAgeMs} ms ago)`]] as Array<[string, unknown]>),
      ['running', report.running], ['queued', report.queued],
      ['jobs', `${c.active} active, ${c.paused} paused, ${c.flagged} flagged, ${c.finished} finished`],
      ['next wake-up', report.nextWakeup ?? 'none (no job is due)']
    ]))
    out(`\nlive nodes (heartbeat within ${NODE_STALE_HEARTBEATS} of their intervals):\n`)
    out(table(['NODE', 'HOST', 'PID', 'ROLES', 'LOCK', 'TASKS', 'RUNNING', 'EXPIRED LEASES', 'LAST SEEN'], nodes.map((node) => [
      node.nodeId, node.host, node.pid, node.roles.join(','), node.lock, node.tasks.join(','), node.running, node.expiredLeases, `${node.lastSeenAgoMs} ms ago`
    ]), '(none: no scheduler process has sent a heartbeat)'))
    if (otherOwners.length > 0) {
      out('\nrunning executions of processes that are not live (their leases expire, then the rows are abandoned):\n')
      out(table(['OWNER', 'RUNNING', 'EXPIRED LEASES', 'OLDEST START'], otherOwners.map((owner) => [owner.nodeId, owner.running, owner.expiredLeases, owner.oldestStart]), '(none)'))
    }
    return 0
  }
}

export const statusCommands: Record<string, Command> = { '': status }
