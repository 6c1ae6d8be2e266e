/**
 * The leader lock port: decides which process runs the scheduling loop, so the others stay idle
 * and the database is not hammered. Correctness never depends on it (the claim transaction and
 * the `(job_id, run_time)` unique key do), so a lost or doubled lock costs load, not duplicates.
 */
import type { LeaderFence } from '../stores/job-store.js'

export type LockKind = 'advisory' | 'file' | 'none'

/** Who leads, as far as the lock can tell. */
export interface LeaderInfo {
  nodeId: string
  acquiredAt: Date | null
  /** Last proof of life (advisory lock heartbeat); null where the lock has none. */
  heartbeatAt: Date | null
}

export interface LeaderLock {
  readonly kind: LockKind
  /** Tries once, without waiting. Resolves true when this process holds the lock afterwards. */
  tryAcquire(): Promise<boolean>
  /** True while the lock is held. */
  readonly held: boolean
  /** `callback` runs whenever a held lock is lost without `release()` (its connection dropped). */
  onLost(callback: (reason: Error) => void): void
  /** Releases the lock if held; idempotent; never throws. */
  release(): Promise<void>
  /** The current leader, or null when nobody holds the lock (`none`: every process leads, so null). */
  describeLeader(): Promise<LeaderInfo | null>
  /** For the advisory lock: the claim transaction's fence (claims commit only while this node leads). */
  readonly fence?: LeaderFence
}
