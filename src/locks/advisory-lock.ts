/**
 * `lock: 'advisory'`: a PostgreSQL session-level advisory lock (`pg_try_advisory_lock`, PostgreSQL
 * docs "Advisory Locks") held on a dedicated connection, never a pooled one (a pooled connection
 * would carry the lock to a random borrower).
 *
 * - A leader that dies: its connection closes, PostgreSQL frees the lock, a standby's next try
 *   (every `leaderRetryMs`) takes over.
 * - A leader that freezes (SIGSTOP, an event loop blocked for long) keeps its connection and so the
 *   lock. The leader therefore renews a heartbeat row (`scheduler_leader`) every
 *   `leaderHeartbeatMs`; a standby that finds the row older than `leaderStaleMs` terminates the
 *   holder's backend (`pg_terminate_backend`, allowed for the same role) and takes the lock.
 * - The row is also the fencing token: the claim transaction takes it `FOR SHARE` and only claims
 *   while it names this node and this lock session's backend pid with a heartbeat younger than
 *   `staleMs`, so a frozen leader that thaws claims nothing, even before a standby has written its
 *   own row and before it notices its lost connection.
 * - A dropped connection or a heartbeat that finds the row taken over loses the lock at once (`onLost`).
 */
import { WAKEUP_CHANNEL, type DedicatedSession } from '../scheduler/dedicated-session.js'
import type { LeaderInfo, LeaderLock } from './leader-lock.js'
import type { LeaderFence } from '../stores/job-store.js'
import { toDate, type SqlSession } from '../sql/sql-client.js'

/**
 * Why `lock: 'advisory'` is refused on SQLite (`InvalidOptionsError` from the plugin at
 * registration, and from `start()` for a scheduler built without it), and what to use instead.
 */
export const ADVISORY_ON_SQLITE = "'advisory' needs PostgreSQL's advisory locks, which SQLite does not have; on SQLite one process owns the database file: use lock: 'auto' (the file lock <database file>.scheduler.lock) or lock: 'file' with lockFile"

/** Default advisory lock key (any 64-bit integer; change it to run two schedulers on one database). */
export const DEFAULT_LEADER_LOCK_KEY = 7_215_830_002

export interface AdvisoryLockOptions {
  key: number
  nodeId: string
  /** Milliseconds between heartbeats of the holder. */
  heartbeatMs: number
  /** Milliseconds without a heartbeat after which a standby fences the holder. */
  staleMs: number
  /**
   * Milliseconds the scheduling loop has made no progress (0 when it is fine). The heartbeat proves
   * loop progress, not just a live connection: past `staleMs` the holder stops heartbeating and
   * steps down (unlocks, tells the standbys), so a leader whose loop hangs on its pooled connection
   * (half-open) while this dedicated one is healthy is replaced like a frozen one.
   */
  loopStalledMs?: () => number
  /** Told when a stale leader was fenced (for logs). */
  onFenced?: (leader: { nodeId: string, backendPid: number, heartbeatAgeMs: number }) => void
}

export class AdvisoryLock implements LeaderLock {
  readonly kind = 'advisory' as const
  readonly #session: DedicatedSession
  readonly #options: AdvisoryLockOptions
  readonly #lostCallbacks: Array<(reason: Error) => void> = []
  #held = false
  /** `pg_backend_pid()` of the session that took the lock (0 until it is taken). */
  #backendPid = 0
  #heartbeat: NodeJS.Timeout | undefined

