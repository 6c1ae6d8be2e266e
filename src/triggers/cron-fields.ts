/**
 * APScheduler 3 `CronTrigger` fields (`apscheduler/triggers/cron/__init__.py`, `fields.py`,
 * `expressions.py`), compiled to a {@link CalendarSpec}. cron-parser cannot express them (ISO
 * weeks, years, `3rd fri` in the day field, day AND weekday).
 *
 * Fields, most significant first, with their ranges: `year` 1970-9999, `month` 1-12 or `jan`-`dec`,
 * `day` 1-31, `week` (ISO week) 1-53, `dayOfWeek` `mon`-`sun` (names only), `hour` 0-23,
 * `minute` 0-59, `second` 0-59. A value is an integer or a string of comma-separated expressions:
 * `*`, `*​/n`, `a`, `a-b`, `a-b/n`, `a/n` (a to the maximum, every n); in `day` also `last` (last day
 * of the month), `1st`..`5th` or `last` followed by a weekday name (`3rd fri`, `last fri`).
 * Steps count from the first value of the range (`*​/5` in `day`: 1, 6, 11, ...).
 *
 * Defaults (APScheduler rule, `CronTrigger.__init__`): fields less significant than the least
 * significant given field take their minimum (`week` and `dayOfWeek`: `*`), the others `*`:
 * `{ hour: 9 }` fires daily at 09:00:00, `{ month: 2, hour: 0 }` every day of February at 00:00:00.
 * All fields must match, `day` and `dayOfWeek` included.
 */
import { type CalendarSpec, type NextTable, nextTable, type YearSet } from './calendar-spec.js'
import { isoWeekOf, weekdayOf } from './civil.js'
import { MAX_YEAR, MIN_YEAR } from './dates.js'
import { joinPath, refuse, show } from './json.js'

/** Field names, most significant first (APScheduler's `FIELD_NAMES`). */
export const FIELD_NAMES = ['year', 'month', 'day', 'week', 'dayOfWeek', 'hour', 'minute', 'second'] as const
/** A field name of APScheduler `fields`. */
export type FieldName = typeof FIELD_NAMES[number]

const RANGES: Record<FieldName, readonly [number, number]> = {
  year: [MIN_YEAR, MAX_YEAR],
  month: [1, 12],
  day: [1, 31],
  week: [1, 53],
  dayOfWeek: [0, 6],
  hour: [0, 23],
  minute: [0, 59],
  second: [0, 59]
}

