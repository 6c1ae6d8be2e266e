/**
 * `interval` triggers (APScheduler 3 `IntervalTrigger`): every `weeks + days + hours + minutes +
 * seconds` (each ≥ 0, fractions allowed, sum > 0), in elapsed time, so a daily interval moves by
 * one hour on the wall clock across a DST change. Fire times are `startDate + k * period`.
 *
 * `startDate` is optional at the top level: a trigger created without it keeps none in `toJSON()`
 * and answers `getNextFireTime(null, now) = now`; the scheduler then schedules the first fire one
 * period after the job is added (APScheduler 3) and chains `previous + period` from there, so the
 * stored JSON stays what the caller wrote. Inside `and` / `or` it is required (nothing to anchor on).
 */
import { COMMON_KEYS, readCommon } from './common.js'
import { joinPath, readNonNegativeNumber, refuse, refuseUnknownKeys } from './json.js'
import type { Schedule } from './schedule.js'
import type { IntervalTriggerJson } from './types.js'

/** Seconds per unit key. */
const UNIT_SECONDS = { weeks: 604_800, days: 86_400, hours: 3600, minutes: 60, seconds: 1 } as const
const INTERVAL_KEYS = [...COMMON_KEYS, ...Object.keys(UNIT_SECONDS)]

/** Largest instant a `Date` holds (ECMAScript time value range). */
const MAX_DATE_MS = 8.64e15

class IntervalSchedule implements Schedule {
  constructor (
    /** Period in ms, ≥ 1. */
    private readonly periodMs: number,
    /** `startDate` (the anchor), `-Infinity` when absent. */
    private readonly startMs: number,
    readonly endMs: number,
    readonly json: IntervalTriggerJson
  ) {}

  next (previous: number | null, now: number): number | null {
    if (previous !== null) return this.#bounded(previous + this.periodMs)
    return this.#bounded(this.startMs === -Infinity ? now : this.#firstOnGrid(now))
  }

  firstAtOrAfter (from: number): number | null {
    return this.#bounded(this.#firstOnGrid(from))
  }

  /** The first `startDate + k * period` (k ≥ 0) at or after `from`. */
  #firstOnGrid (from: number): number {
    if (from <= this.startMs) return this.startMs
    return this.startMs + Math.ceil((from - this.startMs) / this.periodMs) * this.periodMs
  }

  #bounded (fire: number): number | null {
    return fire > this.endMs || fire > MAX_DATE_MS ? null : fire
  }
}

/**
 * Compiles an `interval` trigger object found at `path`; `member` is true inside `and` / `or`.
 * @throws InvalidTriggerError for unknown keys, a negative or non-numeric unit, a zero period,
 *   a member without `startDate`, or any problem of the common keys
 */
export function compileInterval (object: Record<string, unknown>, path: string, member: boolean): Schedule {
  refuseUnknownKeys(object, INTERVAL_KEYS, path, "an 'interval' trigger")
  const common = readCommon(object, path)
  const json: IntervalTriggerJson = { type: 'interval' }
  let seconds = 0
  for (const unit of Object.keys(UNIT_SECONDS) as Array<keyof typeof UNIT_SECONDS>) {
    const amount = readNonNegativeNumber(object, unit, path, unit)
    if (amount === undefined) continue
    json[unit] = amount
    seconds += amount * UNIT_SECONDS[unit]
  }
  const periodMs = Math.round(seconds * 1000)
  if (periodMs < 1 || !Number.isFinite(periodMs)) {
    refuse(path, `the period is ${periodMs < 1 ? 'zero' : 'too large'}: give at least one of ${Object.keys(UNIT_SECONDS).join(', ')} with a positive value (for example { "minutes": 5 })`)
  }
  if (member && common.startMs === -Infinity) {
    refuse(joinPath(path, 'startDate'), "an interval inside 'and' / 'or' needs a startDate to anchor its fire times")
  }
  return new IntervalSchedule(periodMs, common.startMs, common.endMs, { ...json, ...common.json })
}
