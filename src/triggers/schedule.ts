/**
 * The compiled form of a trigger JSON: pure arithmetic on epoch milliseconds, allocation free,
 * wrapped by `create.ts` into the public `Trigger`.
 */
import type { TriggerJson } from './types.js'

/** Work allowance shared by nested `and` triggers during one query (see `combining.ts`). */
export interface SearchBudget {
  /** Agreement rounds left; a search that runs out answers `null`. */
  rounds: number
}

/** A compiled trigger. All instants are epoch milliseconds. */
export interface Schedule {
  /**
   * Top-level semantics of `Trigger.getNextFireTime`: with `previous`, the next fire time strictly
   * after it (interval: `previous + period`); with `null`, the first at or after `now` and
   * `startDate` (exceptions: `date`, unanchored `interval`, see `types.ts`); `null` for none.
   */
  next(previous: number | null, now: number): number | null
  /**
   * Member semantics for `and` / `or`: the first fire time at or after `from` and `startDate`,
   * not after `endDate`, or `null`.
   */
  firstAtOrAfter(from: number, budget: SearchBudget | null): number | null
  /** `endDate` as epoch ms, `Infinity` when unbounded. */
  readonly endMs: number
  /** The trigger JSON, normalised (`timezone` filled in), without `version`. */
  readonly json: TriggerJson
}
