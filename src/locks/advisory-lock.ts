/**
 * `lock: 'advisory'`: a PostgreSQL session-level advisory lock (`pg_try_advisory_lock`, PostgreSQL
 * docs "Advisory Locks") held on a dedicated connection, never a pooled one (a pooled connection
 * would carry the lock to a random borrower). When this process dies its connection closes and
 * PostgreSQL frees the lock, so a standby's next try takes over; when the connection drops, the
 * lock is lost and `onLost` fires at once.
 */
import type { DedicatedSession } from '../scheduler/dedicated-session.js'
import type { LeaderLock } from './leader-lock.js'

/** Default advisory lock key (any 64-bit integer; change it to run two schedulers on one database). */
export const DEFAULT_LEADER_LOCK_KEY = 7_215_830_002

export class AdvisoryLock implements LeaderLock {
  readonly kind = 'advisory' as const
  readonly #session: DedicatedSession
  readonly #key: number
  readonly #lostCallbacks: Array<(reason: Error) => void> = []
  #held = false

  constructor (session: DedicatedSession, key: number = DEFAULT_LEADER_LOCK_KEY) {
    this.#session = session
    this.#key = key
    session.onReconnectNeeded((reason) => {
      if (!this.#held) return
      this.#held = false
      for (const callback of this.#lostCallbacks) callback(reason)
    })
  }

  get held (): boolean {
    return this.#held
  }

  async tryAcquire (): Promise<boolean> {
    if (this.#held) return true
    const session = await this.#session.get()
    const [row] = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.#key])
    this.#held = row?.locked === true
    return this.#held
  }

  onLost (callback: (reason: Error) => void): void {
    this.#lostCallbacks.push(callback)
  }

  async release (): Promise<void> {
    if (!this.#held) return
    this.#held = false
    const session = this.#session.current
    if (session !== null) await session.query('SELECT pg_advisory_unlock($1::bigint)', [this.#key]).catch(() => {})
  }
}
