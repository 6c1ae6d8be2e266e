/**
 * A handler's return value as the JSON text stored in `scheduler_job_execution.result` (jsonb).
 * Whatever the handler returns, however hostile (a BigInt, a cycle, a `toJSON` or getter that
 * throws, a Proxy, a boxed string, an array of a hundred million items), this never throws, never
 * fails the run, and does at most about {@link MAX_RESULT_BYTES} of serialising work:
 *
 * - `undefined` and `null` (and anything `JSON.stringify` drops, such as a function) store no result;
 * - every string, keys included, is sanitised like the library's other texts (`sanitiseText`: no
 *   NUL, no lone surrogate, which PostgreSQL's jsonb refuses);
 * - a value that cannot be serialised, or whose JSON is larger than {@link MAX_RESULT_BYTES},
 *   is stored as a JSON string beginning `[result not stored: ` that says why.
 */
import { sanitiseText } from '../text/sanitise.js'
import { describeThrown } from './thrown.js'

/** Largest result kept, in bytes of UTF-8 JSON (64 KiB). */
export const MAX_RESULT_BYTES = 64 * 1024

/** Thrown by {@link saneJson} when the JSON would be larger than its budget. */
export class JsonTooLargeError extends Error {
  constructor (readonly budget: number) {
    super(`its JSON is larger than ${budget} bytes`)
  }
}

/**
 * `JSON.stringify(value)` with every string, keys included, sanitised (`sanitiseText`, strings cut
 * at `maxChars`), so PostgreSQL's jsonb accepts it. Stops with `JsonTooLargeError` once the
 * output would pass `budget` characters (counted as it goes, so a huge value costs little).
 * Throws what `JSON.stringify` throws (BigInt, cycles, a throwing `toJSON` or getter).
 */
export function saneJson (value: unknown, options: { maxChars?: number, budget?: number } = {}): string | undefined {
  const maxChars = options.maxChars ?? Infinity
  const budget = options.budget ?? Infinity
  let spent = 0
  const text = JSON.stringify(value, (key, field: unknown) => {
    spent += key.length + 4
    // A boxed string reaches the replacer before JSON.stringify unboxes it.
    const sane = typeof field === 'string' || field instanceof String ? sanitiseText(String(field), maxChars) : field
    if (typeof sane === 'string') spent += sane.length
    if (spent > budget) throw new JsonTooLargeError(budget)
    return sane
  })
  // Keys are not seen by the replacer: rebuild the objects whose keys hold what jsonb refuses.
  return text !== undefined && UNSAFE_ESCAPE.test(text) ? JSON.stringify(JSON.parse(text, saneKeys)) : text
}

/** The handler's return value as sanitised JSON text, a note (as JSON text) when it cannot be kept, or null for no result. */
export function resultJson (value: unknown): string | null {
  if (value === null) return null
  let text: string | undefined
  try {
    text = saneJson(value, { budget: MAX_RESULT_BYTES })
  } catch (thrown) {
    if (thrown instanceof JsonTooLargeError) return note(`its JSON is larger than the ${MAX_RESULT_BYTES} bytes kept`)
    return note(`not JSON-serialisable: ${sanitiseText(describeThrown(thrown).exception, 500)}`)
  }
  if (text === undefined) return null
  const bytes = Buffer.byteLength(text)
  if (bytes > MAX_RESULT_BYTES) return note(`its JSON is larger than the ${MAX_RESULT_BYTES} bytes kept (${bytes})`)
  return text
}

/** `\u0000` or a surrogate escape, as `JSON.stringify` writes them. */
const UNSAFE_ESCAPE = /\\u0000|\\ud[89a-f]/i

function saneKeys (_key: string, value: unknown): unknown {
  if (typeof value === 'string') return sanitiseText(value, Infinity)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [sanitiseText(key, Infinity), field]))
}

function note (why: string): string {
  return JSON.stringify(`[result not stored: ${why}]`)
}
