/**
 * `cron` triggers: a crontab `expression` (Vixie cron, `crontab.ts`) or APScheduler `fields`
 * (`cron-fields.ts`), read in `timezone` with the DST rules of `wall-clock-schedule.ts`, between
 * `startDate` and `endDate` (both inclusive). Fire times are whole seconds.
 */
import type { CalendarSpec } from './calendar-spec.js'
import { COMMON_KEYS, readCommon } from './common.js'
import { compileCronFields } from './cron-fields.js'
import { compileCrontab } from './crontab.js'
import { joinPath, readObject, refuse, refuseUnknownKeys } from './json.js'
import type { Schedule } from './schedule.js'
import type { CronFields, CronTriggerJson } from './types.js'
import { firstFireAtOrAfter } from './wall-clock-schedule.js'
import type { Zone } from './zone.js'

const CRON_KEYS = [...COMMON_KEYS, 'expression', 'fields']

class CronSchedule implements Schedule {
  constructor (
    private readonly spec: CalendarSpec,
    private readonly zone: Zone,
    private readonly startMs: number,
    readonly endMs: number,
    readonly json: CronTriggerJson
  ) {}

  next (previous: number | null, now: number): number | null {
    return this.firstAtOrAfter(previous === null ? now : previous + 1)
  }

  firstAtOrAfter (from: number): number | null {
    const start = Math.ceil(Math.max(from, this.startMs) / 1000) * 1000
    const fire = firstFireAtOrAfter(this.spec, this.zone, start)
    return fire === null || fire > this.endMs ? null : fire
  }
}

/**
 * Compiles a `cron` trigger object found at `path`.
 * @throws InvalidTriggerError for unknown keys, both or neither of `expression` and `fields`, any
 *   problem of the expression, fields or common keys, and a schedule that can never fire (at all,
 *   or between `startDate` and `endDate`)
 */
export function compileCron (object: Record<string, unknown>, path: string): Schedule {
  refuseUnknownKeys(object, CRON_KEYS, path, "a 'cron' trigger")
  const common = readCommon(object, path)
  const { expression, fields } = object
  if (expression !== undefined && fields !== undefined) {
    refuse(path, "give either 'expression' (crontab) or 'fields' (APScheduler), not both")
  }
  if (expression === undefined && fields === undefined) {
    refuse(path, "give 'expression' (crontab, for example '30 9 * * mon-fri') or 'fields' (for example { hour: 9, minute: 30 })")
  }
  const schedulePath = joinPath(path, expression !== undefined ? 'expression' : 'fields')
  const spec = expression !== undefined
    ? compileCrontab(expression, schedulePath)
    : compileCronFields(readObject(fields, schedulePath, 'an object of cron fields such as { hour: 9, minute: 30 }'), schedulePath)
  const json: CronTriggerJson = expression !== undefined
    ? { type: 'cron', expression: expression as string, ...common.json }
    : { type: 'cron', fields: structuredClone(fields) as CronFields, ...common.json }
  const schedule = new CronSchedule(spec, common.zone, common.startMs, common.endMs, json)

  const first = firstFireAtOrAfter(spec, common.zone, Math.ceil(Math.max(0, common.startMs) / 1000) * 1000)
  if (first === null) {
    refuse(schedulePath, 'the schedule can never fire: no date matches all of it (for example day 30 with month 2, or a year that cannot have that date)')
  }
  if (first > common.endMs) {
    refuse(joinPath(path, 'endDate'), `the schedule never fires before endDate: its first fire time${Number.isFinite(common.startMs) ? ' after startDate' : ''} is ${new Date(first).toISOString()}`)
  }
  return schedule
}
