/**
 * Output of the command line: aligned text tables and `key: value` blocks for people, JSON for
 * scripts. Times are ISO 8601 UTC in both, so what a person reads can be pasted into a query.
 */

/** One cell's text: times as ISO 8601, null and undefined as '-'. */
export function cell (value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (value instanceof Date) return value.toISOString()
  return String(value).replace(/[\r\n\t]+/g, ' ')
}

/** A table with a header row; columns padded to their widest cell. Empty rows give `empty`. */
export function table (headers: string[], rows: unknown[][], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`
  const cells = [headers, ...rows.map((row) => row.map(cell))]
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  return cells.map((row) => row.map((text, i) => i === row.length - 1 ? text : text.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n') + '\n'
}

/** `key: value` lines, keys aligned. */
export function fields (entries: Array<[string, unknown]>): string {
  const width = Math.max(...entries.map(([key]) => key.length))
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${cell(value)}`).join('\n') + '\n'
}

/** Milliseconds as people read them: `840 ms`, `3.2 s`, `4 min 10 s`. */
export function duration (ms: number | null): string {
  if (ms === null) return '-'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

export function json (value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
