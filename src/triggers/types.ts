/**
 * Trigger JSON: the stored, serialisable description of when a job fires (DESIGN.md, "Trigger JSON").
 *
 * Terms: a *fire time* is one scheduled instant; a trigger computes fire times and does no I/O.
 * Dates (`startDate`, `endDate`, `runDate`) are ISO-8601 strings with an offset
 * (`2026-11-01T00:00:00Z`), or wall-clock times (`2026-11-01 00:00:00`) read in `timezone`.
 * `timezone` is an IANA zone name (`Asia/Shanghai`), default `UTC`.
 */

/**
 * Version of the trigger JSON shape written by `toJSON()`. `createTrigger` reads JSON without a
 * `version` as this version and refuses any other value (a stored job with such a trigger is
 * flagged by the scheduler, never guessed at).
 */
export const TRIGGER_JSON_VERSION = 1

/** Keys every trigger type accepts. */
export interface CommonTriggerJson {
  /** Shape version; `toJSON()` writes {@link TRIGGER_JSON_VERSION} on the outermost trigger. */
  version?: typeof TRIGGER_JSON_VERSION
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

/**
 * `interval`: fires every period (sum of the units, in seconds, positive), counted in elapsed time
 * from `startDate`: fire times are `startDate + k * period`. Without `startDate` the trigger has no
 * anchor of its own: `getNextFireTime(null, now)` returns `now`, and the scheduler first fires the
 * job one period after it is added (APScheduler 3), then every period after that.
 */
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
  /** Shape version; see {@link CommonTriggerJson.version}. */
  version?: typeof TRIGGER_JSON_VERSION
  /** Members (at least one); each is any trigger JSON, nesting allowed. */
  triggers: TriggerJson[]
  /** Seconds of random delay per occurrence; members may not set their own. */
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
   * Exceptions, as in APScheduler 3: a `date` trigger returns its `runDate` for a `null` previous
   * fire time even when `runDate` is before `now` (the scheduler's misfire grace time then decides
   * whether it still runs or is recorded as missed); an `interval` without `startDate` returns `now`.
   * An `and` whose members do not agree within its search bound returns `null` (see `and` in `combining.ts`).
   */
  getNextFireTime(previousFireTime: Date | null, now: Date): Date | null
  /** Seconds of random delay allowed per occurrence, or `null` for none. */
  readonly jitterSeconds: number | null
  /** The latest instant the trigger may fire at (`endDate`; for `and`/`or`, from the members), or `null` for none. */
  readonly endDate: Date | null
}
