/**
 * A job's retry policy (issue #14): how many attempts one occurrence gets and how long a failed
 * attempt waits before the next. Pure: validation, normalisation and the backoff arithmetic.
 *
 * Rules taken from the peers: `attempts` counts every attempt, the first included (BullMQ
 * `attempts`, graphile-worker `max_attempts`); `exponential` doubles the delay after each failed
 * attempt (`delayMs × 2^(attempt − 1)`, BullMQ's and pg-boss's `retryBackoff`), capped at
 * `maxDelayMs`; the delay is then jittered (up to 20 % shorter, never longer, so the cap holds),
 * so retries of many occurrences that failed together do not all fall on one instant.
 */

/** A stored retry policy, every field explicit (the `retry` column of `scheduler_job`). */
export interface RetryPolicy {
  /** Attempts per occurrence, the first included: 2 to 1000 (1 would be no retry, stored as `null`). */
  attempts: number
  /** `fixed`: every retry waits `delayMs`; `exponential`: `delayMs × 2^(attempt − 1)`. */
  backoff: 'fixed' | 'exponential'
  /** Milliseconds before the first retry (0 to 2,147,483,647). */
  delayMs: number
  /** Milliseconds no retry waits longer than (at least `delayMs`). */
  maxDelayMs: number
}

/** What callers may pass: `attempts` is required, the rest default (`exponential`, 1000 ms, 1 hour). */
export interface RetryOptions {
  /** Attempts per occurrence, the first included (1 = no retry). */
  attempts: number
  /** Default `'exponential'`. */
  backoff?: 'fixed' | 'exponential'
  /** Milliseconds before the first retry. Default `1000`. */
  delayMs?: number
  /** Milliseconds no retry waits longer than. Default `3_600_000` (one hour), or `delayMs` when that is longer. */
  maxDelayMs?: number
}

/** Most attempts one occurrence may have. */
export const MAX_ATTEMPTS = 1000
const MAX_DELAY_MS = 2_147_483_647
const DEFAULT_DELAY_MS = 1000
const DEFAULT_MAX_DELAY_MS = 3_600_000
/** A retry's delay is drawn from [(1 − JITTER) × backoff, backoff]. */
const JITTER = 0.2
const KEYS = new Set(['attempts', 'backoff', 'delayMs', 'maxDelayMs'])

/**
 * Validates `retry` and returns the policy to store: `null` for no retry (`null`, `undefined` or
 * `attempts: 1`). `fail(field, rule)` throws the caller's error (`InvalidJobError`,
 * `InvalidOptionsError`) naming `retry.<field>`.
 */
export function parseRetryPolicy (value: unknown, fail: (field: string, rule: string) => never): RetryPolicy | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail('retry', `must be null (no retry) or an object like { attempts: 5, backoff: 'exponential', delayMs: 1000, maxDelayMs: 60000 }, got ${show(value)}`)
  }
  const given = value as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!KEYS.has(key)) fail(`retry.${key}`, `is not a retry option; use attempts, backoff, delayMs and maxDelayMs`)
  }
  const { attempts, backoff = 'exponential', delayMs = DEFAULT_DELAY_MS } = given
  if (!Number.isSafeInteger(attempts) || (attempts as number) < 1 || (attempts as number) > MAX_ATTEMPTS) {
    fail('retry.attempts', `must be a whole number of attempts from 1 (no retry) to ${MAX_ATTEMPTS}, the first attempt included, got ${show(attempts)}`)
  }
  if (backoff !== 'fixed' && backoff !== 'exponential') fail('retry.backoff', `must be 'fixed' or 'exponential', got ${show(backoff)}`)
  if (!isDelay(delayMs)) fail('retry.delayMs', `must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}, got ${show(delayMs)}`)
  const maxDelayMs = given.maxDelayMs ?? Math.max(DEFAULT_MAX_DELAY_MS, delayMs as number)
  if (!isDelay(maxDelayMs) || (maxDelayMs as number) < (delayMs as number)) {
    fail('retry.maxDelayMs', `must be a whole number of milliseconds from delayMs (${delayMs as number}) to ${MAX_DELAY_MS}, got ${show(maxDelayMs)}`)
  }
  if (attempts === 1) return null
  return { attempts: attempts as number, backoff: backoff as RetryPolicy['backoff'], delayMs: delayMs as number, maxDelayMs: maxDelayMs as number }
}

/**
 * Milliseconds to wait after failed attempt `attempt` (1 for the first) before the next one, or
 * `null` when the occurrence has no attempt left. `random` in [0, 1) draws the jitter.
 */
export function retryDelayMs (policy: RetryPolicy | null, attempt: number, random: () => number): number | null {
  if (policy === null || attempt >= policy.attempts) return null
  const backoff = policy.backoff === 'fixed'
    ? policy.delayMs
    : Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.min(attempt - 1, 40))
  const capped = Math.min(policy.maxDelayMs, backoff)
  return Math.round(capped * (1 - JITTER * random()))
}

/** Whether an occurrence whose attempt `attempt` ended has another one under `policy`. */
export function hasAttemptsLeft (policy: RetryPolicy | null, attempt: number): boolean {
  return policy !== null && attempt < policy.attempts
}

function isDelay (value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_DELAY_MS
}

function show (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return typeof value
  }
}
