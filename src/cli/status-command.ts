/**
 * `status`: the cluster as the database shows it: the live leader (on PostgreSQL and MySQL its
 * heartbeat row, alive only while its session holds the lock; on SQLite the process holding the
 * file's lock; see `status-queries.ts`), every live node (the node registry: seen within three of its own
 * `nodeHeartbeatMs`) with its running executions,
 * the owners of running executions that are not live nodes (dead processes whose leases will
 * expire), the queue, the jobs by state and the next wake-up. Every query is an aggregate or a
 * small table, in SQL all three databases take (the clock expression is the dialect's).
 *
 * JSON shape: `{ now, leader: LeaderView | null, nodes, otherOwners, running, queued,
 * jobs: { active, paused, flagged, finished }, nextWakeup }`, times as ISO 8601 strings.
 */
import { DEFAULT_LEADER_LOCK_KEY } from '../locks/advisory-lock.js'
import { NODE_STALE_HEARTBEATS } from '../scheduler/node-heartbeat.js'
import { leaderLockKeyFor } from '../schema/placement.js'
import { toDateOrNull } from '../sql/sql-client.js'
import { statementsFor } from '../stores/dialect-statements.js'
import { stringOption, type Command } from './command.js'
import { statusDialect, type LeaderView } from './status-queries.js'
import { fields, json, table } from './table.js'
import { UsageError } from './usage.js'

interface OwnerRow { owner: string | null, running: unknown, expired: unknown, oldest_start: unknown }
interface CountsRow { queued: unknown, active: unknown, paused: unknown, flagged: unknown, finished: unknown }

const status: Command = {
  options: ['leader-lock-key'],
  args: [],
  async run ({ options, json: asJson, connection, out }) {
    const given = stringOption(options, 'leader-lock-key')
    if (given !== undefined && (!/^-?\d+$/.test(given) || !Number.isSafeInteger(Number(given)))) throw new UsageError(`--leader-lock-key must be an integer (the app's leaderLockKey); got '${given}'`)
    const conn = await connection()
    const dialect = statusDialect(conn.target.dialect)
    if (given !== undefined && !dialect.lockKey) throw new UsageError("--leader-lock-key does not apply to SQLite: its leader is the process holding the database file's lock; leave it out")
    // The plugin's default key for the schema (see leaderLockKeyFor), unless the app set its own.
    const lockKey = Number(given ?? leaderLockKeyFor(DEFAULT_LEADER_LOCK_KEY, conn.schema))
    const scheduler = await conn.scheduler()
    const { sql } = conn
    const [leader, ownerRows, [counts], now, wakeup, live] = await Promise.all([
      dialect.leader({ sql, lockKey, target: conn.target }),
      sql.query<OwnerRow>(
        `SELECT owner, count(*) AS running, sum(CASE WHEN lease_until < ${dialect.now} THEN 1 ELSE 0 END) AS expired, min(started_at) AS oldest_start
         FROM scheduler_job_execution WHERE status = 'running' GROUP BY owner ORDER BY owner`
      ),
      sql.query<CountsRow>(
        `SELECT (SELECT count(*) FROM scheduler_job_execution WHERE status = 'queued') AS queued,
                sum(CASE WHEN NOT paused AND last_error IS NULL AND next_run_time IS NOT NULL THEN 1 ELSE 0 END) AS active,
                sum(CASE WHEN paused THEN 1 ELSE 0 END) AS paused,
                sum(CASE WHEN NOT paused AND last_error IS NOT NULL THEN 1 ELSE 0 END) AS flagged,
                sum(CASE WHEN NOT paused AND last_error IS NULL AND next_run_time IS NULL THEN 1 ELSE 0 END) AS finished
         FROM scheduler_job`
      ),
      statementsFor(sql.dialect).now(sql),
      scheduler.options.store.getNextWakeup(),
      scheduler.options.store.getNodes(NODE_STALE_HEARTBEATS, null)
    ])
    const owners = new Map(ownerRows.map((row) => [row.owner, row]))
    const nodes = live.map((node) => {
      const owned = owners.get(node.nodeId)
      return { ...node, expiredLeases: Number(owned?.expired ?? 0), oldestStart: toDateOrNull(owned?.oldest_start ?? null) }
    })
    const liveIds = new Set(live.map((node) => node.nodeId))
    const otherOwners = ownerRows.filter((row) => row.owner === null || !liveIds.has(row.owner))
      .map((row) => ({ nodeId: row.owner, running: Number(row.running), expiredLeases: Number(row.expired), oldestStart: toDateOrNull(row.oldest_start) }))
    const c = counts as CountsRow
    const jobs = { active: Number(c.active ?? 0), paused: Number(c.paused ?? 0), flagged: Number(c.flagged ?? 0), finished: Number(c.finished ?? 0) }
    const report = {
      now,
      leader,
      nodes,
      otherOwners,
      running: ownerRows.reduce((sum, row) => sum + Number(row.running), 0),
      queued: Number(c.queued),
      jobs,
      nextWakeup: wakeup.nextRunTime
    }
    if (asJson) {
      out(json(report))
      return 0
    }
    out(fields([
      ['database time', report.now],
      ['leader', leader === null ? dialect.noLeader : leader.nodeId],
      ...leaderFields(leader),
      ['running', report.running], ['queued', report.queued],
      ['jobs', `${jobs.active} active, ${jobs.paused} paused, ${jobs.flagged} flagged, ${jobs.finished} finished`],
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

/** The lines under `leader:`: its lock file and pid (SQLite), or since when it leads and its heartbeat. */
function leaderFields (leader: LeaderView | null): Array<[string, unknown]> {
  if (leader === null) return []
  if (leader.lockFile !== undefined) return [['leader pid', `${leader.pid ?? '-'}${leader.host === null || leader.host === undefined ? '' : ` on ${leader.host}`}`], ['leader lock', leader.lockFile]]
  return [['leader since', leader.acquiredAt], ['last heartbeat', `${leader.heartbeatAt?.toISOString() ?? '-'} (${leader.heartbeatAgeMs ?? '-'} ms ago)`]]
}

export const statusCommands: Record<string, Command> = { '': status }
