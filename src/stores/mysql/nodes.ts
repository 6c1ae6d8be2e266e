/**
 * The node registry statements of the MySQL/MariaDB job store (`scheduler_node`, as
 * `postgresql/nodes.ts`): a process's heartbeat upsert, its removal, and the live nodes with
 * their running executions. Times are the database's (`UTC_TIMESTAMP(3)`, or the test clock).
 */
import type { SqlExecutor } from '../../sql/sql-client.js'
import type { NodeRecord, NodeRegistration, NodeRetention } from '../job-store.js'
import { rowToNode } from '../rows.js'
import { affectedRows, NOW } from './sql.js'

/**
 * Prunes the rows of other nodes unseen for longer than the retention and their own stale window,
 * then upserts the node's row (`started_at` kept from the first heartbeat): two statements, each
 * atomic (the prune is housekeeping; neither depends on the other).
 */
export async function recordNode (db: SqlExecutor, node: NodeRegistration, retention: NodeRetention, now: Date | null): Promise<void> {
  await db.query(
    `DELETE FROM scheduler_node
     WHERE node_id <> ? AND last_seen_at < ${NOW} - INTERVAL ROUND(GREATEST(?, heartbeat_ms * ?) * 1000) MICROSECOND`,
    [node.nodeId, now, retention.retentionMs, retention.staleHeartbeats]
  )
  await db.query(
    `INSERT INTO scheduler_node (node_id, host, pid, tasks, roles, \`lock\`, heartbeat_ms, started_at, last_seen_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ${NOW}, ${NOW})
     ON DUPLICATE KEY UPDATE host = VALUES(host), pid = VALUES(pid), tasks = VALUES(tasks), roles = VALUES(roles),
       \`lock\` = VALUES(\`lock\`), heartbeat_ms = VALUES(heartbeat_ms), last_seen_at = VALUES(last_seen_at)`,
    [node.nodeId, node.host, node.pid, JSON.stringify(node.tasks), JSON.stringify(node.roles), node.lock, node.heartbeatMs, now, now]
  )
}

export async function removeNode (db: SqlExecutor, nodeId: string): Promise<boolean> {
  return affectedRows(await db.query('DELETE FROM scheduler_node WHERE node_id = ?', [nodeId])) > 0
}

export async function getNodes (db: SqlExecutor, staleHeartbeats: number, now: Date | null): Promise<NodeRecord[]> {
  const rows = await db.query<Record<string, any>>(
    `SELECT n.node_id, n.host, n.pid, n.tasks, n.roles, n.\`lock\`, n.heartbeat_ms, n.started_at, n.last_seen_at,
            GREATEST(0, TIMESTAMPDIFF(MICROSECOND, n.last_seen_at, ${NOW}) / 1000) AS last_seen_ago_ms,
            (SELECT count(*) FROM scheduler_job_execution e WHERE e.status = 'running' AND e.owner = n.node_id) AS running
     FROM scheduler_node n
     WHERE n.last_seen_at >= ${NOW} - INTERVAL ROUND(n.heartbeat_ms * ? * 1000) MICROSECOND
     ORDER BY n.node_id`,
    [now, now, staleHeartbeats]
  )
  return rows.map(rowToNode)
}

