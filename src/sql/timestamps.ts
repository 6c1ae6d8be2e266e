/**
 * Timestamps as drivers return them, parsed into `Date`s: a `Date` as it is, integer milliseconds
 * since the Unix epoch (SQLite), or PostgreSQL's text output (`timestamptz` arrives as text, so no
 * driver-side parse runs). The hot path, PostgreSQL's UTC output `YYYY-MM-DD HH:MM:SS[.ffffff]+00`
 * (what a session with `TimeZone` UTC prints: PostgreSQL docs, "Date/Time Output", ISO style), is
 * read digit by digit; anything else goes through `new Date` of its ISO 8601 form (offsets with
 * seconds, local mean time, applied by hand). Both paths agree:
 * fractions past milliseconds are truncated, as V8's ISO parser does.
 */

/** Parses a timestamp value (see the module comment); throws `TypeError` naming the value when it is none. */
export function toDate (value: unknown): Date {
  if (value instanceof Date) return value
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value)
  if (typeof value === 'string') {
    const fast = utcTextMs(value)
    if (!Number.isNaN(fast)) return new Date(fast)
    const date = isoFallback(value)
    if (!Number.isNaN(date.getTime())) return date
  }
  throw new TypeError(`not a timestamp: ${String(value)}`)
}

/** `toDate` that keeps `null` (for nullable columns). */
export function toDateOrNull (value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value)
}

/**
 * Other PostgreSQL text through V8's ISO parser. PostgreSQL prints the offset as +HH, +HH:MM, or
 * +HH:MM:SS (local mean time, before a zone adopted standard time); ISO 8601 wants +HH:MM, so +HH
 * gains :00, and seconds are applied by hand to the time read as UTC.
 */
function isoFallback (text: string): Date {
  const iso = text.replace(' ', 'T')
  const withSeconds = /([+-])(\d\d):(\d\d):(\d\d)$/.exec(iso)
  if (withSeconds === null) return new Date(iso.replace(/([+-]\d\d)$/, '$1:00'))
  const [offset, sign, hours, minutes, seconds] = withSeconds
  const offsetMs = (Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000 * (sign === '-' ? -1 : 1)
  return new Date(new Date(`${iso.slice(0, -offset.length)}Z`).getTime() - offsetMs)
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * Milliseconds since the epoch of `YYYY-MM-DD HH:MM:SS[.f…]+00` (years 1000–9999, one to six
 * fraction digits), or NaN for any other text (the caller falls back to the ISO parser).
 */
export function utcTextMs (text: string): number {
  const length = text.length
  if (length < 22 || length > 29 || text.charCodeAt(length - 3) !== 43 || text.charCodeAt(length - 2) !== 48 || text.charCodeAt(length - 1) !== 48) return NaN
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return NaN
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 7)
  const day = digits(text, 8, 10)
  const hour = digits(text, 11, 13)
  const minute = digits(text, 14, 16)
  const second = digits(text, 17, 19)
  let ms = 0
  if (length > 22) {
    // '.' and one to six digits before the offset.
    if (length === 23 || text.charCodeAt(19) !== 46) return NaN
    const fraction = digits(text, 20, length - 3)
    if (Number.isNaN(fraction)) return NaN
    const places = length - 23
    ms = places >= 3 ? Math.floor(fraction / 10 ** (places - 3)) : fraction * 10 ** (3 - places)
  }
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59)) return NaN
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > (month === 2 && !leap ? 28 : DAYS_IN_MONTH[month - 1]!)) return NaN
  return Date.UTC(year, month - 1, day, hour, minute, second, ms)
}

/** The decimal number of `text[from, to)`, or NaN when a character there is not a digit. */
function digits (text: string, from: number, to: number): number {
  let value = 0
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i) - 48
    if (code < 0 || code > 9) return NaN
    value = value * 10 + code
  }
  return value
}
