/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"),
 * used by every loop that retries database faults.
 */
export class Backoff {
  readonly #baseMs: number
  readonly #maxMs: number
  readonly #random: () => number
  #attempt = 0

  constructor (options: { baseMs: number, maxMs: number, random?: () => number }) {
    this.#baseMs = options.baseMs
    this.#maxMs = options.maxMs
    this.#random = options.random ?? Math.random
  }

  /** Milliseconds to wait before the next try: random in [base/2, min(max, base·2^attempt)]. */
  next (): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** this.#attempt)
    this.#attempt = Math.min(this.#attempt + 1, 30)
    return Math.round(this.#baseMs / 2 + this.#random() * Math.max(0, ceiling - this.#baseMs / 2))
  }

  reset (): void {
    this.#attempt = 0
  }
}
