/**
 * Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), allocation free.
 *
 * A *wall time* is a local date and time with no zone, encoded as milliseconds the way
 * `Date.UTC(year, month - 1, day, hour, minute, second)` encodes it; `zone.ts` maps wall times
 * to instants. Months are 1-12, weekdays 0-6 with 0 = Sunday (JavaScript `getUTCDay()`).
 *
 * Algorithms: Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms" (days_from_civil,
 * civil_from_days); ISO 8601 week numbering (the week with the year's first Thursday is week 1).
 */

/** Milliseconds in one (UTC) day. */
export const DAY_MS = 86_400_000

/** Day number (days since 1970-01-01) of a civil date; `day` may exceed the month length by a few days. */
export function daysFromCivil (year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const shiftedMonth = month > 2 ? month - 3 : month + 9
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/**
 * Writes the civil date of a day number into `out` as `[year, month, day]` (reusing the caller's
 * array keeps hot paths allocation free).
 */
export function civilFromDays (dayNumber: number, out: Int32Array): void {
  const z = dayNumber + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153)
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
  out[0] = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  out[1] = month
  out[2] = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1
}

/** Whether `year` has a 29 February. */
export function isLeapYear (year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

const MONTH_LENGTHS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Number of days in `month` (1-12) of `year`. */
export function daysInMonth (year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_LENGTHS[month]!
}

/** Weekday of a day number, 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOf (dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7
}

/** ISO 8601 week number (1-53) of a day number. */
export function isoWeekOf (dayNumber: number, year: number): number {
  const thursday = dayNumber - ((weekdayOf(dayNumber) + 6) % 7) + 3
  let isoYear = year
  if (thursday < daysFromCivil(year, 1, 1)) isoYear = year - 1
  else if (thursday >= daysFromCivil(year + 1, 1, 1)) isoYear = year + 1
  return Math.floor((thursday - daysFromCivil(isoYear, 1, 1)) / 7) + 1
}
