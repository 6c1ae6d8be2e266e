/**
 * The soak's evidence from outside the execution table: every worker's handlers append their
 * effects to a ledger directory (test/helpers/effect-ledger.ts, the same module and rules as the
 * tests), and at the end it is compared with the table. Also counts late outcomes: outcomes that
 * arrived for a row already `abandoned`, recorded in `scheduler_job_execution.late_status` when
 * the schema has that column (0 when it does not).
 *
 * Erasable TypeScript (the soak runs under `node --experimental-strip-types`).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkLedger, readLedger, occurrenceKey, type EffectCheck, type ExecutionRowLike } from '../test/helpers/effect-ledger.ts'

export { LEDGER_ENV } from '../test/helpers/effect-ledger.ts'

/** A fresh, empty ledger directory under the system's temporary directory. */
export function createSoakLedger (): string {
  return mkdtempSync(join(tmpdir(), 'fms-soak-ledger-'))
}

export function removeSoakLedger (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

export interface LedgerEvidence extends EffectCheck {
  /** Occurrence keys (`job run_time`) of every effect, for the oracle. */
  keys: string[]
}

/** Checks the ledger in `dir` against the table's rows. */
export function ledgerEvidence (dir: string, rows: ExecutionRowLike[]): LedgerEvidence {
  const check = checkLedger(dir, rows)
  const keys = readLedger(dir).map((effect) => occurrenceKey(effect.jobId, new Date(effect.runTime)))
  return { ...check, keys }
}

type Query = <Row>(text: string, values?: unknown[]) => Promise<Row[]>

/** Rows with a late outcome (`late_status` set), or 0 when the execution table has no such column. */
export async function lateOutcomes (sql: Query): Promise<number> {
  const [column] = await sql<{ n: number }>(`select count(*)::int as n from information_schema.columns
    where table_schema = current_schema() and table_name = 'scheduler_job_execution' and column_name = 'late_status'`)
  if (column?.n !== 1) return 0
  const [row] = await sql<{ n: number }>("select count(*)::int as n from scheduler_job_execution where status = 'abandoned' and late_status is not null")
  return row?.n ?? 0
}
