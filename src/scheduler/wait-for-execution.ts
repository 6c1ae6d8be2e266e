/**
 * `Scheduler.waitForExecution`: resolves with the execution once it has finished (any status but
 * `queued` and `running`), whichever process ran it. Polls the store (25 ms, doubling up to
 * 500 ms) and wakes early on this process's own outcome events.
 */
import { ExecutionNotFoundError, WaitTimeoutError } from '../errors.js'
import type { ExecutionRecord, JobStore } from '../stores/job-store.js'
import type { SchedulerEventBus } from './events.js'
import { Waker } from './waker.js'

/** @throws ExecutionNotFoundError for an unknown id; WaitTimeoutError when it is still unfinished after `timeoutMs` milliseconds. */
export async function waitForExecution (store: JobStore, events: SchedulerEventBus, id: number, timeoutMs: number): Promise<ExecutionRecord> {
  const deadline = performance.now() + timeoutMs
  const waker = new Waker()
  const offs = (['job:executed', 'job:error', 'job:abandoned', 'job:max_instances'] as const)
    .map((event) => events.on(event, ({ execution }) => { if (execution.id === id) waker.wake() }))
  try {
    for (let pollMs = 25; ; pollMs = Math.min(pollMs * 2, 500)) {
      const execution = await store.getExecution(id)
      if (execution === null) throw new ExecutionNotFoundError(id)
      if (execution.status !== 'queued' && execution.status !== 'running') return execution
      const left = deadline - performance.now()
      if (left <= 0) throw new WaitTimeoutError(id, timeoutMs, execution.status)
      await waker.sleep(Math.min(pollMs, left))
    }
  } finally {
    for (const off of offs) off()
  }
}
