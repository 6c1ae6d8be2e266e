/**
 * The `from` / `to` query parameters of the list routes (executions by run time, audit rows by
 * time), as dates. TypeBox's `date-time` format admits texts `Date` cannot read (a leap second
 * `…T23:59:60Z`, an RFC 9557 suffix `…Z[UTC]`); those are a 400 naming the parameter, never a
 * database error.
 */
import { InvalidRequestError } from './errors.js'

/** `{ from?, to? }` as dates. @throws InvalidRequestError for a date `Date` cannot read, or `from` after `to`. */
export function timeRange (query: { from?: string, to?: string }): { from?: Date, to?: Date } {
  const range: { from?: Date, to?: Date } = {}
  for (const key of ['from', 'to'] as const) {
    const text = query[key]
    if (text === undefined) continue
    const date = new Date(text)
    if (Number.isNaN(date.getTime())) throw new InvalidRequestError(`query.${key}: ${JSON.stringify(text)} is not a date this server can read; send an ISO-8601 time such as 2026-12-01T00:00:00Z`)
    range[key] = date
  }
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
    throw new InvalidRequestError(`query.from: ${query.from as string} is after query.to (${query.to as string}); swap them`)
  }
  return range
}
