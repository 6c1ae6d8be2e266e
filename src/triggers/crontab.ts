/**
 * Crontab expressions (Vixie cron, `man 5 crontab`), parsed and validated by cron-parser 5 and
 * compiled to a {@link CalendarSpec}; fire times come from `wall-clock-schedule.ts`, not from
 * cron-parser's iterator (which handles a 30-minute DST shift wrongly and allocates per step).
 *
 * Accepted: 5 fields (`minute hour day-of-month month day-of-week`) or 6 (`second` first);
 * numbers, ranges, steps, lists, month and weekday names (day-of-week 0 or 7 = Sunday), `?`,
 * `L` (last day of the month), `nL` in day-of-week (`5L`: last Friday), `n#k` (`fri#3`: third
 * Friday), and the macros `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
 * `@hourly`. Refused: `@reboot` (not a time), cron-parser's `H` (a random value: the schedule
 * would change on every load), 7 fields.
 *
 * Day matching is Vixie's: when both day-of-month and day-of-week are restricted (neither starts
 * with `*` or `?`), a day matches when either does; otherwise both must (`0 0 *​/2 * mon`: odd
 * days that are Mondays, as Vixie cron does, where cron-parser would take either).
 */
import { CronExpressionParser } from 'cron-parser'
import { type CalendarSpec, type NextTable, nextTable } from './calendar-spec.js'
import { weekdayOf } from './civil.js'
import { refuse, show } from './json.js'

/** Vixie cron's macros (`@reboot` aside), as 5-field expressions. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *'
}

const HASH_PATTERN = /(^|[,/-])H/

/** Compiled crontab; see the module comment. */
class CrontabSpec implements CalendarSpec {
  readonly years = null
  constructor (
    readonly months: NextTable,
    /** Allowed days of the month, 1-31. */
    private readonly days: boolean[],
    private readonly lastDay: boolean,
    /** Allowed weekdays, 0 = Sunday. */
    private readonly weekdays: boolean[],
    /** `#k`: the weekdays only match as the k-th of their month (1-5); 0 for no constraint. */
    private readonly nth: number,
    /** `nL`: weekdays that match as the last of their month. */
    private readonly lastWeekdays: boolean[],
    /** Vixie: day-of-month or day-of-week starts with `*`: both must match, else either. */
    private readonly bothMustMatch: boolean,
    readonly hours: NextTable,
    readonly minutes: NextTable,
    readonly seconds: NextTable,
    readonly everyHour: boolean
  ) {}

  matchesDay (_year: number, _month: number, day: number, dayNumber: number, monthLength: number): boolean {
    const dayOfMonth = this.days[day] === true || (this.lastDay && day === monthLength)
    const weekday = weekdayOf(dayNumber)
    const dayOfWeek = (this.weekdays[weekday] === true && (this.nth === 0 || Math.ceil(day / 7) === this.nth)) ||
      (this.lastWeekdays[weekday] === true && day + 7 > monthLength)
    return this.bothMustMatch ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
  }
}

/**
 * Compiles a crontab expression (see the module comment) found at `path` (`expression`).
 * @throws InvalidTriggerError at `path` for an empty or malformed expression, a wrong number of
 *   fields, an out-of-range value or an unknown macro, with cron-parser's reason
 */
export function compileCrontab (expression: unknown, path: string): CalendarSpec {
  if (typeof expression !== 'string' || expression.trim() === '') {
    refuse(path, `expected a crontab expression such as '30 9 * * mon-fri' (5 fields, or 6 with seconds first), got ${show(expression)}`)
  }
  const text = expression.trim()
  const parts = crontabFields(text, path)
  if (parts.length !== 5 && parts.length !== 6) {
    refuse(path, `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got ${parts.length} in ${show(text)}`)
  }
  if (parts.some((part) => HASH_PATTERN.test(part))) {
    refuse(path, `'H' (a hashed, random value) is not supported in ${show(text)}: the schedule would change whenever it is loaded; write the values out`)
  }
  parts[parts.length - 1] = sundayEndsRange(parts[parts.length - 1]!)
  let fields
  try {
    fields = CronExpressionParser.parse(parts.join(' ')).fields
  } catch (error) {
    const reason = (error as Error).message
    refuse(path, /explicit day of month/i.test(reason)
      ? `${show(text)} can never fire: no month in it has that day of the month (for example 30 February)`
      : `cannot read ${show(text)}: ${reason}`)
  }
  const dayOfMonthText = parts[parts.length - 3]!
  const dayOfWeekText = parts[parts.length - 1]!
  const days = new Array<boolean>(32).fill(false)
  let lastDay = false
  for (const value of fields.dayOfMonth.values) {
    if (value === 'L') lastDay = true
    else days[value] = true
  }
  const weekdays = new Array<boolean>(7).fill(false)
  const lastWeekdays = new Array<boolean>(7).fill(false)
  for (const value of fields.dayOfWeek.values as ReadonlyArray<number | string>) {
    if (typeof value === 'number') weekdays[value % 7] = true
    else lastWeekdays[Number.parseInt(value, 10) % 7] = true
  }
  return new CrontabSpec(
    nextTable(flags(fields.month.values, 12), 1, 12),
    days,
    lastDay,
    weekdays,
    fields.dayOfWeek.nthDay,
    lastWeekdays,
    isStarField(dayOfMonthText) || isStarField(dayOfWeekText),
    nextTable(flags(fields.hour.values, 23), 0, 23),
    nextTable(flags(fields.minute.values, 59), 0, 59),
    nextTable(flags(fields.second.values, 59), 0, 59),
    fields.hour.values.length === 24
  )
}

/**
 * The fields of a crontab expression, macros expanded (`@daily` → `['0', '0', '*', '*', '*']`).
 * @throws InvalidTriggerError at `path` for an unknown macro
 */
export function crontabFields (text: string, path: string): string[] {
  if (!text.startsWith('@')) return text.split(/\s+/)
  const macro = MACROS[text.toLowerCase()]
  if (macro === undefined) {
    refuse(path, `unknown macro ${show(text)}${text.toLowerCase() === '@reboot' ? ' (it names no time; use a date trigger instead)' : ''}; use one of ${Object.keys(MACROS).join(', ')}`)
  }
  return macro.split(' ')
}

/**
 * A day-of-week range ending in Sunday (`mon-sun`, `fri-sun/2`) reads `sun` as 7, as cronie and
 * croniter do; cron-parser alone reads it as 0 and refuses the range as backwards.
 */
export function sundayEndsRange (dayOfWeek: string): string {
  return dayOfWeek.replace(/-sun(?=$|[/,])/gi, '-7')
}

/** Vixie cron: a day field starting with `*` or `?` leaves the other day field alone in charge. */
export function isStarField (field: string): boolean {
  return field.startsWith('*') || field.startsWith('?')
}

function flags (values: readonly number[], max: number): boolean[] {
  const allowed = new Array<boolean>(max + 1).fill(false)
  for (const value of values) allowed[value] = true
  return allowed
}
