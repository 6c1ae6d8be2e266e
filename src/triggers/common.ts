/**
 * Keys shared by trigger types (DESIGN.md, "Trigger JSON"): `version`, `timezone`, `startDate`,
 * `endDate`, `jitter`.
 */
import { MAX_YEAR, parseDate } from './dates.js'
import { joinPath, readNonNegativeNumber, refuse, show } from './json.js'
import { TRIGGER_JSON_VERSION } from './types.js'
import type { CommonTriggerJson } from './types.js'
import { getZone, type Zone } from './zone.js'

/** Keys of {@link CommonTriggerJson}, plus `type`. */
export const COMMON_KEYS = ['type', 'version', 'timezone', 'startDate', 'endDate', 'jitter'] as const

/** Common keys, read and checked. */
export interface CommonSettings {
  readonly zone: Zone
  /** `startDate` as epoch ms, `-Infinity` when absent. */
  readonly startMs: number
  /** `endDate` as epoch ms, `Infinity` when absent. */
  readonly endMs: number
  /** The common keys normalised for `toJSON()`: `timezone` filled in (default `UTC`), absent keys left out. */
  readonly json: Omit<CommonTriggerJson, 'version'>
}

/**
 * Refuses a `version` other than {@link TRIGGER_JSON_VERSION}. An absent version reads as the current one.
 * @throws InvalidTriggerError at `version`
 */
export function checkVersion (object: Record<string, unknown>, path: string): void {
  const version = object['version']
  if (version !== undefined && version !== TRIGGER_JSON_VERSION) {
    refuse(joinPath(path, 'version'), `unsupported trigger JSON version ${show(version)}; this release reads version ${TRIGGER_JSON_VERSION} (what toJSON() writes): upgrade fastify-mikro-scheduler to load it, or re-create the trigger`)
  }
}

/** `jitter` in seconds (≥ 0), or `undefined` when absent. @throws InvalidTriggerError at `jitter` */
export function readJitter (object: Record<string, unknown>, path: string): number | undefined {
  return readNonNegativeNumber(object, 'jitter', path, 'seconds')
}

/**
 * Reads `timezone` (IANA name, default `UTC`), `startDate` and `endDate` (see `dates.ts`).
 * @throws InvalidTriggerError for an unknown zone, an unreadable date, or `startDate` after `endDate`
 */
export function readCommon (object: Record<string, unknown>, path: string): CommonSettings {
  checkVersion(object, path)
  const timezone = object['timezone'] ?? 'UTC'
  if (typeof timezone !== 'string' || timezone.trim() === '') {
    refuse(joinPath(path, 'timezone'), `expected an IANA time zone name such as 'Europe/Berlin', got ${show(timezone)}`)
  }
  const zone = getZone(timezone)
  if (zone === null) {
    refuse(joinPath(path, 'timezone'), `unknown time zone ${show(timezone)}; use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'`)
  }
  const startMs = readDate(object, 'startDate', path, zone) ?? -Infinity
  const endMs = readDate(object, 'endDate', path, zone) ?? Infinity
  if (startMs > endMs) {
    refuse(joinPath(path, 'endDate'), `endDate ${show(object['endDate'])} is before startDate ${show(object['startDate'])}; swap them or drop one`)
  }
  const json: Omit<CommonTriggerJson, 'version'> = { timezone }
  if (object['startDate'] !== undefined) json.startDate = object['startDate'] as string
  if (object['endDate'] !== undefined) json.endDate = object['endDate'] as string
  const jitter = readJitter(object, path)
  if (jitter !== undefined) json.jitter = jitter
  return { zone, startMs, endMs, json }
}

/**
 * Reads the date string `object[key]` in `zone` (see `dates.ts` for the accepted forms), or `undefined` when absent.
 * @throws InvalidTriggerError at `key` when it is not a string or cannot be read
 */
export function readDate (object: Record<string, unknown>, key: string, path: string, zone: Zone): number | undefined {
  const value = object[key]
  if (value === undefined) return undefined
  const ms = typeof value === 'string' ? parseDate(value, zone) : null
  if (value instanceof Date) {
    refuse(joinPath(path, key), `got a Date object; trigger dates are strings, which is how they are stored: pass ${show(Number.isNaN(value.getTime()) ? 'an ISO 8601 string' : value.toISOString())} (date.toISOString())`)
  }
  if (ms === null) {
    refuse(joinPath(path, key), `cannot read ${show(value)} as a date (years 1970-${MAX_YEAR}); use ISO 8601 with an offset ('2026-12-25T08:00:00+08:00') or a wall time in timezone ('2026-12-25 08:00:00')`)
  }
  return ms
}
