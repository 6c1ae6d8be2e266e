/**
 * `describeTrigger`: one English sentence saying when a trigger fires, for UIs and logs.
 *
 * Crontab expressions are worded by `cronstrue` ("At 09:30 AM, Monday through Friday"), with
 * Vixie's either-day rule spelled out ("on day 13 of the month, or on Friday"). APScheduler
 * fields are translated to a 7-field cron line for `cronstrue` where their meaning is the same
 * (times, days, months, weekdays, years), and the rest is worded here (`3rd fri`, `last fri`,
 * ISO weeks). Interval, date, `and` and `or` are worded here. Every sentence ends with the
 * window, the time zone and the jitter: "Every 2 hours from 2026-11-01 00:00 until 2026-11-30
 * 23:59 (Asia/Shanghai)".
 */
import cronstrue from 'cronstrue'
import { createTrigger } from './create.js'
import { allowedWeekdays, effectiveFieldValues } from './cron-fields.js'
import { crontabFields, isStarField } from './crontab.js'
import { formatWallTime, parseDate } from './dates.js'
import type { CombiningTriggerJson, CommonTriggerJson, CronFields, IntervalTriggerJson, TriggerJson } from './types.js'
import { getZone, type Zone } from './zone.js'

const WEEKDAY_WORDS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const ORDINAL_WORDS: Record<string, string> = { '1st': 'first', '2nd': 'second', '3rd': 'third', '4th': 'fourth', '5th': 'fifth', last: 'last' }

export interface DescribeOptions {
  /** Language of the sentence; default and only supported value `'en'`. */
  locale?: string
}

/**
 * A short English sentence for trigger JSON, for example
 * "At 09:30 AM, Monday through Friday (Asia/Shanghai)" or "Every 2 hours from 2026-11-01 00:00
 * until 2026-11-30 23:59 (Asia/Shanghai)".
 * @throws InvalidTriggerError when `json` is not a valid trigger (it is validated first)
 * @throws RangeError for a `locale` other than `'en'` (the interval, date and combination wording is English only)
 */
export function describeTrigger (json: unknown, options: DescribeOptions = {}): string {
  const locale = options.locale ?? 'en'
  if (locale !== 'en') throw new RangeError(`describeTrigger: locale '${locale}' is not supported; only 'en' is`)
  return describe(createTrigger(json).toJSON())
}

function describe (json: TriggerJson): string {
  if (isCombining(json)) {
    const members = json.triggers.map((member) => {
      const sentence = describe(member)
      const lowered = sentence.charAt(0).toLowerCase() + sentence.slice(1)
      return isCombining(member) ? `(${lowered})` : lowered
    })
    const sentence = json.type === 'or'
      ? `Whenever any of these fires: ${members.join('; or ')}`
      : `Whenever all of these fire at the same instant: ${members.join('; and ')}`
    return sentence + jitterClause(json.jitter)
  }
  const zone = getZone(json.timezone ?? 'UTC')!
  let base: string
  if (json.type === 'cron') base = json.expression !== undefined ? describeCrontab(json.expression) : describeFields(json.fields!)
  else if (json.type === 'interval') base = `Every ${describePeriod(json)}`
  else base = `Once at ${formatWallTime(parseDate(json.runDate, zone)!, zone, true).replace(/:00$/, '')}`
  return `${base}${windowClause(json, zone)} (${zone.name})${jitterClause(json.jitter)}`
}

function isCombining (json: TriggerJson): json is CombiningTriggerJson {
  return json.type === 'and' || json.type === 'or'
}

