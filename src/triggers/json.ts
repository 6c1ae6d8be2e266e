/**
 * Reading untrusted trigger JSON: every refusal is an `InvalidTriggerError` naming the field path
 * (`triggers[1].fields.hour`) and the problem.
 */
import { InvalidTriggerError } from '../errors.js'

/** Path of a key under `parent` (`''` is the outermost trigger): `('triggers[1]', 'fields')` → `'triggers[1].fields'`. */
export function joinPath (parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`
}

/** Throws `InvalidTriggerError` for `path` (the outermost trigger itself is shown as `trigger`). */
export function refuse (path: string, problem: string): never {
  throw new InvalidTriggerError(path === '' ? 'trigger' : path, problem)
}

/** A short, bounded rendering of a JSON value for error messages. */
export function show (value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** `value` as a plain object; refuses arrays, `null` and primitives. */
export function readObject (value: unknown, path: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    refuse(path, `expected ${what}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`)
  }
  return value as Record<string, unknown>
}

/** Refuses keys of `object` that are not in `allowed`, naming them and the allowed ones. */
export function refuseUnknownKeys (object: Record<string, unknown>, allowed: readonly string[], path: string, kind: string): void {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key))
  if (unknown.length > 0) {
    refuse(unknown.length === 1 ? joinPath(path, unknown[0]!) : path,
      `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `'${key}'`).join(', ')} for ${kind}; allowed: ${allowed.join(', ')}`)
  }
}

/** `object[key]` as a finite number ≥ 0, or `undefined` when absent. */
export function readNonNegativeNumber (object: Record<string, unknown>, key: string, path: string, unit: string): number | undefined {
  const value = object[key]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    refuse(joinPath(path, key), `expected a non-negative number of ${unit}, got ${show(value)}`)
  }
  return value
}
