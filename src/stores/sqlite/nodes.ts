/**
 * The node registry statements of the SQLite job store (`scheduler_node`), with the guarantees of
 * `postgresql/nodes.ts`. Times are the process clock (sql.ts `NOW_MS`) or the test clock passed in.
 */
import { atomically, type SqlExecutor } from '../../sql/sql-client.js'
import type { NodeRecord, NodeRegistration, NodeRetention } from '../job-store.js'
import { rowToNode } from '../rows.js'
import { nowParam } from './sql.js'

/**
 * Upserts the node's row (`started_at` kept from the first heartbeat) and prunes the rows of other
 * nodes unseen for longer than the retention and than their own stale window, in one transaction.
 */
export async function recordNode (db: SqlExecutor, node: NodeRegistration, retention: NodeRetention, now: Date | null): Promise<void> {
  await atomically(db, async (tx) => {
    await tx.query(
      `DELETE FROM scheduler_node
       WHERE node_id <> ?1 AND last_seen_at < ${nowParam(2)} - max(?3, heartbeat_ms * ?4)`,
      [node.nodeId, now, retention.retentionMs, retention.staleHeartbeats]
    )
    await tx.query(
      `INSERT INTO scheduler_node (node_id, host, pid, tasks, roles, lock, heartbeat_ms, started_at, last_seen_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ${nowParam(8)}, ${nowParam(8)})
       ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, tasks = excluded.tasks,
         roles = excluded.roles, lock = excluded.lock, heartbeat_ms = excluded.heartbeat_ms, last_seen_at = excluded.last_seen_at`,
      [node.nodeId, node.host, node.pid, JSON.stringify(node.tasks), JSON.stringify(node.roles), node.lock, node.heartbeatMs, now]
    )
  })
}

export async function removeNode (db: SqlExecutor, nodeId: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM scheduler_node WHERE node_id = ?1 RETURNING 1', [nodeId])
  return rows.length > 0
}

/** The live nodes, ordered by node id in code-point order (SQLite's BINARY collation). */
export async function getNodes (db: SqlExecutor, staleHeartbeats: number, now: Date | null): Promise<NodeRecord[]> {
  const rows = await db.query<Record<string, any>>(
    `SELECT n.node_id, n.host, n.pid, n.tasks, n.roles, n.lock, n.heartbeat_ms, n.started_at, n.last_seen_at,
            max(0, ${nowParam(2)} - n.last_seen_at) AS last_seen_ago_ms,
            (SELECT count(*) FROM scheduler_job_execution e WHERE e.status = 'running' AND e.owner = n.node_id) AS running
     FROM scheduler_node n
     WHERE n.last_seen_at >= ${nowParam(2)} - n.heartbeat_ms * ?1
     ORDER BY n.node_id COLLATE BINARY`,
    [staleHeartbeats, now]
  )
  return rows.map(rowToNode)
}
