/**
 * The effect ledger in tap tests (the ledger and its rules: `effect-ledger.ts`): one ledger
 * directory per test, handed to the worker processes it starts through `EFFECT_LEDGER_DIR`, and
 * `assertEffects`, which judges the execution table by the ledger once the workers have stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { checkLedger, LEDGER_ENV, readLedger, type Effect, type EffectCheck, type ExecutionRowLike } from './effect-ledger.js'
import { query } from './database.js'
import type { TestDatabase } from './test-databases.js'

interface Teardown { teardown(fn: () => unknown): void }

const ledgers = new WeakMap<object, string>()

/** The ledger directory of test `t`: created on first use, removed at its teardown. */
export function ledgerDir (t: Teardown): string {
  let dir = ledgers.get(t)
  if (dir === undefined) {
    const created = mkdtempSync(join(tmpdir(), 'fms-ledger-'))
    dir = created
    ledgers.set(t, created)
    t.teardown(() => rmSync(created, { recursive: true, force: true }))
  }
  return dir
}

/** `{ EFFECT_LEDGER_DIR: ledgerDir(t) }`, to spread into a worker's environment. */
export function ledgerEnv (t: Teardown): Record<string, string> {
  return { [LEDGER_ENV]: ledgerDir(t) }
}

/** Every effect recorded so far in test `t`'s ledger, by start time. */
export function effectsOf (t: Teardown): Effect[] {
  return readLedger(ledgerDir(t))
}

/**
 * Asserts the ledger's rules against `rows` (default: every row of `scheduler_job_execution` in
 * the database of `url`): no occurrence with two effects, every row whose handler ran with its
 * one effect, every effect with a row, no effect for a missed or max_instances row, at least
 * `minEffects` effects (default 1: a ledger nobody wrote to proves nothing). Call it once the
 * workers have stopped. Returns the check for further assertions.
 */
export async function assertEffects (t: Test, source: { url: string } | { rows: ExecutionRowLike[] }, minEffects = 1): Promise<EffectCheck> {
  const rows = 'rows' in source
    ? source.rows
    : await query<ExecutionRowLike>(source.url, 'select job_id, run_time, status, attempt from scheduler_job_execution')
  const check = checkLedger(ledgerDir(t), rows)
  t.ok(check.effects >= minEffects, `ledger: ${check.effects} handler effects recorded for ${rows.length} execution rows (at least ${minEffects})`)
  t.same(check.duplicated, [], 'ledger: no occurrence has two effects')
  t.same(check.missing, [], 'ledger: every success / error / timeout row has exactly one effect')
  t.same(check.unrecorded, [], 'ledger: every effect has an execution row')
  t.same(check.unexpected, [], 'ledger: no effect for a missed or max_instances row')
  t.same(check.torn, [], 'ledger: every line is whole')
  return check
}

/** `assertEffects` on any test database (`SERVER_DATABASES`): every execution row of the database at `url`, read through `db.query`. */
export async function assertEffectsIn (t: Test, db: TestDatabase, url: string, minEffects = 1): Promise<EffectCheck> {
  const rows = await db.query<ExecutionRowLike>(url, 'select job_id, run_time, status, attempt from scheduler_job_execution')
  return assertEffects(t, { rows }, minEffects)
}
