/**
 * The database's clock as this process can tell it, for starting occurrences claimed ahead
 * (`ClaimPlan.ahead`) at their run times: fire times are on the database clock (claims compare
 * them with `now()`), and the process clock may be set differently.
 *
 * Each reading pairs a database time with the `performance.now()` interval of the round trip
 * that brought it. The database read its clock somewhere in that interval, so the process's
 * monotonic time plus `dbTime − receivedAt` is never ahead of the database clock: an occurrence
 * started at that estimate never starts before its run time by the database's account, and at
 * most one round trip after it. The tightest of the last readings (the fastest round trip) is kept.
 */

/** Readings kept: the estimate uses the tightest of the last this many. */
const READINGS = 16

export class DatabaseClock {
  /** Lower bounds of `database time − performance.now()`, milliseconds, newest last. */
  readonly #offsets: number[] = []
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
    this.#offsets.push(databaseTime.getTime() - receivedAt)
    if (this.#offsets.length > READINGS) this.#offsets.shift()
  }

  /** Whether the estimate can be used: a test clock, or at least one reading. */
  get known (): boolean {
    return this.#fixed !== null || this.#offsets.length > 0
  }

  /**
   * Milliseconds until the database clock reaches `at` (0 when it has), by the estimate above;
   * null before the first reading.
   */
  untilMs (at: Date): number | null {
    if (this.#fixed !== null) return Math.max(0, at.getTime() - this.#fixed().getTime())
    if (this.#offsets.length === 0) return null
    const now = performance.now() + Math.max(...this.#offsets)
    return Math.max(0, at.getTime() - now)
  }
}
