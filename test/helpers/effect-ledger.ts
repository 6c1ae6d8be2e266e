/**
 * The effect ledger: evidence of exactly-once that the code under test does not produce.
 *
 * Every handler of the real-process tests (test/cluster, test/failure) and of the soak calls
 * `recordEffect` first thing, before it returns: one JSON line `{ jobId, runTime, pid, at }`
 * appended (`appendFileSync`, one `write(2)`, so a SIGKILL cannot tear it) to its own file
 * `<pid>.jsonl` in the directory named by `EFFECT_LEDGER_DIR`, outside the database and outside
 * the scheduler's transactions. `checkEffects` then counts effects per attempt of an occurrence
 * (`job_id`, `run_time`, `attempt`: a retried or recovered occurrence has one row and at most one
 * effect per attempt; `attempt` is written only from 2 on) and judges the execution table by them:
 *
 * - an attempt with two effects is a duplicate, whatever the table says;
 * - a `success`, `error` or `timeout` row needs exactly one effect (the handler ran);
 * - an `abandoned`, `running` or `queued` row may have zero or one (its owner may have died
 *   before or after the handler started);
 * - a `missed` or `max_instances` row has none (the handler was not run);
 * - every effect has a row.
 *
 * Erasable TypeScript with node: imports only: the soak (`node --experimental-strip-types`,
 * against `dist/`) imports this same module.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Environment variable naming the ledger directory; when unset, `recordEffect` records nothing. */
export const LEDGER_ENV = 'EFFECT_LEDGER_DIR'

/**
 * One handler invocation. `runTime`: ISO string of the occurrence's run time; `at`: `Date.now()` in
 * ms when it started; `attempt`: which attempt of the occurrence (`ctx.attempt`; absent = 1).
 */
export interface Effect {
  jobId: string
  runTime: string
  pid: number
  at: number
  attempt?: number
}

/** The columns of `scheduler_job_execution` the checker reads (`attempt` absent = 1). */
export interface ExecutionRowLike {
  job_id: string
  run_time: Date
  status: string
  attempt?: number
}

/** What `checkEffects` found; every list holds one readable line per offending occurrence. */
export interface EffectCheck {
  /** Effects read from the ledger. */
  effects: number
  /** Occurrences with more than one effect. */
  duplicated: string[]
  /** Rows whose status says the handler ran (success, error, timeout) with no effect. */
  missing: string[]
  /** Effects with no row for their occurrence. */
  unrecorded: string[]
  /** Effects for rows whose status says the handler did not run (missed, max_instances). */
  unexpected: string[]
  /** Ledger lines that do not parse (none expected: each line is one write). */
  torn: string[]
}

const RAN = new Set(['success', 'error', 'timeout'])
const MAYBE_RAN = new Set(['abandoned', 'running', 'queued'])

/** Appends the effect of one handler invocation to this process's ledger file, if a ledger is configured. */
export function recordEffect (jobId: string, runTime: Date, dir: string | undefined = process.env[LEDGER_ENV], attempt = 1): void {
  if (dir === undefined || dir === '') return
  const effect: Effect = { jobId, runTime: runTime.toISOString(), pid: process.pid, at: Date.now(), ...(attempt === 1 ? {} : { attempt }) }
  appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify(effect)}\n`)
}

/** Creates the ledger directory (and its parents) if missing; returns it. */
export function createLedger (dir: string): string {
  mkdirSync(dir, { recursive: true })
  return dir
}

/** Every effect in the ledger directory, sorted by start time `at` (then pid). Unparsable lines go to `torn`. */
export function readLedger (dir: string, torn: string[] = []): Effect[] {
  const effects: Effect[] = []
  let files: string[]
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.jsonl'))
  } catch {
    return effects
  }
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line === '') continue
      try {
        const effect = JSON.parse(line) as Effect
        if (typeof effect.jobId !== 'string' || typeof effect.runTime !== 'string' || typeof effect.pid !== 'number') throw new Error('bad shape')
        effects.push(effect)
      } catch {
        torn.push(`${file}: ${line.slice(0, 200)}`)
      }
    }
  }
  return effects.sort((a, b) => a.at - b.at || a.pid - b.pid)
}

/** The occurrence key `job_id run_time(ISO)`, as used in every message of the checker. */
export function occurrenceKey (jobId: string, runTime: Date | string): string {
  return `${jobId} ${typeof runTime === 'string' ? runTime : runTime.toISOString()}`
}

/** The key of one attempt: the occurrence key, with ` attempt n` from the second attempt on. */
function attemptKey (jobId: string, runTime: Date | string, attempt: number | undefined): string {
  return (attempt ?? 1) === 1 ? occurrenceKey(jobId, runTime) : `${occurrenceKey(jobId, runTime)} attempt ${attempt as number}`
}

/** Judges the execution table `rows` by the ledger's `effects` (rules in the module comment), attempt by attempt. */
export function checkEffects (effects: Effect[], rows: ExecutionRowLike[], torn: string[] = []): EffectCheck {
  const byOccurrence = new Map<string, Effect[]>()
  for (const effect of effects) {
    const key = attemptKey(effect.jobId, new Date(effect.runTime), effect.attempt)
    const list = byOccurrence.get(key)
    if (list === undefined) byOccurrence.set(key, [effect])
    else list.push(effect)
  }
  const rowStatuses = new Map<string, string[]>()
  for (const row of rows) {
    const key = attemptKey(row.job_id, row.run_time, row.attempt)
    rowStatuses.set(key, [...(rowStatuses.get(key) ?? []), row.status])
  }
  const check: EffectCheck = { effects: effects.length, duplicated: [], missing: [], unrecorded: [], unexpected: [], torn: [...torn] }
  for (const [key, list] of byOccurrence) {
    const statuses = rowStatuses.get(key)
    if (list.length > 1) check.duplicated.push(`${key} ×${list.length} (pids ${list.map((effect) => effect.pid).join(', ')}; rows: ${statuses?.join(', ') ?? 'none'})`)
    if (statuses === undefined) check.unrecorded.push(`${key} (pid ${list[0]?.pid})`)
    else if (statuses.every((status) => !RAN.has(status) && !MAYBE_RAN.has(status))) check.unexpected.push(`${key} is ${statuses.join(', ')} but its handler ran (pid ${list[0]?.pid})`)
  }
  for (const [key, statuses] of rowStatuses) {
    if (statuses.some((status) => RAN.has(status)) && !byOccurrence.has(key)) check.missing.push(`${key} is ${statuses.join(', ')} with no effect`)
  }
  return check
}

/** Reads the ledger in `dir` and checks it against `rows`. */
export function checkLedger (dir: string, rows: ExecutionRowLike[]): EffectCheck {
  const torn: string[] = []
  return checkEffects(readLedger(dir, torn), rows, torn)
}
