/**
 * What `status` asks each database, one entry per dialect: who leads, and the clock expression
 * its aggregate queries compare leases with. The aggregates themselves are one SQL text for all
 * (`count`, `sum(CASE …)`, `min`), read through `Number` and `toDateOrNull`.
 *
 * The leader is the process that holds the leader lock right now, not merely the last one that
 * wrote the heartbeat row:
 * - PostgreSQL: the `scheduler_leader` row of the lock key whose `backend_pid` is a live backend
 *   (`pg_stat_activity`: the session advisory lock dies with its backend);
 * - MySQL/MariaDB: the row whose `backend_pid` is the connection holding the lock's `GET_LOCK`
 *   name (`IS_USED_LOCK`, as the standby's fence checks, see `locks/get-lock.ts`);
 * - SQLite: the live holder of the file lock `<database file>.scheduler.lock` (`sqlite-owner.ts`);
 *   there is no heartbeat row and no key.
 */
import type { DatabaseUrl } from '../database-url.js'
import { LOCK_NAME } from '../locks/get-lock.js'
import { toDateOrNull, type SqlExecutor } from '../sql/sql-client.js'
import { NOW_MS } from '../stores/sqlite/sql.js'
import { sqliteOwner } from './sqlite-owner.js'

/** The live leader as `status` shows it. `heartbeat*`, `acquiredAt`: null on SQLite; `lockFile`, `pid`, `host`: SQLite only. */
export interface LeaderView {
  nodeId: string
  acquiredAt: Date | null
  heartbeatAt: Date | null
  heartbeatAgeMs: number | null
  lockFile?: string
  pid?: number
  host?: string | null
}

interface LeaderRow { node_id: string, acquired_at: unknown, heartbeat_at: unknown, alive: unknown, heartbeat_age_ms: unknown }

/** Where the leader is looked for: the SQL port and lock key (servers), the database file (SQLite). */
export interface LeaderQuery { sql: SqlExecutor, lockKey: number, target: DatabaseUrl }

interface StatusDialect {
  /** The database clock as an SQL expression of the dialect's timestamp columns. */
  now: string
  /** Whether a leader lock key exists (`--leader-lock-key`); SQLite's leader is a file. */
  lockKey: boolean
  /** The live leader, or null. */
  leader(query: LeaderQuery): Promise<LeaderView | null>
  /** The `leader:` line when there is none. */
  noLeader: string
}

/** The live row among `rows` (`alive` true or 1), as a view. */
function liveRow (rows: LeaderRow[]): LeaderView | null {
  const row = rows.find((candidate) => candidate.alive === true || Number(candidate.alive) === 1)
  return row === undefined
    ? null
    : { nodeId: row.node_id, acquiredAt: toDateOrNull(row.acquired_at), heartbeatAt: toDateOrNull(row.heartbeat_at), heartbeatAgeMs: Math.round(Number(row.heartbeat_age_ms)) }
}

const STATUS_DIALECTS: Record<DatabaseUrl['dialect'], StatusDialect> = {
  postgresql: {
    now: 'now()',
    lockKey: true,
    // A role without the pg_read_all_stats view of pg_stat_activity still sees its own backends; a
    // table older than the heartbeat row: no leader shown, rather than a failed status.
    leader: async ({ sql, lockKey }) => liveRow(await sql.query<LeaderRow>(
      `SELECT l.node_id, l.acquired_at, l.heartbeat_at,
              EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid) AS alive,
              (extract(epoch FROM now() - l.heartbeat_at) * 1000)::float8 AS heartbeat_age_ms
       FROM scheduler_leader l WHERE l.lock_key = $1`, [lockKey]
    ).catch(() => [])),
    noLeader: "none (no live advisory leader; schedulers with lock 'none' or 'file' record none)"
  },
  mysql: {
    now: 'UTC_TIMESTAMP(3)',
    lockKey: true,
    leader: async ({ sql, lockKey }) => liveRow(await sql.query<LeaderRow>(
      `SELECT node_id, acquired_at, heartbeat_at, backend_pid = IS_USED_LOCK(${LOCK_NAME}) AS alive,
              TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(3)) / 1000 AS heartbeat_age_ms
       FROM scheduler_leader WHERE lock_key = ?`, [String(lockKey), lockKey]
    )),
    noLeader: "none (no connection holds the leader's GET_LOCK; schedulers with lock 'none' record none)"
  },
  sqlite: {
    now: NOW_MS,
    lockKey: false,
    leader: async ({ target }) => {
      const owner = target.dialect === 'sqlite' ? sqliteOwner(target.file) : null
      return owner === null
        ? null
        : { nodeId: owner.owner, acquiredAt: null, heartbeatAt: null, heartbeatAgeMs: null, lockFile: owner.lockFile, pid: owner.pid, host: owner.host }
    },
    noLeader: 'none (no live process holds the database file\'s lock <file>.scheduler.lock: no app is running on it)'
  }
}

/** The `status` queries of `dialect`. */
export function statusDialect (dialect: DatabaseUrl['dialect']): StatusDialect {
  return STATUS_DIALECTS[dialect]
}
