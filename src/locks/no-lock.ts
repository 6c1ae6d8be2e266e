/**
 * `lock: 'none'`: every process is leader and runs the loop. Exactly-once still holds through the
 * claim transaction and the unique key; this is how executions spread over many nodes.
 */
import type { LeaderLock } from './leader-lock.js'

export class NoLock implements LeaderLock {
  readonly kind = 'none' as const
  #held = false

  get held (): boolean {
    return this.#held
  }

  async tryAcquire (): Promise<boolean> {
    this.#held = true
    return true
  }

  onLost (): void {}

  async release (): Promise<void> {
    this.#held = false
  }

  async describeLeader (): Promise<null> {
    return null
  }
}
