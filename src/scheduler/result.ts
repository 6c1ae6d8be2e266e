/**
 * A handler's return value as the JSON text stored in `scheduler_job_execution.result` (jsonb).
 * Whatever the handler returns, however hostile (a BigInt, a cycle, a `toJSON` or getter that
 * throws, a Proxy), this never throws and never fails the run:
 *
 * - `undefined` (and anything `JSON.stringify` drops, such as a function) stores no result (null);
 * - every string, keys included, is sanitised like the library's other texts (`sanitiseText`: no
 *   NUL, no lone surrogate, which PostgreSQL's jsonb refuses);
 * - a value that cannot be serialised, or whose JSON is larger than {@link MAX_RESULT_BYTES},
 *   is stored as a JSON string beginning `[result not stored: ` that says why.
 */
import { sanitiseText } from '../text/sanitise.js'
import { describeThrown } from './thrown.js'

/** Largest result kept, in bytes of UTF-8 JSON (64 KiB). */
export const MAX_RESULT_BYTES = 64 * 1024

/**
 * `JSON.stringify(value)` with every string, keys included, sanitised (`sanitiseText`, strings cut
 * at `maxChars`), so PostgreSQL's jsonb accepts it. Throws what `JSON.stringify` throws.
 */
export function saneJson (value: unknown, maxChars = Infinity): string | undefined {
  const text = JSON.stringify(value, (_key, field: unknown) => typeof field === 'string' ? sanitiseText(field, maxChars) : field)
  // Keys are not seen by the replacer: rebuild the objects whose keys hold what jsonb refuses.
  return text !== undefined && UNSAFE_ESCAPE.test(text) ? JSON.stringify(JSON.parse(text, saneKeys)) : text
}

/** The handler's return value as sanitised JSON text, a note (as JSON text) when it cannot be kept, or null for no result. */
export function resultJson (value: unknown): string | null {
  let text: string | undefined
  try {
    text = saneJson(value)
  } catch (thrown) {
    return note(`not JSON-serialisable: ${describeThrown(thrown).exception.slice(0, 500)}`)
  }
  if (text === undefined) return null
  const bytes = Buffer.byteLength(text)
  if (bytes > MAX_RESULT_BYTES) return note(`its JSON is ${bytes} bytes, more than the ${MAX_RESULT_BYTES} kept`)
  return text
}

/** `\u0000` or a surrogate escape, as `JSON.stringify` writes them. */
const UNSAFE_ESCAPE = /\\u0000|\\ud[89a-f]/i

function saneKeys (_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [sanitiseText(key, Infinity), field]))
}

function note (why: string): string {
  return JSON.stringify(`[result not stored: ${why}]`)
}
