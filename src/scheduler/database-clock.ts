/**
 * The database's clock as this process can tell it, for starting occurrences claimed ahead
 * (`ClaimPlan.ahead`) at their run times: fire times are on the database clock (claims compare
 * them with `now()`), and the process clock may be set differently.
 *
 * Each reading pairs a database time with the `performance.now()` interval of the round trip
 * that brought it. The database read its clock somewhere in that interval, so the process's
 * monotonic time plus `dbTime − receivedAt` is not ahead of the database clock: an occurrence
 * started at that estimate does not start before its run time by the database's account, and at
 * most one round trip after it. The tightest of the recent readings (the fastest round trip) is
 * used; readings older than {@link READING_MAX_AGE_MS} are dropped, so the drift between the
 * monotonic clock and the database's wall clock (NTP slews at most 500 ppm: 15 ms in 30 s), or a
 * step of the database clock, cannot make the estimate early by more than that.
 */

/** Readings kept: the estimate uses the tightest of the last this many. */
const READINGS = 16
/** Milliseconds a reading is used for. */
export const READING_MAX_AGE_MS = 30_000

export class DatabaseClock {
  /** Lower bounds of `database time − performance.now()` and when they were read (milliseconds), newest last. */
  #readings: Array<{ offset: number, at: number }> = []
  readonly #fixed: (() => Date) | null

  /** `clock`: a clock that replaces the database's (tests); readings are then ignored. */
  constructor (clock: (() => Date) | null = null) {
    this.#fixed = clock
  }

  /**
   * Records a database time read by a statement sent at `sentAt` and answered at `receivedAt`
   * (both `performance.now()` milliseconds).
   */
  observe (databaseTime: Date, sentAt: number, receivedAt: number): void {
    if (!(receivedAt >= sentAt)) return
    this.#readings.push({ offset: databaseTime.getTime() - receivedAt, at: receivedAt })
    if (this.#readings.length > READINGS) this.#readings.shift()
  }

  /** Whether the estimate can be used: a test clock, or a recent reading. */
  get known (): boolean {
    return this.#fixed !== null || this.#fresh().length > 0
  }

  #fresh (): Array<{ offset: number, at: number }> {
    const oldest = performance.now() - READING_MAX_AGE_MS
    this.#readings = this.#readings.filter((reading) => reading.at >= oldest)
    return this.#readings
  }

  /**
   * Milliseconds until the database clock reaches `at` (0 when it has), by the estimate above;
   * null without a recent reading.
   */
  untilMs (at: Date): number | null {
    if (this.#fixed !== null) return Math.max(0, at.getTime() - this.#fixed().getTime())
    const readings = this.#fresh()
    if (readings.length === 0) return null
    const now = performance.now() + Math.max(...readings.map((reading) => reading.offset))
    return Math.max(0, at.getTime() - now)
  }
}
