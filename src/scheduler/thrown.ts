/**
 * Turns whatever a handler threw or rejected with into the `exception` and `traceback` texts of an
 * execution row, best effort and never throwing itself, however hostile the value: a Proxy that
 * throws on every trap, a revoked Proxy, getters that throw for `message`, `stack`, `name` or
 * `constructor`, `Symbol.toPrimitive` / `toString` / `valueOf` / `toJSON` that throw, objects with a
 * null prototype, circular values, BigInts, symbols, functions, huge strings, and `cause` chains
 * made of any of these. Every property is read inside its own guard, and only values of primitive
 * type are turned into text, so no user code runs outside a `try`.
 *
 * The texts are sanitised (`sanitiseText`: no NUL, no lone surrogate, bounded size with a note).
 */
import { inspect, types } from 'node:util'
import { MAX_TEXT_CHARS, sanitiseText } from '../text/sanitise.js'

/** Most characters kept of an exception message or traceback (see `sanitiseText`). */
export const MAX_ERROR_TEXT_CHARS = MAX_TEXT_CHARS

/** Most `cause` links followed into the traceback. */
const MAX_CAUSES = 5

export interface ThrownDescription {
  exception: string
  traceback: string | null
}

export function describeThrown (thrown: unknown): ThrownDescription {
  try {
    const { exception, traceback } = describe(thrown)
    return { exception: sanitiseText(exception), traceback: traceback === null ? null : sanitiseText(traceback) }
  } catch {
    return { exception: 'a value was thrown that could not be described (reading it threw again)', traceback: null }
  }
}

function describe (thrown: unknown): ThrownDescription {
  if (!isErrorLike(thrown)) return { exception: `non-Error thrown: ${valueText(thrown)}`, traceback: null }
  const object = thrown as object
  const name = stringProperty(object, 'name') ?? 'Error'
  const message = messageOf(object)
  const stack = stringProperty(object, 'stack')
  const causes = causeChain(object)
  const traceback = stack === null && causes === '' ? null : `${stack ?? `${name}: ${message}`}${causes}`
  return { exception: `${name}: ${message}`, traceback }
}

/** True for real errors (any realm) and objects that look like one; never throws. */
function isErrorLike (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (types.isNativeError(value)) return true // any realm; a Proxy is never one, and no trap runs
  try {
    return value instanceof Error
  } catch {
    return false
  }
}

function messageOf (error: object): string {
  const message = guarded(() => (error as { message?: unknown }).message)
  if (!message.ok) return '(reading its message threw)'
  return typeof message.value === 'string' ? message.value : valueText(message.value)
}

/** `error.cause`, its cause, …, as "Caused by:" lines (bounded, cycle-safe). */
function causeChain (error: object): string {
  let text = ''
  const seen = new Set<unknown>([error])
  let current: unknown = error
  for (let depth = 0; depth < MAX_CAUSES; depth++) {
    const cause = guarded(() => (typeof current === 'object' && current !== null && 'cause' in current ? (current as { cause: unknown }).cause : undefined))
    if (!cause.ok) return `${text}\nCaused by: (reading the cause threw)`
    if (cause.value === undefined || seen.has(cause.value)) return text
    seen.add(cause.value)
    if (isErrorLike(cause.value)) {
      const object = cause.value as object
      text += `\nCaused by: ${stringProperty(object, 'stack') ?? `${stringProperty(object, 'name') ?? 'Error'}: ${messageOf(object)}`}`
    } else {
      text += `\nCaused by: ${valueText(cause.value)}`
    }
    current = cause.value
  }
  return text
}

/** A property when it is a string; null when absent, of another type, or its getter throws. */
function stringProperty (object: object, key: string): string | null {
  const read = guarded(() => (object as Record<string, unknown>)[key])
  return read.ok && typeof read.value === 'string' ? read.value : null
}

/** A description of any value; calls no conversion method outside a guard. */
function valueText (value: unknown): string {
  switch (typeof value) {
    case 'string': {
      if (value.length <= MAX_TEXT_CHARS / 2) return JSON.stringify(value)
      const kept = MAX_TEXT_CHARS / 2
      return `${JSON.stringify(value.slice(0, kept))}… [truncated: ${value.length} characters in all, first ${kept} kept]`
    }
    case 'number': case 'boolean': case 'undefined': return String(value)
    case 'bigint': return `${value.toString()}n`
    case 'symbol': {
      const text = guarded(() => value.toString())
      return typeof text.value === 'string' ? text.value : 'a symbol'
    }
    case 'function': {
      const name = stringProperty(value, 'name')
      return `a function${name === null || name === '' ? '' : ` named ${name}`}`
    }
  }
  if (value === null) return 'null'
  // util.inspect with no getters, no custom inspect methods and proxies shown as proxies runs no
  // code of the value's own; it is still guarded, like everything here.
  const inspected = guarded(() => inspect(value, INSPECT_OPTIONS))
  if (typeof inspected.value === 'string') return inspected.value
  return 'an object that cannot be shown (inspecting it threw)'
}

const INSPECT_OPTIONS = {
  customInspect: false, getters: false, showProxy: true, depth: 3, maxArrayLength: 50, maxStringLength: 10_000, breakLength: Infinity
} as const

function guarded (read: () => unknown): { ok: true, value: unknown } | { ok: false, value: undefined } {
  try {
    return { ok: true, value: read() }
  } catch {
    return { ok: false, value: undefined }
  }
}
