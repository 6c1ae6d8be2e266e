/**
 * The tasks of this process: handler by name (`registerTask`). A job names its task; a process with
 * `execute: true` that has the task runs its executions, and a job whose task no live such process
 * has registered is flagged, not run (cluster-tasks.ts).
 */
import { InvalidJobError, TaskNotRegisteredError } from '../errors.js'
import type { TaskHandler } from '../types.js'

export class TaskRegistry extends Map<string, TaskHandler> {
  /** @throws InvalidJobError when the name is empty, the handler not a function, or the name taken by another handler. */
  register (name: string, handler: TaskHandler): void {
    if (typeof name !== 'string' || name.trim() === '') throw new InvalidJobError('task', 'name must be a non-empty string')
    if (typeof handler !== 'function') throw new InvalidJobError('task', `handler for '${name}' must be a function`)
    const existing = this.get(name)
    if (existing !== undefined && existing !== handler) {
      throw new InvalidJobError('task', `'${name}' is already registered to another handler; task names must be unique`)
    }
    this.set(name, handler)
  }

  /** @throws TaskNotRegisteredError when no handler is registered for `task`. */
  require (task: string): void {
    if (!this.has(task)) throw new TaskNotRegisteredError(task)
  }

  /** The registered names, sorted. */
  get names (): string[] {
    return [...this.keys()].sort()
  }
}