  constructor (session: DedicatedSession, options: AdvisoryLockOptions) {
    this.#session = session
    this.#options = options
    session.onReconnectNeeded((reason) => this.#lose(reason))
  }

  get held (): boolean {
    return this.#held
  }

  /**
   * The claim fence: claims commit only while `scheduler_leader` names this node and this lock
   * session's backend pid for this key, with a heartbeat younger than `staleMs`. Before the lock
   * is first taken the pid is 0, which no row holds: nothing is claimed.
   */
  get fence (): LeaderFence {
    return { lockKey: this.#options.key, nodeId: this.#options.nodeId, backendPid: this.#backendPid, staleMs: this.#options.staleMs }
  }

  async tryAcquire (): Promise<boolean> {
    if (this.#held) return true
    const session = await this.#session.get()
    const { key, nodeId } = this.#options
    const [row] = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key])
    if (row?.locked !== true) {
      await this.#fenceStaleHolder()
      return false
    }
    const [leader] = await session.query<{ backend_pid: number }>(
      `INSERT INTO scheduler_leader (lock_key, node_id, backend_pid, acquired_at, heartbeat_at)
       VALUES ($1, $2, pg_backend_pid(), now(), now())
       ON CONFLICT (lock_key) DO UPDATE SET node_id = EXCLUDED.node_id, backend_pid = EXCLUDED.backend_pid,
         acquired_at = EXCLUDED.acquired_at, heartbeat_at = EXCLUDED.heartbeat_at
       RETURNING backend_pid`,
      [key, nodeId]
    ).catch(async (error: unknown) => {
      // No heartbeat row (its table missing, say): not the leader, so do not keep the session lock either.
      await session.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => {})
      throw error
    })
    this.#backendPid = Number(leader?.backend_pid)
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
    await session.query('DELETE FROM scheduler_leader WHERE lock_key = $1 AND backend_pid = pg_backend_pid()', [this.#options.key]).catch(() => {})
    await session.query('SELECT pg_advisory_unlock($1::bigint)', [this.#options.key]).catch(() => {})
    // Standbys LISTEN on the wake-up channel: tell them the lock is free now, not at their next retry.
    await session.query('SELECT pg_notify($1, $2)', [WAKEUP_CHANNEL, `leader released: ${this.#options.nodeId}`]).catch(() => {})
  }

  async describeLeader (): Promise<LeaderInfo | null> {
    const session = await this.#session.get()
    const [row] = await session.query<{ node_id: string, acquired_at: unknown, heartbeat_at: unknown }>(
      `SELECT l.node_id, l.acquired_at, l.heartbeat_at FROM scheduler_leader l
       WHERE l.lock_key = $1 AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid)`,
      [this.#options.key]
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
      const rows = await session.query(
        'UPDATE scheduler_leader SET heartbeat_at = now() WHERE lock_key = $1 AND backend_pid = pg_backend_pid() RETURNING 1',
        [this.#options.key]
      )
      if (rows.length === 0) this.#lose(new Error('another node took over leadership (this leader\'s heartbeat had gone stale)'))
    } catch (error) {
      this.#lose(error as Error)
    }
  }

  /**
   * When the holder's heartbeat is older than `staleMs`, terminates its backend so its session
   * lock is freed; the next try takes it. Only the backend that PostgreSQL shows holding the lock,
   * and only when the heartbeat row names that same backend.
   */
  async #fenceStaleHolder (): Promise<void> {
    const session = await this.#session.get()
    const [stale] = await session.query<{ node_id: string, backend_pid: number, age_ms: number }>(
      `SELECT l.node_id, l.backend_pid, (extract(epoch FROM now() - l.heartbeat_at) * 1000)::float8 AS age_ms
       FROM scheduler_leader l
       JOIN pg_locks k ON k.pid = l.backend_pid AND k.locktype = 'advisory' AND k.granted
         AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((k.classid::bigint << 32) | k.objid::bigint) = l.lock_key
       WHERE l.lock_key = $1 AND l.heartbeat_at < now() - make_interval(secs => $2 / 1000.0)`,
      [this.#options.key, this.#options.staleMs]
    )
    if (stale === undefined) return
    await session.query('SELECT pg_terminate_backend($1)', [stale.backend_pid])
    this.#options.onFenced?.({ nodeId: stale.node_id, backendPid: stale.backend_pid, heartbeatAgeMs: Math.round(stale.age_ms) })
  }

  /**
   * Gives leadership up on purpose: unlocks and NOTIFYs the standbys (who LISTEN) so one takes
   * over at once, then drops the connection like any loss. The leader row is left as it is (a
   * hung claim may still hold it `FOR SHARE`); the standby overwrites it.
   */
  async #stepDown (session: SqlSession, reason: Error): Promise<void> {
    await session.query('SELECT pg_advisory_unlock($1::bigint), pg_notify($2, $3)',
      [this.#options.key, WAKEUP_CHANNEL, `leader stepped down: ${this.#options.nodeId}`]).catch(() => {})
    this.#lose(reason)
  }

  /** Gives up leadership: the connection is dropped too, so the session lock cannot linger. */
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
