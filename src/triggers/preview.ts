/**
 * Previews: the next fire times of a trigger JSON, for UIs and the REST API.
 */
import { createTrigger } from './create.js'

/** Most fire times one preview returns. */
export const MAX_PREVIEW_COUNT = 1000

/** Options of {@link previewFireTimes}. */
export interface PreviewOptions {
  /** How many fire times, 1-{@link MAX_PREVIEW_COUNT}; default 10. */
  count?: number
  /** Start of the preview: fire times at or after it (an unanchored interval starts at it). */
  from: Date
}

/**
 * The next `count` fire times of `json` at or after `from`, fewer when the trigger is exhausted.
 * Work is bounded (each step is a bounded search), sparse schedules (`0 0 29 2 *`, `{ year: 2099 }`) included.
 * @throws InvalidTriggerError when `json` is invalid; RangeError for a bad `count` or `from`
 */
export function previewFireTimes (json: unknown, options: PreviewOptions): Date[] {
  const { count = 10, from } = options
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW_COUNT) {
    throw new RangeError(`previewFireTimes: count must be an integer from 1 to ${MAX_PREVIEW_COUNT}, got ${count}`)
  }
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) throw new RangeError('previewFireTimes: from must be a valid Date')
  const trigger = createTrigger(json)
  const fires: Date[] = []
  let fire = trigger.getNextFireTime(null, from)
  while (fire !== null && fires.length < count) {
    if (fire >= from) fires.push(fire)
    fire = trigger.getNextFireTime(fire, fire)
  }
  return fires
}
