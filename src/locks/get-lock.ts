/**
 * `lock: 'advisory'` on MySQL and MariaDB: a user-level lock (`GET_LOCK(name, 0)`, MySQL docs
 * "Locking Functions", MariaDB KB "GET_LOCK") held on the scheduler's dedicated connection, never a
 * pooled one. It works as the PostgreSQL advisory lock does (`advisory-lock.ts`):
 *
 * - a leader that dies: its connection closes, the server frees the lock, a standby's next try
 *   takes over;
 * - a leader that freezes keeps its connection and the lock, so it renews the `scheduler_leader`
 *   heartbeat row every `heartbeatMs`; a standby that finds the row older than `staleMs`, naming
 *   the connection that holds the lock (`IS_USED_LOCK`), ends it (`KILL CONNECTION`, allowed on the
 *   same user's connections) and takes the lock;
 * - the row is the fencing token: the claim transaction reads it `LOCK IN SHARE MODE` and claims
 *   only while it names this node, this connection (`CONNECTION_ID()`) and a fresh heartbeat.
 *
 * `GET_LOCK` names are server-wide, not per database: the name is derived from the database's name
 * and the lock key (`SHA1`, so it stays within the 64 characters MySQL allows), so schedulers on
 * two databases of one server never share a lock.
 */
import type { DedicatedSession } from '../scheduler/dedicated-session.js'
import type { LeaderInfo, LeaderLock } from './leader-lock.js'
import type { AdvisoryLockOptions } from './advisory-lock.js'
import type { LeaderFence } from '../stores/job-store.js'
import { toDate, type SqlSession } from '../sql/sql-client.js'
import { bumpChange, JOBS_CHANNEL } from '../stores/mysql/change-counter.js'
import { affectedRows } from '../stores/mysql/sql.js'

/**
 * The lock's name for the key `?` in the connection's database (an SQL expression; the command
 * line's `status` finds the holder with `IS_USED_LOCK` of it).
 */
export const LOCK_NAME = "CONCAT('fms_leader_', SHA1(CONCAT(DATABASE(), ':', ?)))"

export class GetLock implements LeaderLock {
  readonly kind = 'advisory' as const
  readonly #session: DedicatedSession
  readonly #options: AdvisoryLockOptions
  readonly #lostCallbacks: Array<(reason: Error) => void> = []
  #held = false
  /** `CONNECTION_ID()` of the session that took the lock (0 until it is taken). */
  #connectionId = 0
  #heartbeat: NodeJS.Timeout | undefined

