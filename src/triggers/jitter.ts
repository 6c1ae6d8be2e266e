/**
 * Jitter: a random delay per occurrence (APScheduler 3 `BaseTrigger._apply_jitter`), bounded so
 * that a delayed run never reaches the next fire time and never passes `endDate`.
 */
import type { Trigger } from './types.js'

/**
 * The delay in ms, an integer in `[0, jitterSeconds * 1000]`, to add to `fireTime`; strictly
 * before `nextFireTime` (when given) and not after `trigger.endDate`. 0 without jitter.
 *
 * @param random a source of numbers in [0, 1) (default `Math.random`; pass a seeded one in tests)
 */
export function computeJitterMs (trigger: Trigger, fireTime: Date, nextFireTime: Date | null, random: () => number = Math.random): number {
  if (trigger.jitterSeconds === null) return 0
  const fire = fireTime.getTime()
  let maxMs = Math.floor(trigger.jitterSeconds * 1000)
  if (nextFireTime !== null) maxMs = Math.min(maxMs, nextFireTime.getTime() - fire - 1)
  if (trigger.endDate !== null) maxMs = Math.min(maxMs, trigger.endDate.getTime() - fire)
  if (maxMs <= 0) return 0
  return Math.min(maxMs, Math.floor(random() * (maxMs + 1)))
}
