/**
 * Trigger JSON: the stored, serialisable description of when a job fires (DESIGN.md, "Trigger JSON").
 *
 * Terms: a *fire time* is one scheduled instant; a trigger computes fire times and does no I/O.
 * Dates (`startDate`, `endDate`, `runDate`) are ISO-8601 strings with an offset
 * (`2026-11-01T00:00:00Z`), or wall-clock times (`2026-11-01 00:00:00`) read in `timezone`.
 * `timezone` is an IANA zone name (`Asia/Shanghai`), default `UTC`.
 */

/** Keys every trigger type accepts. */
export interface CommonTriggerJson {
  /** IANA time zone name; default `UTC`. */
  timezone?: string
  /** Earliest possible fire time (inclusive). */
  startDate?: string
  /** Latest possible fire time (inclusive). */
  endDate?: string
  /** Seconds: each occurrence starts after a random delay in [0, jitter]. */
  jitter?: number
}

/** APScheduler-style cron fields (APScheduler 3 `CronTrigger`); values are numbers or field expressions. */
export interface CronFields {
  year?: number | string
  month?: number | string
  day?: number | string
  week?: number | string
  dayOfWeek?: string
  hour?: number | string
  minute?: number | string
  second?: number | string
}

/** `cron`: either a crontab `expression` (5 or 6 fields, Vixie cron semantics) or APScheduler `fields`. */
export interface CronTriggerJson extends CommonTriggerJson {
  type: 'cron'
  expression?: string
  fields?: CronFields
}

/** `interval`: fires every period (sum of the units), counted in elapsed time from `startDate` (default: when the job is added). */
export interface IntervalTriggerJson extends CommonTriggerJson {
  type: 'interval'
  weeks?: number
  days?: number
  hours?: number
  minutes?: number
  seconds?: number
}

/** `date`: fires once at `runDate`. */
export interface DateTriggerJson extends CommonTriggerJson {
  type: 'date'
  runDate: string
}

/** `and` / `or`: combinations of other triggers (APScheduler `AndTrigger` / `OrTrigger`). */
export interface CombiningTriggerJson {
  type: 'and' | 'or'
  triggers: TriggerJson[]
  jitter?: number
}

export type TriggerJson = CronTriggerJson | IntervalTriggerJson | DateTriggerJson | CombiningTriggerJson

/** A parsed, validated trigger. Pure: no I/O, no clock reads. */
export interface Trigger {
  /** The trigger JSON, normalised (defaults filled in) and safe to store. */
  toJSON(): TriggerJson
  /**
   * The next fire time (DESIGN.md): with `previousFireTime`, the next one strictly after it
   * (interval: previous + period); without, the first at or after `now` and not before `startDate`.
   * Returns `null` when there is none (past `endDate`, a `date` trigger already fired).
   */
  getNextFireTime(previousFireTime: Date | null, now: Date): Date | null
  /** Seconds of random delay allowed per occurrence, or `null` for none. */
  readonly jitterSeconds: number | null
}
