/**
 * `createTrigger`: trigger JSON (DESIGN.md, "Trigger JSON") → a validated, compiled `Trigger`.
 */
import { compileCombining } from './combining.js'
import { compileCron } from './cron.js'
import { compileDate } from './date.js'
import { compileInterval } from './interval.js'
import { joinPath, readObject, refuse, show } from './json.js'
import type { Schedule } from './schedule.js'
import { TRIGGER_JSON_VERSION, type Trigger, type TriggerJson } from './types.js'

/** The public `Trigger` over a compiled {@link Schedule}. */
class CompiledTrigger implements Trigger {
  readonly jitterSeconds: number | null
  readonly endDate: Date | null

  constructor (private readonly schedule: Schedule) {
    const jitter = schedule.json.jitter
    this.jitterSeconds = jitter === undefined || jitter === 0 ? null : jitter
    this.endDate = Number.isFinite(schedule.endMs) ? new Date(schedule.endMs) : null
  }

  toJSON (): TriggerJson {
    const { type, ...rest } = this.schedule.json
    return structuredClone({ type, version: TRIGGER_JSON_VERSION, ...rest }) as TriggerJson
  }

  getNextFireTime (previousFireTime: Date | null, now: Date): Date | null {
    const nowMs = now.getTime()
    const previousMs = previousFireTime === null ? null : previousFireTime.getTime()
    if (Number.isNaN(nowMs) || Number.isNaN(previousMs)) throw new TypeError('getNextFireTime: previousFireTime and now must be valid Dates')
    const fire = this.schedule.next(previousMs, nowMs)
    return fire === null ? null : new Date(fire)
  }
}

/**
 * Validates and compiles trigger JSON; parse once, then call `getNextFireTime` as often as needed.
 *
 * @param json `{ type: 'cron' | 'interval' | 'date' | 'and' | 'or', ... }` (see `types.ts`), as
 *   given by a user or as written by `toJSON()` (`version` 1 or absent)
 * @throws InvalidTriggerError naming the field path (`triggers[1].fields.hour`) and the problem,
 *   including schedules that can never fire; never slow (bounded work, well under a second)
 */
export function createTrigger (json: unknown): Trigger {
  return new CompiledTrigger(compile(json, '', false))
}

function compile (json: unknown, path: string, member: boolean): Schedule {
  const object = readObject(json, path, "a trigger object such as { \"type\": \"cron\", \"expression\": \"0 9 * * *\" }")
  if (member && object['jitter'] !== undefined) {
    refuse(joinPath(path, 'jitter'), "a member's jitter would be ignored; set jitter on the enclosing 'and' / 'or' trigger")
  }
  const type = object['type']
  switch (type) {
    case 'cron': return compileCron(object, path)
    case 'interval': return compileInterval(object, path, member)
    case 'date': return compileDate(object, path)
    case 'and':
    case 'or': return compileCombining(object, path, (memberJson, memberPath) => compile(memberJson, memberPath, true))
    default: return refuse(joinPath(path, 'type'), `unknown trigger type ${show(type)}; use 'cron', 'interval', 'date', 'and' or 'or'`)
  }
}
