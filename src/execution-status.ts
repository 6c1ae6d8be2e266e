/**
 * Execution statuses (DESIGN.md, plus `queued`): a state machine where `queued` (a run asked for
 * with `runJob`, waiting for the leader) moves to `running` or straight to a terminal state,
 * `running` moves to exactly one terminal state, and terminal states never change. The enum
 * doubles as the history table's `status` values. The machine is enforced where the rows are
 * written: terminal rows are inserted terminal (`missed`, `max_instances`), and every update is
 * guarded by the status it leaves (`WHERE status = 'queued'` when the leader starts a queued run,
 * `WHERE status = 'running'` in `finishExecution` and `abandonExpiredExecutions`), so a late
 * outcome never overwrites another.
 */
export const EXECUTION_STATUSES = ['queued', 'running', 'success', 'error', 'missed', 'max_instances', 'timeout', 'abandoned'] as const

export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]

export type TerminalStatus = Exclude<ExecutionStatus, 'running' | 'queued'>

/** How the statuses read to people (the labels django-apscheduler users know). */
export const STATUS_LABELS: Readonly<Record<ExecutionStatus, string>> = {
  queued: 'Queued',
  running: 'Started execution',
  success: 'Executed',
  error: 'Error!',
  missed: 'Missed!',
  max_instances: 'Max instances!',
  timeout: 'Timed out',
  abandoned: 'Abandoned'
}
