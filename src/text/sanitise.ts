/**
 * Sanitising text the library writes to the database (exception, traceback, and any other text
 * of an execution row): PostgreSQL refuses a `text` or `jsonb` value holding U+0000 (NUL), and a
 * lone UTF-16 surrogate (half of a pair, easy to get by slicing a string of emoji) is not valid
 * Unicode. One runaway message must not bloat the history table either.
 *
 * - every NUL and every lone surrogate becomes U+FFFD (the Unicode replacement character), so the
 *   reader sees that something was there;
 * - text longer than `maxChars` is cut and ends with a note giving the original length.
 * Never throws.
 */

/** Most characters kept of an exception message or traceback (64 KiB). */
export const MAX_TEXT_CHARS = 64 * 1024

/** Characters a truncation note may take beyond `maxChars`. */
const NOTE_ALLOWANCE = 100

/** The character NULs and lone surrogates are replaced with. */
export const REPLACEMENT_CHARACTER = '\uFFFD'

/** `text` safe to store: no NUL, no lone surrogate, at most `maxChars` characters plus a truncation note. */
export function sanitiseText (text: string, maxChars = MAX_TEXT_CHARS): string {
  let kept = text
  let note = ''
  // Text up to a note's length over the bound is kept whole, so sanitising twice truncates once.
  if (kept.length > maxChars + NOTE_ALLOWANCE) {
    kept = kept.slice(0, maxChars)
    note = `\n… [truncated: ${text.length} characters in all, first ${maxChars} kept]`
  }
  // Slicing may split a surrogate pair; the lone half is replaced like any other.
  return kept.replace(UNSAFE, REPLACEMENT_CHARACTER) + note
}

/** NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** `sanitiseText` for nullable columns: null and undefined stay null. */
export function sanitiseNullable (text: string | null | undefined, maxChars = MAX_TEXT_CHARS): string | null {
  return typeof text === 'string' ? sanitiseText(text, maxChars) : null
}
