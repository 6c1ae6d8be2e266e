/**
 * The node registry statements of the PostgreSQL (and PGlite) job store (`scheduler_node`): a
 * process's heartbeat upsert, its removal at shutdown, and the live nodes with their running
 * executions. Times are the database's (`now()`, or the test clock passed as a parameter).
 */
import type { SqlExecutor } from '../../sql/sql-client.js'
import type { NodeRecord, NodeRegistration, NodeRetention } from '../job-store.js'
import { nowParam, rowToNode } from '../rows.js'

/**
 * Upserts the node's row (`started_at` kept from the first heartbeat) and prunes the rows of other
 * nodes unseen for longer than the retention and than their own stale window, in one statement.
 */
export async function recordNode (db: SqlExecutor, node: NodeRegistration, retention: NodeRetention, now: Date | null): Promise<void> {
  await db.query(
    `WITH pruned AS (
       DELETE FROM scheduler_node
       WHERE node_id <> $1 AND last_seen_at < ${nowParam(8)} - make_interval(secs => greatest($9::float8, heartbeat_ms * $10::float8) / 1000.0))
     INSERT INTO scheduler_node (node_id, host, pid, tasks, roles, lock, heartbeat_ms, started_at, last_seen_at)
     VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, ${nowParam(8)}, ${nowParam(8)})
     ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, tasks = excluded.tasks,
       roles = excluded.roles, lock = excluded.lock, heartbeat_ms = excluded.heartbeat_ms, last_seen_at = excluded.last_seen_at`,
    [node.nodeId, node.host, node.pid, JSON.stringify(node.tasks), JSON.stringify(node.roles), node.lock, node.heartbeatMs, now,
      retention.retentionMs, retention.staleHeartbeats]
  )
}

export async function removeNode (db: SqlExecutor, nodeId: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM scheduler_node WHERE node_id = $1 RETURNING 1', [nodeId])
  return rows.length > 0
}

export async function getNodes (db: SqlExecutor, staleHeartbeats: number, now: Date | null): Promise<NodeRecord[]> {
  const rows = await db.query<Record<string, any>>(
    `SELECT n.node_id, n.host, n.pid, n.tasks, n.roles, n.lock, n.heartbeat_ms, n.started_at, n.last_seen_at,
            greatest(0, extract(epoch FROM ${nowParam(2)} - n.last_seen_at) * 1000)::float8 AS last_seen_ago_ms,
            (SELECT count(*)::integer FROM scheduler_job_execution e WHERE e.status = 'running' AND e.owner = n.node_id) AS running
     FROM scheduler_node n
     WHERE n.last_seen_at >= ${nowParam(2)} - make_interval(secs => n.heartbeat_ms * $1::float8 / 1000.0)
     ORDER BY n.node_id COLLATE "C"`,
    [staleHeartbeats, now]
  )
  return rows.map(rowToNode)
}

