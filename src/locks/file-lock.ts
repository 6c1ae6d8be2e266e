/**
 * `lock: 'file'`: an exclusive lock file (created with `O_EXCL`) holding the owner's pid, for
 * PGlite or single-host deployments. A lock file whose pid no longer runs is stale and is taken over.
 * The lock belongs to a process: a file this process already holds (for instance through
 * `lockEmbeddedDatabase` before the ORM opened the data directory) counts as held, and only the
 * instance that created the file removes it.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs'
import type { LeaderInfo, LeaderLock } from './leader-lock.js'

export class FileLock implements LeaderLock {
  readonly kind = 'file' as const
  readonly path: string
  readonly #owner: string
  #held = false
  #created = false

  /** `path`: the lock file; `owner`: a description written into it (node id). */
  constructor (path: string, owner: string) {
    this.path = path
    this.#owner = owner
  }

  get held (): boolean {
    return this.#held
  }

  async tryAcquire (): Promise<boolean> {
    if (this.#held) return true
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, 'wx')
        writeSync(fd, JSON.stringify({ pid: process.pid, owner: this.#owner }))
        closeSync(fd)
        this.#held = true
        this.#created = true
        return true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        const holder = this.holder()
        if (holder?.pid === process.pid) {
          this.#held = true
          return true
        }
        if (isAlive(holder?.pid)) return false
        unlinkSync(this.path) // stale: its process is gone
      }
    }
    return false
  }

  /** The current holder as written in the file, or null when there is none or it is unreadable. */
  holder (): { pid: number, owner: string } | null {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as { pid: number, owner: string }
    } catch {
      return null
    }
  }

  onLost (): void {}

  async describeLeader (): Promise<LeaderInfo | null> {
    // Held here (perhaps through a file the host created first): the leader is this node.
    if (this.#held) return { nodeId: this.#owner, acquiredAt: null, heartbeatAt: null }
    const holder = this.holder()
    return holder === null || !isAlive(holder.pid) ? null : { nodeId: holder.owner, acquiredAt: null, heartbeatAt: null }
  }

  async release (): Promise<void> {
    if (!this.#held) return
    this.#held = false
    if (this.#created && this.holder()?.pid === process.pid) {
      this.#created = false
      try { unlinkSync(this.path) } catch {}
    }
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
