/**
 * Wake-ups on MySQL and MariaDB, which have no LISTEN/NOTIFY: the one-row-per-kind change counter
 * (`scheduler_change`, see `schema/mysql-ddl.ts`). Every write that would `NOTIFY` on PostgreSQL
 * bumps its kind's counter in the same transaction (so the bump is seen exactly when the change
 * is: at commit), and every process polls the counters on its own session, waking its loops when
 * one moved.
 */
import type { SqlExecutor } from '../../sql/sql-client.js'
import { MYSQL_CHANGE_TABLE } from '../../schema/mysql-ddl.js'
import { QUEUED_PAYLOAD } from '../wakeup.js'

/** The counter bumped by job writes (PostgreSQL: a NOTIFY with the writer's node id). */
export const JOBS_CHANNEL = 'jobs'
/** The counter bumped when runs are queued or a slot frees for them (PostgreSQL: a NOTIFY with `QUEUED_PAYLOAD`). */
export const QUEUED_CHANNEL = 'queued'

/** Adds one to the counter of `channel` (inserting its row when missing), recording `payload`. */
export async function bumpChange (db: SqlExecutor, channel: string, payload: string | null): Promise<void> {
  await db.query(
    `INSERT INTO ${MYSQL_CHANGE_TABLE} (channel, counter, payload, changed_at) VALUES (?, 1, ?, UTC_TIMESTAMP(3))
     ON DUPLICATE KEY UPDATE counter = counter + 1, payload = VALUES(payload), changed_at = VALUES(changed_at)`,
    [channel, payload]
  )
}

/** The counters and last payloads, by channel. */
export async function readChanges (db: SqlExecutor): Promise<Map<string, { counter: number, payload: string | null }>> {
  const rows = await db.query<{ channel: string, counter: number, payload: string | null }>(`SELECT channel, counter, payload FROM ${MYSQL_CHANGE_TABLE}`)
  return new Map(rows.map((row) => [row.channel, { counter: Number(row.counter), payload: row.payload }]))
}

/** Milliseconds between two polls of the change counter: the cross-process wake-up delay is at most this plus one round trip. */
export const CHANGE_POLL_MS = 250

/**
 * The change feed a MySQL session's `listen` polls (`sql/mysql-client.ts`): a moved `queued`
 * counter reports {@link QUEUED_PAYLOAD}, a moved `jobs` counter the last writer's payload (as
 * PostgreSQL's NOTIFY would). Several bumps between two polls are reported once each kind, as
 * PostgreSQL folds identical notifications of one transaction. A table not installed yet reads as
 * no change.
 */
export const MYSQL_CHANGE_FEED = {
  intervalMs: CHANGE_POLL_MS,
  async poll (db: SqlExecutor, state: unknown): Promise<{ state: unknown, payloads: string[] }> {
    const current = await readChanges(db).catch(() => null)
    if (current === null) return { state, payloads: [] }
    const previous = state as Map<string, { counter: number }> | undefined
    if (previous === undefined) return { state: current, payloads: [] }
    const payloads: string[] = []
    for (const [channel, { counter, payload }] of current) {
      if (counter === (previous.get(channel)?.counter ?? 0)) continue
      payloads.push(channel === QUEUED_CHANNEL ? QUEUED_PAYLOAD : payload ?? channel)
    }
    return { state: current, payloads }
  }
}
