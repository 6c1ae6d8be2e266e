/**
 * Execution statuses (DESIGN.md): a state machine where `running` moves to exactly one terminal
 * state and terminal states never change. The enum doubles as the history table's `status` values.
 * The machine is enforced where the rows are written: terminal rows are inserted terminal
 * (`missed`, `max_instances`), and every update of a row is guarded by `WHERE status = 'running'`
 * (`finishExecution`, `abandonExpiredExecutions`), so a late outcome never overwrites another.
 */
export const EXECUTION_STATUSES = ['running', 'success', 'error', 'missed', 'max_instances', 'timeout', 'abandoned'] as const

export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]

export type TerminalStatus = Exclude<ExecutionStatus, 'running'>

/** How the statuses read to people (the labels django-apscheduler users know). */
export const STATUS_LABELS: Readonly<Record<ExecutionStatus, string>> = {
  running: 'Started execution',
  success: 'Executed',
  error: 'Error!',
  missed: 'Missed!',
  max_instances: 'Max instances!',
  timeout: 'Timed out',
  abandoned: 'Abandoned'
}
