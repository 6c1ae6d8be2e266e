/**
 * A cron schedule as sets of wall-clock values, and the search for the next matching wall time.
 * Both cron forms compile to a {@link CalendarSpec}: crontab expressions (`crontab.ts`) and
 * APScheduler fields (`cron-fields.ts`); they differ only in how a day matches.
 *
 * Wall times are encoded as in `civil.ts` (milliseconds of `Date.UTC(...)`, whole seconds).
 */
import { civilFromDays, DAY_MS, daysFromCivil, daysInMonth } from './civil.js'
import { MAX_YEAR, MIN_YEAR } from './dates.js'

/**
 * Next-value table of one field: `table[v]` is the smallest allowed value ≥ `v`, or -1 when none;
 * the entry after the field's maximum is always -1 (an overflowed value carries into the next field).
 */
export type NextTable = Int8Array

/** Builds the {@link NextTable} of a field whose values run `min..max`, allowed where `allowed[v]` is true. */
export function nextTable (allowed: ArrayLike<boolean>, min: number, max: number): NextTable {
  const table = new Int8Array(max + 2).fill(-1)
  let next = -1
  for (let value = max; value >= min; value--) {
    if (allowed[value] === true) next = value
    table[value] = next
  }
  return table
}

/** Allowed years; `next(y)` is the first allowed year ≥ `y` or -1, `last` the largest allowed year. */
export interface YearSet {
  next(year: number): number
  readonly last: number
}

/** A cron schedule on the wall clock. */
export interface CalendarSpec {
  /** Allowed years, or `null` for every year (the schedule then repeats every 400 years). */
  readonly years: YearSet | null
  /** Months 1-12. */
  readonly months: NextTable
  /**
   * Whether a date matches the day fields. `dayNumber` is the day's number (`civil.ts`),
   * `monthLength` the number of days in its month.
   */
  matchesDay(year: number, month: number, day: number, dayNumber: number, monthLength: number): boolean
  /** Hours 0-23. */
  readonly hours: NextTable
  /** Minutes 0-59. */
  readonly minutes: NextTable
  /** Seconds 0-59. */
  readonly seconds: NextTable
  /**
   * True when every hour is allowed (hour `*`): in a repeated hour (DST fall back) the schedule
   * fires at every real occurrence; otherwise only at the first (DESIGN.md, DST).
   */
  readonly everyHour: boolean
}

/** The Gregorian calendar, weekdays and ISO weeks included, repeats every 400 years (146 097 days = 20 871 weeks). */
const CYCLE_YEARS = 400

const scratch = new Int32Array(3)

/**
 * The first wall time ≥ `wall` (rounded up to a whole second) that `spec` allows, or `null` when
 * there is none up to year 9999 or, for every-year specs, within one 400-year cycle (then there is
 * none at all). Work is bounded: at most one pass over the days of the months the spec allows.
 */
export function nextWallTime (spec: CalendarSpec, wall: number): number | null {
  const dayNumber = Math.floor(wall / DAY_MS)
  const secondOfDay = Math.ceil((wall - dayNumber * DAY_MS) / 1000)
  civilFromDays(dayNumber, scratch)
  let year = scratch[0]!
  let month = scratch[1]!
  let day = scratch[2]!
  let hour = Math.floor(secondOfDay / 3600)
  let minute = Math.floor((secondOfDay % 3600) / 60)
  let second = secondOfDay % 60
  if (year < MIN_YEAR) {
    year = MIN_YEAR
    month = day = 1
    hour = minute = second = 0
  }
  const lastYear = spec.years === null ? Math.min(MAX_YEAR, year + CYCLE_YEARS) : spec.years.last
  for (;;) {
    if (spec.years !== null) {
      const nextYear = spec.years.next(year)
      if (nextYear < 0) return null
      if (nextYear !== year) {
        year = nextYear
        month = day = 1
        hour = minute = second = 0
      }
    }
    if (year > lastYear) return null

    const nextMonth = spec.months[month]!
    if (nextMonth < 0) {
      year++
      month = day = 1
      hour = minute = second = 0
      continue
    }
    if (nextMonth !== month) {
      month = nextMonth
      day = 1
      hour = minute = second = 0
    }

    const monthLength = daysInMonth(year, month)
    let candidate = day
    let candidateNumber = daysFromCivil(year, month, day)
    while (candidate <= monthLength && !spec.matchesDay(year, month, candidate, candidateNumber, monthLength)) {
      candidate++
      candidateNumber++
    }
    if (candidate > monthLength) {
      month++
      day = 1
      hour = minute = second = 0
      continue
    }
    if (candidate !== day) {
      day = candidate
      hour = minute = second = 0
    }

    const nextHour = spec.hours[hour]!
    if (nextHour < 0) {
      day++
      hour = minute = second = 0
      continue
    }
    if (nextHour !== hour) {
      hour = nextHour
      minute = second = 0
    }

    const nextMinute = spec.minutes[minute]!
    if (nextMinute < 0) {
      hour++
      minute = second = 0
      continue
    }
    if (nextMinute !== minute) {
      minute = nextMinute
      second = 0
    }

    const nextSecond = spec.seconds[second]!
    if (nextSecond < 0) {
      minute++
      second = 0
      continue
    }
    return Date.UTC(year, month - 1, day, hour, minute, nextSecond)
  }
}
