/**
 * The next occurrence of a job as stored: its exact fire time (`nextFireTime`, which becomes the
 * execution's `runTime` and so the occurrence key) and when it is claimed (`nextRunTime`, the fire
 * time plus the trigger's random jitter, never reaching the following fire time nor `endDate`).
 */
import { computeJitterMs } from '../triggers/index.js'
import type { Trigger } from '../triggers/types.js'

export interface NextOccurrence {
  nextFireTime: Date | null
  nextRunTime: Date | null
}

export function nextOccurrence (trigger: Trigger, fireTime: Date | null, random: () => number): NextOccurrence {
  if (fireTime === null) return { nextFireTime: null, nextRunTime: null }
  if (trigger.jitterSeconds === null) return { nextFireTime: fireTime, nextRunTime: fireTime }
  const following = trigger.getNextFireTime(fireTime, fireTime)
  return { nextFireTime: fireTime, nextRunTime: new Date(fireTime.getTime() + computeJitterMs(trigger, fireTime, following, random)) }
}