/** cronstrue's sentence, with Vixie's rule: both day fields restricted means either may match. */
function describeCrontab (expression: string): string {
  const fields = crontabFields(expression.trim(), 'expression')
  const whole = cronstrue.toString(fields.join(' '))
  const dayOfMonth = fields[fields.length - 3]!
  const dayOfWeek = fields[fields.length - 1]!
  if (isStarField(dayOfMonth) || isStarField(dayOfWeek)) return whole
  // Reword "<time>, <day of month>[, and] <weekday>, <month>" as "<time>, <day of month>, or <weekday>, <month>".
  const time = fields.slice(0, -3)
  const line = (dom: string, month: string, dow: string): string => cronstrue.toString([...time, dom, month, dow].join(' '))
  const timeOnly = line('*', '*', '*')
  const parts = [line(dayOfMonth, '*', '*'), line('*', '*', dayOfWeek), line('*', fields[fields.length - 2]!, '*')]
  if (!parts.every((part) => part.startsWith(timeOnly))) return whole
  const [domPart, dowPart, monthPart] = parts.map((part) => part.slice(timeOnly.length)) as [string, string, string]
  return `${timeOnly}${domPart}, or ${dowPart.replace(/^, (only )?/, '')}${monthPart}`
}

/** APScheduler fields: cronstrue for what a cron line can say, our words for positions and ISO weeks. */
function describeFields (fields: CronFields): string {
  const values = effectiveFieldValues(fields as Record<string, unknown>)
  const text = (value: unknown): string => String(value).replace(/\s+/g, '')
  const dayParts = String(values.day).toLowerCase().split(',').map((part) => part.trim())
  const positions = dayParts.filter((part) => /^(1st|2nd|3rd|4th|5th|last)\s+\w+$/.test(part))
  const plainDays = dayParts.filter((part) => !positions.includes(part)).map((part) => part === 'last' ? 'L' : part.replace(/\s+/g, ''))
  const cronDay = plainDays.length > 0 ? plainDays.join(',') : '*'
  const weekday = values.dayOfWeek === '*' ? '*' : weekdayList(allowedWeekdays(values.dayOfWeek))
  const line = [values.second, values.minute, values.hour, cronDay, values.month, weekday, values.year].map(text).join(' ')
  let sentence = cronstrue.toString(line)
  if (positions.length > 0) {
    const words = positions.map((part) => {
      const [ordinal, name] = part.split(/\s+/) as [string, string]
      return `the ${ORDINAL_WORDS[ordinal]} ${WEEKDAY_WORDS[WEEKDAY_NAMES.indexOf(name)]}`
    })
    sentence += `, ${plainDays.length > 0 ? 'or ' : ''}on ${words.join(' or ')} of the month`
  }
  if (values.week !== '*') sentence += `, in ISO week${/^\d+$/.test(text(values.week)) ? '' : 's'} ${text(values.week)}`
  return sentence
}

/** Weekday names as a cron list, Monday first, runs of three or more as ranges: `mon-fri`, `sat,sun`. */
function weekdayList (allowed: boolean[]): string {
  const parts: string[] = []
  for (let day = 0; day < 7; day++) {
    if (!allowed[day]) continue
    let end = day
    while (end + 1 < 7 && allowed[end + 1]) end++
    if (end - day >= 2) parts.push(`${WEEKDAY_NAMES[day]}-${WEEKDAY_NAMES[end]}`)
    else for (let each = day; each <= end; each++) parts.push(WEEKDAY_NAMES[each]!)
    day = end
  }
  return parts.join(',')
}

/** "2 hours", "hour", "1 day, 12 hours", "1.5 minutes". */
function describePeriod (json: IntervalTriggerJson): string {
  const units = (['weeks', 'days', 'hours', 'minutes', 'seconds'] as const).filter((unit) => (json[unit] ?? 0) !== 0)
  if (units.length === 1 && json[units[0]!] === 1) return units[0]!.slice(0, -1)
  return units.map((unit) => `${json[unit]} ${json[unit] === 1 ? unit.slice(0, -1) : unit}`).join(', ')
}

function windowClause (json: CommonTriggerJson, zone: Zone): string {
  let clause = ''
  if (json.startDate !== undefined) clause += ` from ${formatWallTime(parseDate(json.startDate, zone)!, zone, false)}`
  if (json.endDate !== undefined) clause += ` until ${formatWallTime(parseDate(json.endDate, zone)!, zone, false)}`
  return clause
}

function jitterClause (jitter: number | undefined): string {
  return jitter === undefined || jitter === 0 ? '' : `, each run delayed at random by up to ${jitter} s`
}
