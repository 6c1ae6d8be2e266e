/**
 * The soak's independent oracle: which occurrences must exist, by plain arithmetic rather than
 * the library's trigger code. The soak's jobs are interval jobs anchored at a fixed `startDate`,
 * so their run times are exactly `startDate + k × interval` for k = 0, 1, … up to and including
 * `endDate` (APScheduler's IntervalTrigger: the first fire time is the start date, the end date
 * is inclusive). A row or an effect for any other (job, run time) should not exist.
 *
 * Erasable TypeScript (the soak runs under `node --experimental-strip-types`).
 */

/** Run times (ms since the epoch) of an interval of `intervalMs` from `startMs` to `endMs` inclusive. */
export function expectedRunTimes (startMs: number, endMs: number, intervalMs: number): number[] {
  if (!(intervalMs > 0)) throw new Error(`interval must be positive, got ${intervalMs} ms`)
  const times: number[] = []
  for (let k = 0; startMs + k * intervalMs <= endMs; k++) times.push(startMs + k * intervalMs)
  return times
}

/** Keys `job run_time(ISO)` of every expected occurrence of jobs `soak-0` … `soak-<jobs - 1>`. */
export function expectedOccurrences (jobs: number, runTimes: number[]): string[] {
  const keys: string[] = []
  for (let i = 0; i < jobs; i++) for (const time of runTimes) keys.push(`soak-${i} ${new Date(time).toISOString()}`)
  return keys
}

/** The keys of `found` (rows or effects) that are not expected occurrences, without repeats. */
export function unexpectedOccurrences (expected: Set<string>, found: Iterable<string>): string[] {
  const extra = new Set<string>()
  for (const key of found) if (!expected.has(key)) extra.add(key)
  return [...extra]
}