  /** Same options as the PostgreSQL advisory lock (key, node id, heartbeat and stale milliseconds). */
  constructor (session: DedicatedSession, options: AdvisoryLockOptions) {
    this.#session = session
    this.#options = options
    session.onReconnectNeeded((reason) => this.#lose(reason))
  }

  get held (): boolean {
    return this.#held
  }

  /** The claim fence; before the lock is first taken the connection id is 0, which no row holds. */
  get fence (): LeaderFence {
    return { lockKey: this.#options.key, nodeId: this.#options.nodeId, backendPid: this.#connectionId, staleMs: this.#options.staleMs }
  }

  async tryAcquire (): Promise<boolean> {
    if (this.#held) return true
    const session = await this.#session.get()
    const { key, nodeId } = this.#options
    const [row] = await session.query<{ locked: number | null, id: number }>(`SELECT GET_LOCK(${LOCK_NAME}, 0) AS locked, CONNECTION_ID() AS id`, [String(key)])
    if (Number(row?.locked) !== 1) {
      await this.#fenceStaleHolder(session)
      return false
    }
    try {
      await session.query(
        `INSERT INTO scheduler_leader (lock_key, node_id, backend_pid, acquired_at, heartbeat_at)
         VALUES (?, ?, CONNECTION_ID(), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE node_id = VALUES(node_id), backend_pid = VALUES(backend_pid),
           acquired_at = VALUES(acquired_at), heartbeat_at = VALUES(heartbeat_at)`,
        [key, nodeId]
      )
    } catch (error) {
      // No heartbeat row: not the leader, so do not keep the lock either.
      await session.query(`SELECT RELEASE_LOCK(${LOCK_NAME})`, [String(key)]).catch(() => {})
      throw error
    }
    this.#connectionId = Number(row?.id)
    this.#held = true
    this.#heartbeat = setInterval(() => { void this.#beat() }, this.#options.heartbeatMs)
    this.#heartbeat.unref()
    return true
  }

  onLost (callback: (reason: Error) => void): void {
    this.#lostCallbacks.push(callback)
  }

  async release (): Promise<void> {
    if (!this.#held) return
    this.#stopHeartbeat()
    this.#held = false
    const session = this.#session.current
    if (session === null) return
    await session.query('DELETE FROM scheduler_leader WHERE lock_key = ? AND backend_pid = CONNECTION_ID()', [this.#options.key]).catch(() => {})
    await session.query(`SELECT RELEASE_LOCK(${LOCK_NAME})`, [String(this.#options.key)]).catch(() => {})
    // Standbys poll the change counter: tell them the lock is free now, not at their next retry.
    await bumpChange(session, JOBS_CHANNEL, `leader released: ${this.#options.nodeId}`).catch(() => {})
  }

  async describeLeader (): Promise<LeaderInfo | null> {
    const session = await this.#session.get()
    const [row] = await session.query<{ node_id: string, acquired_at: unknown, heartbeat_at: unknown }>(
      `SELECT node_id, acquired_at, heartbeat_at FROM scheduler_leader WHERE lock_key = ? AND backend_pid = IS_USED_LOCK(${LOCK_NAME})`,
      [this.#options.key, String(this.#options.key)]
    )
    return row === undefined ? null : { nodeId: row.node_id, acquiredAt: toDate(row.acquired_at), heartbeatAt: toDate(row.heartbeat_at) }
  }

  /** Renews the heartbeat; a row no longer ours means a standby fenced us: the lock is lost. */
  async #beat (): Promise<void> {
    const session = this.#session.current
    if (!this.#held || session === null) return
    const stalledMs = this.#options.loopStalledMs?.() ?? 0
    if (stalledMs > this.#options.staleMs) {
      await this.#stepDown(session, new Error(`the scheduling loop made no progress for ${Math.round(stalledMs)} ms, more than leaderStaleMs (${this.#options.staleMs} ms): a hung database connection? leadership released`))
      return
    }
    try {
      const rows = await session.query('UPDATE scheduler_leader SET heartbeat_at = UTC_TIMESTAMP(3) WHERE lock_key = ? AND backend_pid = CONNECTION_ID()', [this.#options.key])
      if (affectedRows(rows) === 0) this.#lose(new Error('another node took over leadership (this leader\'s heartbeat had gone stale)'))
    } catch (error) {
      this.#lose(error as Error)
    }
  }

  /**
   * When the holder's heartbeat is older than `staleMs`, ends its connection so its lock is freed;
   * the next try takes it. Only the connection the server shows holding the lock, and only when
   * the heartbeat row names that same connection.
   */
  async #fenceStaleHolder (session: SqlSession): Promise<void> {
    const [stale] = await session.query<{ node_id: string, backend_pid: number, age_ms: number }>(
      `SELECT node_id, backend_pid, TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(3)) / 1000 AS age_ms FROM scheduler_leader
       WHERE lock_key = ? AND backend_pid = IS_USED_LOCK(${LOCK_NAME}) AND heartbeat_at < UTC_TIMESTAMP(3) - INTERVAL ROUND(? * 1000) MICROSECOND`,
      [this.#options.key, String(this.#options.key), this.#options.staleMs]
    )
    if (stale === undefined) return
    await session.query(`KILL CONNECTION ${Math.trunc(Number(stale.backend_pid))}`)
    this.#options.onFenced?.({ nodeId: stale.node_id, backendPid: Number(stale.backend_pid), heartbeatAgeMs: Math.round(Number(stale.age_ms)) })
  }

  /** Gives leadership up on purpose: unlocks and tells the standbys, then drops the connection like any loss. */
  async #stepDown (session: SqlSession, reason: Error): Promise<void> {
    await session.query(`SELECT RELEASE_LOCK(${LOCK_NAME})`, [String(this.#options.key)]).catch(() => {})
    await bumpChange(session, JOBS_CHANNEL, `leader stepped down: ${this.#options.nodeId}`).catch(() => {})
    this.#lose(reason)
  }

  /** Gives up leadership: the connection is dropped too, so the lock cannot linger. */
  #lose (reason: Error): void {
    if (!this.#held) return
    this.#held = false
    this.#stopHeartbeat()
    void this.#session.reset()
    for (const callback of this.#lostCallbacks) callback(reason)
  }

  #stopHeartbeat (): void {
    clearInterval(this.#heartbeat)
    this.#heartbeat = undefined
  }
}
