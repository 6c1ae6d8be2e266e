/**
 * `lock: 'file'`: an exclusive lock file for PGlite or single-host deployments, taken atomically.
 *
 * - Taking it is one exclusive create (`O_CREAT | O_EXCL`, flag `wx`) of a file holding the
 *   holder's pid, host name, a random token of this process, and an owner text. Whoever's create
 *   succeeds holds it; the token read back afterwards confirms it.
 * - The lock belongs to a process, told by its token, never by its pid (two containers both run
 *   as pid 1): a file carrying this process's token counts as held (for instance taken through
 *   `lockEmbeddedDatabase` before the ORM opened the data directory); only the instance that
 *   created the file removes it.
 * - A stale file (its holder is gone) is removed only under a break marker: a directory named
 *   after the stale file's token, created with `mkdir` (atomic: one process gets it). Under the
 *   marker the file is re-read and unlinked only if it still carries that token; then every
 *   contender races again with an exclusive create. So a process that saw a stale file late never
 *   unlinks the fresh file of the process that replaced it ("unlink whatever looks stale" lets
 *   two processes both win).
 * - Stale means: on this host, the holder's pid no longer runs; held from another host (a shared
 *   volume), or written by a former process with this very pid, the file's modification time is
 *   older than `FILE_LOCK_STALE_MS`. The holder touches the file every third of that, and learns
 *   it lost the lock (`onLost`) when the file no longer carries its token.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import type { LeaderInfo, LeaderLock } from './leader-lock.js'

/** Milliseconds without a touch after which a lock file whose holder cannot be probed is stale. */
export const FILE_LOCK_STALE_MS = 30_000

/** This process's token: every `FileLock` of the process shares it (the lock is per process). */
const PROCESS_TOKEN = randomBytes(16).toString('hex')

/** What a lock file holds. `host` and `token` are absent in files written by older versions. */
export interface FileLockHolder {
  pid: number
  owner: string
  host?: string
  token?: string
}

export class FileLock implements LeaderLock {
  readonly kind = 'file' as const
  readonly path: string
  readonly #owner: string
  readonly #lostCallbacks: Array<(reason: Error) => void> = []
  #held = false
  #created = false
  #touch: NodeJS.Timeout | undefined

  /** `path`: the lock file; `owner`: a description written into it (node id). */
  constructor (path: string, owner: string) {
    this.path = path
    this.#owner = owner
  }

  get held (): boolean {
    return this.#held
  }

  /** Tries once (breaking at most one stale file on the way); never waits. */
  async tryAcquire (): Promise<boolean> {
    if (this.#held) return true
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#createExclusive()) {
        if (this.holder()?.token !== PROCESS_TOKEN) return false
        this.#held = true
        this.#created = true
        this.#startTouching()
        return true
      }
      const holder = this.holder()
      if (holder?.token === PROCESS_TOKEN) {
        this.#held = true
        return true
      }
      if (!this.#isStale(holder)) return false
      this.#breakStale(holder?.token)
    }
    return false
  }

  /** The current holder as written in the file, or null when there is none or it is unreadable. */
  holder (): FileLockHolder | null {
    try {
      const holder = JSON.parse(readFileSync(this.path, 'utf8')) as FileLockHolder
      return typeof holder === 'object' && holder !== null ? holder : null
    } catch {
      return null
    }
  }

  /** True when the file carries this process's token (this process holds the lock, through any instance). */
  heldByThisProcess (): boolean {
    return this.holder()?.token === PROCESS_TOKEN
  }

  /** True when the file's holder is a live process (by pid on this host, by its touches elsewhere). */
  holderAlive (): boolean {
    return this.holder() !== null && !this.#isStale(this.holder())
  }

  onLost (callback: (reason: Error) => void): void {
    this.#lostCallbacks.push(callback)
  }

  async describeLeader (): Promise<LeaderInfo | null> {
    // Held here (perhaps through a file the host created first): the leader is this node.
    if (this.#held) return { nodeId: this.#owner, acquiredAt: null, heartbeatAt: null }
    const holder = this.holder()
    return holder === null || this.#isStale(holder) ? null : { nodeId: holder.owner, acquiredAt: null, heartbeatAt: null }
  }

  async release (): Promise<void> {
    if (!this.#held) return
    this.#held = false
    this.#stopTouching()
    if (this.#created && this.holder()?.token === PROCESS_TOKEN) {
      this.#created = false
      try { unlinkSync(this.path) } catch {}
    }
  }

  /** One exclusive create with this process's holder record; false when the file exists. */
  #createExclusive (): boolean {
    let fd: number
    try {
      fd = openSync(this.path, 'wx')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw error
    }
    try {
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), token: PROCESS_TOKEN, owner: this.#owner }))
    } finally {
      closeSync(fd)
    }
    return true
  }

  /**
   * Whether the file's holder is gone. An unreadable file (a creator between its create and its
   * write, or garbage) is stale only once untouched for `FILE_LOCK_STALE_MS`.
   */
  #isStale (holder: FileLockHolder | null): boolean {
    if (holder !== null && (holder.host === undefined || holder.host === hostname()) && holder.pid !== process.pid) {
      return !isAlive(holder.pid)
    }
    const touchedAt = modifiedAt(this.path)
    return touchedAt !== null && Date.now() - touchedAt > FILE_LOCK_STALE_MS
  }

  /** Removes the stale file carrying `token`, under that token's break marker (see the module comment). */
  #breakStale (token: string | undefined): void {
    const marker = `${this.path}.${(token ?? 'none').replace(/[^0-9a-z]/gi, '')}.break`
    try {
      mkdirSync(marker)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      // Another process is breaking it now; a marker left by a breaker that died is cleared late.
      const markedAt = modifiedAt(marker)
      if (markedAt !== null && Date.now() - markedAt > FILE_LOCK_STALE_MS) try { rmdirSync(marker) } catch {}
      return
    }
    try {
      if (this.holder()?.token === token) try { unlinkSync(this.path) } catch {}
    } finally {
      try { rmdirSync(marker) } catch {}
    }
  }

  /** Keeps the file's modification time fresh (proof of life for other hosts) and checks it is still ours. */
  #startTouching (): void {
    this.#touch = setInterval(() => {
      if (this.holder()?.token !== PROCESS_TOKEN) {
        this.#held = false
        this.#created = false
        this.#stopTouching()
        const reason = new Error(`the lock file ${this.path} no longer carries this process's token (removed or taken over)`)
        for (const callback of this.#lostCallbacks) callback(reason)
        return
      }
      const now = new Date()
      try { utimesSync(this.path, now, now) } catch {}
    }, Math.floor(FILE_LOCK_STALE_MS / 3))
    this.#touch.unref()
  }

  #stopTouching (): void {
    clearInterval(this.#touch)
    this.#touch = undefined
  }
}

function modifiedAt (path: string): number | null {
  try {
    return statSync(path).mtimeMs
  } catch {
    return null
  }
}

/** True when a process with this pid runs (signal 0 probes without signalling). */
export function isAlive (pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid)) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
