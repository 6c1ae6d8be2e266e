/** Helpers for trigger tests: fire-time sequences as ISO strings, and refusals. */
import type { Test } from 'tap'
import { InvalidTriggerError } from '../../src/errors.js'
import { createTrigger } from '../../src/triggers/index.js'

/**
 * The vectors' protocol: fires[0] = getNextFireTime(null, start), fires[k] = getNextFireTime(fires[k-1], fires[k-1]).
 * Returns up to `count` fire times as ISO strings, then `'end'` if the trigger was exhausted before `count`.
 */
export function fireTimes (json: unknown, start: string, count: number): string[] {
  const trigger = createTrigger(json)
  const fires: string[] = []
  let fire = trigger.getNextFireTime(null, new Date(start))
  while (fire !== null && fires.length < count) {
    fires.push(fire.toISOString())
    fire = trigger.getNextFireTime(fire, fire)
  }
  if (fire === null) fires.push('end')
  return fires
}

/** ISO strings normalised to `toISOString()` form, so instants compare and not spellings. */
export function instants (...texts: string[]): string[] {
  return texts.map((text) => text === 'end' ? 'end' : new Date(text).toISOString())
}

/**
 * Asserts that `createTrigger(json)` throws an `InvalidTriggerError` within 1 s whose message
 * names `path` and matches `problem`.
 */
export function assertRefused (t: Test, json: unknown, path: string, problem: RegExp, name = `refuses ${JSON.stringify(json)}`): void {
  const started = performance.now()
  let caught: unknown
  try {
    createTrigger(json)
  } catch (error) {
    caught = error
  }
  const elapsedMs = performance.now() - started
  t.test(name, async (t) => {
    t.ok(caught instanceof InvalidTriggerError, 'throws InvalidTriggerError')
    const message = (caught as Error | undefined)?.message ?? ''
    t.ok(message.startsWith(`invalid trigger: ${path}: `), `names the path ${path}: ${message}`)
    t.match(message, problem, 'names the problem')
    t.ok(elapsedMs < 1000, `fast (${elapsedMs.toFixed(1)} ms)`)
  })
}
