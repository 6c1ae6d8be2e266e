/**
 * The leader lock port: decides which process runs the scheduling loop, so the others stay idle
 * and the database is not hammered. Correctness never depends on it (the claim transaction and
 * the `(job_id, run_time)` unique key do), so a lost or doubled lock costs load, not duplicates.
 */
export type LockKind = 'advisory' | 'file' | 'none'

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
}
