/**
 * How far ahead of their run times the leader claims occurrences (`ClaimOptions.aheadMs`), so a
 * claim is committed, and its runs are waiting in the executor, when they fall due: an
 * occurrence's lag is then the executor's timer, not the claim's round trips (issue #10: 200 ms
 * each way made a claim cycle of seven round trips, 2.8 s, the lag of every occurrence). The
 * same idea as Quartz's `batchTriggerAcquisitionFireAheadTimeWindow`, sized from measurement.
 *
 * The window is twice the slowest of the last loop iterations (from the wake-up to the claim's
 * commit and the next wake-up read), at most {@link MAX_CLAIM_AHEAD_MS}; 0 with a test clock
 * (`clock` option), with a store that does not claim ahead (`JobStore.claimsAhead`: the SQLite
 * store), with `lock: 'none'` (every process plans: claiming at the fire time spreads the runs over
 * them, where the process with the widest window would win every claim), and until the database
 * clock has a reading (runs claimed ahead start by it).
 * Twice, because claims follow one another: a claim's horizon is fixed when it begins, and the
 * occurrences just past it are claimed by the next claim, which commits two cycles later.
 */

/** Most milliseconds an occurrence is claimed before its run time. */
export const MAX_CLAIM_AHEAD_MS = 10_000

/** Claim cycles remembered: the window follows the slowest of them. */
const CYCLES = 8

export class ClaimAhead {
  readonly #cyclesMs: number[] = []
  readonly #enabled: boolean

  /** `enabled`: false with a test clock (time is driven by the test), a store that cannot claim ahead, or `lock: 'none'`. */
  constructor (enabled: boolean) {
    this.#enabled = enabled
  }

  /** Records one claim cycle's duration, milliseconds. */
  observe (cycleMs: number): void {
    if (!Number.isFinite(cycleMs) || cycleMs < 0) return
    this.#cyclesMs.push(cycleMs)
    if (this.#cyclesMs.length > CYCLES) this.#cyclesMs.shift()
  }

  /** Milliseconds to claim ahead now. */
  windowMs (clockKnown: boolean): number {
    if (!this.#enabled || !clockKnown || this.#cyclesMs.length === 0) return 0
    return Math.min(MAX_CLAIM_AHEAD_MS, Math.ceil(2 * Math.max(...this.#cyclesMs)))
  }
}
