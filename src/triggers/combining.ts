/**
 * `and` / `or` triggers (APScheduler 3 `AndTrigger` / `OrTrigger`) over any triggers, nested or not.
 *
 * - `or` fires at every fire time of any member; a time several members share fires once.
 * - `and` fires when all members agree: starting from a time, ask each member for its first fire
 *   time at or after it; when they differ, start again from the latest; stop when all are equal.
 *   The search is bounded by {@link MAX_AND_ROUNDS} rounds per query, shared by nested `and`s:
 *   when members do not agree within it the answer is `null` (the job is then finished), and
 *   `createTrigger` refuses an `and` whose members do not agree within it from 1970 on.
 *
 * Members keep their own `timezone`, `startDate` and `endDate`; `jitter` belongs to the
 * combination only. An `interval` member needs a `startDate`.
 */
import { checkVersion, readJitter } from './common.js'
import { joinPath, refuse, refuseUnknownKeys } from './json.js'
import type { Schedule, SearchBudget } from './schedule.js'
import type { CombiningTriggerJson } from './types.js'

/** Agreement rounds an `and` may spend on one query (all nested `and`s together). */
export const MAX_AND_ROUNDS = 1000

const COMBINING_KEYS = ['type', 'version', 'triggers', 'jitter']

class OrSchedule implements Schedule {
  readonly endMs: number
  constructor (private readonly members: Schedule[], readonly json: CombiningTriggerJson) {
    this.endMs = Math.max(...members.map((member) => member.endMs))
  }

  next (previous: number | null, now: number): number | null {
    return this.firstAtOrAfter(previous === null ? now : previous + 1, null)
  }

  firstAtOrAfter (from: number, budget: SearchBudget | null): number | null {
    let earliest = Infinity
    for (const member of this.members) {
      const fire = member.firstAtOrAfter(from, budget)
      if (fire !== null && fire < earliest) earliest = fire
    }
    return earliest === Infinity ? null : earliest
  }
}

class AndSchedule implements Schedule {
  readonly endMs: number
  constructor (private readonly members: Schedule[], readonly json: CombiningTriggerJson) {
    this.endMs = Math.min(...members.map((member) => member.endMs))
  }

  next (previous: number | null, now: number): number | null {
    return this.firstAtOrAfter(previous === null ? now : previous + 1, null)
  }

  firstAtOrAfter (from: number, budget: SearchBudget | null): number | null {
    const shared = budget ?? { rounds: MAX_AND_ROUNDS }
    let candidate = from
    while (shared.rounds > 0) {
      shared.rounds--
      let earliest = Infinity
      let latest = -Infinity
      for (const member of this.members) {
        const fire = member.firstAtOrAfter(candidate, shared)
        if (fire === null) return null
        if (fire < earliest) earliest = fire
        if (fire > latest) latest = fire
      }
      if (earliest === latest) return latest
      candidate = latest
    }
    return null
  }
}

/**
 * Compiles an `and` / `or` trigger object found at `path`; `compileMember(json, memberPath)`
 * compiles each member (the caller's dispatcher, so members may be any type).
 * @throws InvalidTriggerError for unknown keys, a bad `version` or `jitter`, a missing or empty
 *   `triggers` list, any member's problem (at `triggers[i]...`), or an `and` that never agrees
 */
export function compileCombining (
  object: Record<string, unknown>,
  path: string,
  compileMember: (json: unknown, memberPath: string) => Schedule
): Schedule {
  const type = object['type'] as 'and' | 'or'
  refuseUnknownKeys(object, COMBINING_KEYS, path, `an '${type}' trigger`)
  checkVersion(object, path)
  const jitter = readJitter(object, path)
  const listPath = joinPath(path, 'triggers')
  const list = object['triggers']
  if (!Array.isArray(list) || list.length === 0) {
    refuse(listPath, `expected a non-empty array of triggers to combine, got ${Array.isArray(list) ? 'an empty array' : typeof list}`)
  }
  const members = list.map((member, index) => compileMember(member, `${listPath}[${index}]`))
  const json: CombiningTriggerJson = { type, triggers: members.map((member) => member.json) }
  if (jitter !== undefined) json.jitter = jitter
  if (type === 'or') return new OrSchedule(members, json)
  const schedule = new AndSchedule(members, json)
  if (schedule.firstAtOrAfter(0, null) === null) {
    refuse(listPath, `the members never fire at the same instant (searched ${MAX_AND_ROUNDS} rounds from 1970); an 'and' trigger fires only when all of its members do`)
  }
  return schedule
}
