/**
 * The scheduler's own database connection, outside the host's pool: it holds the advisory leader
 * lock and LISTENs for wake-up notifications (DESIGN.md). Opened on first use; when it drops,
 * every `onReconnectNeeded` callback runs once and the next `get()` opens a new one (and LISTENs again).
 */
import type { SessionOptions, SqlClient, SqlSession } from '../sql/sql-client.js'
import { WAKEUP_CHANNEL } from '../stores/wakeup.js'

export { WAKEUP_CHANNEL }

export class DedicatedSession {
  readonly #sql: SqlClient
  readonly #onNotify: (payload: string) => void
  readonly #options: SessionOptions
  readonly #lostCallbacks: Array<(reason: Error) => void> = []
  #session: SqlSession | null = null
  #opening: Promise<SqlSession> | null = null
  #closed = false

  /** `options`: how the connection is made (URL, connect timeout, keepalive, statement timeout). */
  constructor (sql: SqlClient, onNotify: (payload: string) => void, options: SessionOptions = {}) {
    this.#sql = sql
    this.#onNotify = onNotify
    this.#options = options
  }

  /** The open session, or null when none is open right now. */
  get current (): SqlSession | null {
    return this.#session
  }

  /** Returns the open session, opening (and LISTENing on) a new one when needed. */
  async get (): Promise<SqlSession> {
    if (this.#session !== null) return this.#session
    this.#opening ??= this.#open().finally(() => { this.#opening = null })
    return this.#opening
  }

  onReconnectNeeded (callback: (reason: Error) => void): void {
    this.#lostCallbacks.push(callback)
  }

  /** Closes the connection for good. */
  async close (): Promise<void> {
    this.#closed = true
    await this.reset()
  }

  /** Drops the current connection (and what it held); the next `get()` opens a new one. */
  async reset (): Promise<void> {
    const session = this.#session
    this.#session = null
    await session?.close().catch(() => {})
  }

  async #open (): Promise<SqlSession> {
    if (this.#closed) throw new Error('the scheduler is shut down')
    const session = await this.#sql.openSession(this.#options)
    session.onEnd((error) => {
      if (this.#session !== session) return
      this.#session = null
      if (this.#closed) return
      const reason = error ?? new Error('the scheduler\'s database connection closed')
      for (const callback of this.#lostCallbacks) callback(reason)
    })
    await session.listen(WAKEUP_CHANNEL, this.#onNotify)
    this.#session = session
    return session
  }
}
