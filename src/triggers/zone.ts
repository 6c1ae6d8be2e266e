/**
 * IANA time zones through `Intl.DateTimeFormat` (no date library): UTC offsets of instants and
 * the instant of a wall time.
 *
 * Offsets are milliseconds to add to an instant to get its wall time (`Asia/Shanghai`: +28 800 000).
 * One formatter per zone is created once and cached; offsets are cached per 15-minute bucket
 * (a bucket is cached only when its first and last second have the same offset, so a transition
 * inside a bucket, such as a historic local-mean-time change, is never smeared).
 */
import { DAY_MS } from './civil.js'

/** Buckets of the offset cache: every tz transition since 1970 lies on a 15-minute boundary of UTC. */
const BUCKET_MS = 900_000
/** The offset cache of one zone is emptied when it grows past this many buckets (about 6 weeks of distinct quarter hours). */
const MAX_CACHED_BUCKETS = 4096

/** A time zone: offsets of instants, and the instants of wall times. */
export class Zone {
  /** The IANA name as given (`Asia/Shanghai`). */
  readonly name: string
  readonly #format: Intl.DateTimeFormat | null
  readonly #offsets = new Map<number, number>()

  constructor (name: string, format: Intl.DateTimeFormat | null) {
    this.name = name
    this.#format = format
  }

  /** UTC offset (ms, whole seconds) in force at instant `ms`: wall time = `ms + offsetAt(ms)`. */
  offsetAt (ms: number): number {
    if (this.#format === null) return 0
    const bucket = Math.floor(ms / BUCKET_MS)
    const cached = this.#offsets.get(bucket)
    if (cached !== undefined) return cached
    const start = bucket * BUCKET_MS
    const first = this.#computeOffset(start)
    if (first !== this.#computeOffset(start + BUCKET_MS - 1000)) return this.#computeOffset(ms)
    if (this.#offsets.size >= MAX_CACHED_BUCKETS) this.#offsets.clear()
    this.#offsets.set(bucket, first)
    return first
  }

  /**
   * The instant of wall time `wall` (see `civil.ts`), by the DESIGN.md DST rules: a wall time in a
   * gap (spring forward) moves forward by the length of the gap (02:30 → 03:30); a repeated wall
   * time (fall back) takes its first occurrence. Same as Temporal's `disambiguation: 'compatible'`.
   */
  instantOf (wall: number): number {
    const before = this.offsetAt(wall - DAY_MS)
    const after = this.offsetAt(wall + DAY_MS)
    if (before === after) return wall - before
    const early = wall - before
    if (this.offsetAt(early) === before) return early
    const late = wall - after
    return this.offsetAt(late) === after ? late : early
  }

  /** Reads the wall clock at `ms` out of the formatter ("MM/DD/YYYY, HH:MM:SS", years 100-9999) and subtracts the instant. */
  #computeOffset (ms: number): number {
    const second = Math.floor(ms / 1000) * 1000
    const text = this.#format!.format(second)
    let index = 0
    const next = (): number => {
      while (index < text.length && (text.charCodeAt(index) < 48 || text.charCodeAt(index) > 57)) index++
      let value = 0
      while (index < text.length && text.charCodeAt(index) >= 48 && text.charCodeAt(index) <= 57) {
        value = value * 10 + text.charCodeAt(index) - 48
        index++
      }
      return value
    }
    const month = next()
    const day = next()
    const year = next()
    const hour = next()
    const minute = next()
    const sec = next()
    return Date.UTC(year, month - 1, day, hour, minute, sec) - second
  }
}

const zones = new Map<string, Zone>()

/** The zone named `name` (IANA), cached; `null` when `Intl` does not know it. */
export function getZone (name: string): Zone | null {
  const cached = zones.get(name)
  if (cached !== undefined) return cached
  let format: Intl.DateTimeFormat
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit'
    })
  } catch {
    return null
  }
  const zone = new Zone(name, format.resolvedOptions().timeZone === 'UTC' ? null : format)
  zones.set(name, zone)
  return zone
}
