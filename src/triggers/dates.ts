/**
 * Reading and writing the date strings of trigger JSON (`startDate`, `endDate`, `runDate`).
 *
 * Accepted: ISO 8601 with an offset (`2026-11-01T00:00:00Z`, `2026-11-01T08:00:00+08:00`,
 * `+0800`, `+08`), or a wall time read in the trigger's `timezone` (`2026-11-01 00:00:00`,
 * `2026-11-01T00:00`, `2026-11-01`, with optional fractional seconds). Years 1970-9999.
 * A wall time inside a DST gap or overlap follows the rules of `Zone.instantOf`.
 */
import { daysInMonth } from './civil.js'
import type { Zone } from './zone.js'

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/** Earliest year a trigger date or fire time may have (APScheduler's `MIN_VALUES['year']`). */
export const MIN_YEAR = 1970
/** Latest year a trigger date or fire time may have (APScheduler's `MAX_VALUES['year']`). */
export const MAX_YEAR = 9999

/** The instant (epoch ms) of `text`, or `null` when it is not one of the accepted forms or not a real date. */
export function parseDate (text: string, zone: Zone): number | null {
  const match = DATE_PATTERN.exec(text.trim())
  if (match === null) return null
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset] = match
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
    hour > 23 || minute > 59 || second > 59) return null
  const wall = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(Number(`0.${fraction}0`) * 1000)
  if (offset === undefined) return zone.instantOf(wall)
  if (offset.toUpperCase() === 'Z') return wall
  const digits = offset.slice(1).replace(':', '')
  const offsetHours = Number(digits.slice(0, 2))
  const offsetMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0
  if (offsetHours > 23 || offsetMinutes > 59) return null
  const sign = offset.startsWith('-') ? -1 : 1
  return wall - sign * (offsetHours * 3_600_000 + offsetMinutes * 60_000)
}

/** `ms` as a wall time in `zone`, `YYYY-MM-DD HH:MM` (with `:SS` when `withSeconds`). */
export function formatWallTime (ms: number, zone: Zone, withSeconds: boolean): string {
  const iso = new Date(ms + zone.offsetAt(ms)).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, withSeconds ? 19 : 16)}`
}
