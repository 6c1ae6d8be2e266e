/**
 * Turns whatever a handler threw (an Error, a string, an object, `undefined`) into the
 * `exception` and `traceback` texts of an execution row, truncated so that one runaway message
 * cannot bloat the history table.
 */

/** Most characters kept of an exception message or traceback. */
export const MAX_ERROR_TEXT_CHARS = 64 * 1024

export function describeThrown (thrown: unknown): { exception: string, traceback: string | null } {
  if (thrown instanceof Error) {
    return { exception: truncate(`${thrown.name}: ${thrown.message}`), traceback: thrown.stack === undefined ? null : truncate(thrown.stack) }
  }
  return { exception: truncate(`non-Error thrown: ${stringify(thrown)}`), traceback: null }
}

function stringify (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** Cuts `text` to `MAX_ERROR_TEXT_CHARS` and says so, with the original length. */
export function truncate (text: string): string {
  if (text.length <= MAX_ERROR_TEXT_CHARS) return text
  return `${text.slice(0, MAX_ERROR_TEXT_CHARS)}\n… [truncated: ${text.length} characters in all, first ${MAX_ERROR_TEXT_CHARS} kept]`
}