/** APScheduler's `DEFAULT_VALUES`: what a field after the least significant given one becomes. */
const DEFAULTS: Record<FieldName, string | number> = {
  year: '*', month: 1, day: 1, week: '*', dayOfWeek: '*', hour: 0, minute: 0, second: 0
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
/** APScheduler order: index 0 = Monday. */
const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const POSITIONS = ['1st', '2nd', '3rd', '4th', '5th']
/** Bit of "last <weekday>" in a weekday's position mask; bits 0-4 are 1st-5th. */
const LAST_POSITION_BIT = 1 << 5

const NUMERIC_WEEKDAY = 'numbers are ambiguous for dayOfWeek (cron says 0 = Sunday, APScheduler says 0 = Monday); use names: mon, tue, wed, thu, fri, sat, sun (for example \'mon-fri\')'

const RANGE_PATTERN = /^(?:\*|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:\/(\d+))?$/
const POSITION_PATTERN = /^(1st|2nd|3rd|4th|5th|last)\s+([a-z0-9]+)$/

/** One `first-last/step` expression, in the field's numbering (dayOfWeek: 0 = Monday). */
interface RangeExpression {
  first: number
  last: number
  step: number
}

/** The day field beyond plain numbers. */
interface DayExtras {
  lastDay: boolean
  /** Per weekday (0 = Sunday), bits of the positions `1st`..`5th` and `last`. */
  positions: Uint8Array
}

/** Compiled APScheduler fields; see the module comment. */
class FieldsSpec implements CalendarSpec {
  constructor (
    readonly years: YearSet | null,
    readonly months: NextTable,
    /** Allowed days 1-31, `null` when every day is (and no `last`/position expression restricts it). */
    private readonly days: boolean[] | null,
    private readonly dayExtras: DayExtras,
    /** Allowed ISO weeks 1-53, `null` for every week. */
    private readonly weeks: boolean[] | null,
    /** Allowed weekdays 0 = Sunday .. 6, `null` for every weekday. */
    private readonly weekdays: boolean[] | null,
    readonly hours: NextTable,
    readonly minutes: NextTable,
    readonly seconds: NextTable,
    readonly everyHour: boolean
  ) {}

  matchesDay (year: number, _month: number, day: number, dayNumber: number, monthLength: number): boolean {
    if (this.days !== null && !this.days[day] && !this.#matchesDayExtras(day, dayNumber, monthLength)) return false
    if (this.weeks !== null && !this.weeks[isoWeekOf(dayNumber, year)]) return false
    return this.weekdays === null || this.weekdays[weekdayOf(dayNumber)] === true
  }

  #matchesDayExtras (day: number, dayNumber: number, monthLength: number): boolean {
    if (this.dayExtras.lastDay && day === monthLength) return true
    const positions = this.dayExtras.positions[weekdayOf(dayNumber)]!
    if (positions === 0) return false
    if ((positions & (1 << Math.floor((day - 1) / 7))) !== 0) return true
    return (positions & LAST_POSITION_BIT) !== 0 && day + 7 > monthLength
  }
}

/**
 * Compiles APScheduler `fields` (see the module comment) at `path` (`fields`).
 * @throws InvalidTriggerError naming the field (`fields.hour`) for unknown fields, malformed or
 *   out-of-range expressions, numeric weekdays, or no field at all
 */
export function compileCronFields (fields: Record<string, unknown>, path: string): CalendarSpec {
  const unknown = Object.keys(fields).filter((key) => !(FIELD_NAMES as readonly string[]).includes(key))
  if (unknown.length > 0) {
    refuse(joinPath(path, unknown[0]!), `unknown cron field '${unknown[0]}'; fields are ${FIELD_NAMES.join(', ')}`)
  }
  const given = FIELD_NAMES.filter((name) => fields[name] !== undefined)
  if (given.length === 0) {
    refuse(path, `give at least one of ${FIELD_NAMES.join(', ')} (for example { hour: 9 } for 09:00:00 every day)`)
  }
  const effective = effectiveFieldValues(fields)
  const value = (name: FieldName): unknown => effective[name]

  const years = parseField('year', value('year'), path)
  const dayExtras: DayExtras = { lastDay: false, positions: new Uint8Array(7) }
  const days = parseField('day', value('day'), path, dayExtras)
  const weekdays = allowedValues('dayOfWeek', parseField('dayOfWeek', value('dayOfWeek'), path))
  const hours = allowedValues('hour', parseField('hour', value('hour'), path))
  const dayRestricted = dayExtras.lastDay || dayExtras.positions.some((bits) => bits !== 0) || !coversAll('day', days)
  return new FieldsSpec(
    coversAll('year', years) ? null : yearSet(years),
    nextTable(allowedValues('month', parseField('month', value('month'), path)), 1, 12),
    dayRestricted ? allowedValues('day', days) : null,
    dayExtras,
    nullIfAll('week', parseField('week', value('week'), path)),
    // Stored Monday-first (APScheduler), matched Sunday-first (JavaScript).
    weekdays.every(Boolean) ? null : Array.from({ length: 7 }, (_, sunday0) => weekdays[(sunday0 + 6) % 7]!),
    nextTable(hours, 0, 23),
    nextTable(allowedValues('minute', parseField('minute', value('minute'), path)), 0, 59),
    nextTable(allowedValues('second', parseField('second', value('second'), path)), 0, 59),
    hours.every(Boolean)
  )
}

/**
 * Every field's value after APScheduler's defaults (see the module comment): given fields as
 * given, the others `*` or their default. `fields` must name at least one field.
 */
export function effectiveFieldValues (fields: Readonly<Record<string, unknown>>): Record<FieldName, unknown> {
  let leastSignificant = -1
  FIELD_NAMES.forEach((name, index) => { if (fields[name] !== undefined) leastSignificant = index })
  const values = {} as Record<FieldName, unknown>
  FIELD_NAMES.forEach((name, index) => {
    values[name] = fields[name] !== undefined ? fields[name] : index > leastSignificant ? DEFAULTS[name] : '*'
  })
  return values
}

/** The weekdays a valid `dayOfWeek` value allows, Monday first (APScheduler numbering). */
export function allowedWeekdays (value: unknown): boolean[] {
  return allowedValues('dayOfWeek', parseField('dayOfWeek', value, 'fields'))
}

/** Parses one field's value into range expressions; `day` position/last expressions go to `extras`. */
function parseField (name: FieldName, value: unknown, path: string, extras?: DayExtras): RangeExpression[] {
  const fieldPath = joinPath(path, name)
  const [min, max] = RANGES[name]
  if (typeof value === 'number') {
    if (name === 'dayOfWeek') refuse(fieldPath, NUMERIC_WEEKDAY)
    if (!Number.isInteger(value)) refuse(fieldPath, `expected an integer or an expression string, got ${value}`)
    checkInRange(value, min, max, fieldPath)
    return [{ first: value, last: value, step: 1 }]
  }
  if (typeof value !== 'string' || value.trim() === '') {
    refuse(fieldPath, `expected an integer or an expression string such as '*/5' or '1-5', got ${show(value)}`)
  }
  const ranges: RangeExpression[] = []
  for (const raw of value.toLowerCase().split(',')) {
    const expression = raw.trim()
    if (extras !== undefined && parseDayExtra(expression, extras, fieldPath)) continue
    const match = RANGE_PATTERN.exec(expression)
    if (match === null) {
      refuse(fieldPath, `cannot read ${show(expression)}; expected *, */n, a, a-b, a-b/n or a/n${name === 'day' ? ', last, or a position and a weekday such as \'3rd fri\' or \'last fri\'' : ''}`)
    }
    const [, firstText, lastText, stepText] = match
    const first = firstText === undefined ? min : readValue(name, firstText, fieldPath)
    const last = lastText !== undefined ? readValue(name, lastText, fieldPath) : firstText === undefined || stepText !== undefined ? max : first
    if (last < first) refuse(fieldPath, `range ${show(expression)} runs backwards; write it as a list (for example 'sat,sun,mon') or swap its ends`)
    const step = stepText === undefined ? 1 : Number(stepText)
    if (step < 1) refuse(fieldPath, `step 0 in ${show(expression)}; the step must be a positive integer`)
    if (stepText !== undefined && last > first && step > last - first) {
      refuse(fieldPath, `step ${step} in ${show(expression)} is larger than its range ${first}-${last}`)
    }
    ranges.push({ first, last, step })
  }
  return ranges
}

/** A number or a name (month, weekday) of field `name`, checked against the field's range. */
function readValue (name: FieldName, text: string, fieldPath: string): number {
  if (/^\d+$/.test(text)) {
    if (name === 'dayOfWeek') refuse(fieldPath, NUMERIC_WEEKDAY)
    const value = Number(text)
    checkInRange(value, RANGES[name][0], RANGES[name][1], fieldPath)
    return value
  }
  const names = name === 'month' ? MONTH_NAMES : name === 'dayOfWeek' ? WEEKDAY_NAMES : null
  const index = names?.indexOf(text) ?? -1
  if (index < 0) {
    refuse(fieldPath, names === null
      ? `${show(text)} is not a number`
      : `unknown ${name === 'month' ? 'month' : 'weekday'} name ${show(text)}; use ${names.join(', ')}`)
  }
  return name === 'month' ? index + 1 : index
}

/** `last`, `3rd fri`, `last fri` in the day field; false when `expression` is none of them. */
function parseDayExtra (expression: string, extras: DayExtras, fieldPath: string): boolean {
  if (expression === 'last') {
    extras.lastDay = true
    return true
  }
  const match = POSITION_PATTERN.exec(expression)
  if (match === null) return false
  const mondayFirst = readValue('dayOfWeek', match[2]!, fieldPath)
  const bit = match[1] === 'last' ? LAST_POSITION_BIT : 1 << POSITIONS.indexOf(match[1]!)
  extras.positions[(mondayFirst + 1) % 7]! |= bit
  return true
}

function checkInRange (value: number, min: number, max: number, fieldPath: string): void {
  if (value < min || value > max) refuse(fieldPath, `value ${value} is out of range ${min}-${max}`)
}

/** Flags of the values the expressions allow, indexed by value (in the field's numbering). */
function allowedValues (name: FieldName, ranges: RangeExpression[]): boolean[] {
  const allowed = new Array<boolean>(RANGES[name][1] + 1).fill(false)
  for (const { first, last, step } of ranges) {
    for (let value = first; value <= last; value += step) allowed[value] = true
  }
  return allowed
}

function coversAll (name: FieldName, ranges: RangeExpression[]): boolean {
  const [min, max] = RANGES[name]
  return ranges.some((range) => range.first === min && range.last === max && range.step === 1)
}

function nullIfAll (name: FieldName, ranges: RangeExpression[]): boolean[] | null {
  if (coversAll(name, ranges)) return null
  return allowedValues(name, ranges)
}

/** Years from range expressions, without a 8 030-entry table per trigger. */
function yearSet (ranges: RangeExpression[]): YearSet {
  const lastOf = ({ first, last, step }: RangeExpression): number => first + Math.floor((last - first) / step) * step
  return {
    last: Math.max(...ranges.map(lastOf)),
    next (year: number): number {
      let best = -1
      for (const range of ranges) {
        const candidate = year <= range.first ? range.first : range.first + Math.ceil((year - range.first) / range.step) * range.step
        if (candidate <= range.last && (best < 0 || candidate < best)) best = candidate
      }
      return best
    }
  }
}
