/**
 * Execution statuses (DESIGN.md): a state machine where `running` moves to exactly one terminal
 * state and terminal states never change. The enum doubles as the history table's `status` values.
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

/** True when `to` is a legal next state from `from`: only `running` may change, and only to a terminal state. */
export function canTransition (from: ExecutionStatus, to: ExecutionStatus): boolean {
  return from === 'running' && to !== 'running'
}

export function isExecutionStatus (value: unknown): value is ExecutionStatus {
  return typeof value === 'string' && (EXECUTION_STATUSES as readonly string[]).includes(value)
}
