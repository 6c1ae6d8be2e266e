/**
 * `date` triggers (APScheduler 3 `DateTrigger`): fire once, at `runDate`.
 *
 * As in APScheduler, `getNextFireTime(null, now)` answers `runDate` even when it is before `now`
 * (the scheduler's misfire grace time decides whether a late one still runs); after it, `null`.
 */
import { COMMON_KEYS, readCommon, readDate } from './common.js'
import { joinPath, refuse, refuseUnknownKeys } from './json.js'
import type { Schedule } from './schedule.js'
import type { DateTriggerJson } from './types.js'

const DATE_KEYS = [...COMMON_KEYS, 'runDate']

class DateSchedule implements Schedule {
  constructor (
    private readonly runMs: number,
    readonly endMs: number,
    readonly json: DateTriggerJson
  ) {}

  next (previous: number | null): number | null {
    return previous === null ? this.runMs : null
  }

  firstAtOrAfter (from: number): number | null {
    return this.runMs >= from ? this.runMs : null
  }
}

/**
 * Compiles a `date` trigger object found at `path`.
 * @throws InvalidTriggerError for unknown keys, a missing or unreadable `runDate`, a `runDate`
 *   before `startDate` or after `endDate`, or any problem of the common keys
 */
export function compileDate (object: Record<string, unknown>, path: string): Schedule {
  refuseUnknownKeys(object, DATE_KEYS, path, "a 'date' trigger")
  const common = readCommon(object, path)
  const runPath = joinPath(path, 'runDate')
  const runMs = readDate(object, 'runDate', path, common.zone)
  if (runMs === undefined) refuse(runPath, "required: when to fire, for example '2026-12-25 08:00:00' (wall time in timezone) or '2026-12-25T08:00:00+08:00'")
  if (runMs < common.startMs) refuse(runPath, 'runDate is before startDate, so the trigger could never fire')
  if (runMs > common.endMs) refuse(runPath, 'runDate is after endDate, so the trigger could never fire')
  return new DateSchedule(runMs, common.endMs, { type: 'date', runDate: object['runDate'] as string, ...common.json })
}
