/**
 * Keeps execution leases honest (DESIGN.md protocol step 4), in every process, whether leader or not:
 * - heartbeat: every `leaseMs / 3`, extends the leases of the executions this process holds:
 *   handlers still running and outcomes not yet written (renewal lasts until the outcome is
 *   written, not merely until the handler settles). An expired lease is never revived; an
 *   execution whose lease could not be extended is reported through `onLeaseLost`, which aborts
 *   its handler's signal and emits `job:lease_lost`;
 * - watchdog: every `leaseMs / 10`, without the database: an execution whose lease this process
 *   has not renewed for `leaseMs` (measured on the monotonic clock from the moment the last
 *   successful renewal was sent, or from when this keeper first saw it held) is reported lost
 *   too. So a process cut off from the database (a partition, a hung connection) aborts its
 *   handlers' signals once their leases may have run out, without waiting to hear it from the
 *   database after the network heals;
 * - reaper: at start and every `leaseMs / 2`, marks `running` executions whose lease expired as
 *   `abandoned` (their owner died or froze), which frees their max-instances slot.
 * Faults are logged and emitted as `scheduler:error`, never thrown.
 */
import type { JobStore } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'
import type { SchedulerEventBus } from './events.js'
import { announceRetry } from './retries.js'

export const ABANDONED_REASON = 'lease expired: the owner stopped renewing it (its process died, froze, or lost the database)'

export interface LeaseKeeperDeps {
  store: JobStore
  /** Ids of the executions this process vouches for (running handlers, unwritten outcomes). */
  held: () => number[]
  /** Called with the held executions whose lease could not be extended. */
  onLeaseLost: (ids: number[], cause?: string) => void
  events: SchedulerEventBus
  log: SchedulerLogger
  nodeId: string
  leaseMs: number
  /** Milliseconds each renewal or reaping statement may take (`statementTimeoutMs`); a hung connection fails it instead of stalling renewals. */
  statementTimeoutMs: number
  clock: (() => Date) | null
  /** Called when the reaper abandoned executions: their instance slots are free, so queued runs may start. */
  onReaped?: () => void
}

export class LeaseKeeper {
  readonly #deps: LeaseKeeperDeps
  readonly #timers: NodeJS.Timeout[] = []
  /** Execution id → `performance.now()` from which its lease is known to last `leaseMs`. */
  readonly #renewedAt = new Map<number, number>()

  constructor (deps: LeaseKeeperDeps) {
    this.#deps = deps
  }

  start (): void {
    this.#every(Math.max(1, Math.floor(this.#deps.leaseMs / 3)), 'lease heartbeat', async () => { await this.heartbeat() })
    this.#every(Math.max(1, Math.floor(this.#deps.leaseMs / 2)), 'abandoned-execution reaper', async () => { await this.reap() })
    const watchdog = setInterval(() => { this.expireUnrenewed() }, Math.max(10, Math.floor(this.#deps.leaseMs / 10)))
    watchdog.unref()
    this.#timers.push(watchdog)
  }

  stop (): void {
    for (const timer of this.#timers.splice(0)) clearInterval(timer)
  }

  /** Extends the held executions' leases; returns the ids whose lease was lost. */
  async heartbeat (): Promise<number[]> {
    const { store, held, onLeaseLost, nodeId, leaseMs, clock } = this.#deps
    const ids = held()
    if (ids.length === 0) return []
    this.#track(ids)
    // The database sets lease_until from its now(), which is no earlier than this moment.
    const sentAt = performance.now()
    const extended = new Set(await store.extendLeases(nodeId, ids, leaseMs, clock?.() ?? null, { timeoutMs: this.#deps.statementTimeoutMs }))
    for (const id of extended) if (this.#renewedAt.has(id)) this.#renewedAt.set(id, sentAt)
    const stillHeld = new Set(held())
    const lost = ids.filter((id) => !extended.has(id) && stillHeld.has(id))
    if (lost.length > 0) onLeaseLost(lost)
    return lost
  }

  /**
   * The watchdog: reports the held executions whose lease has not been renewed for `leaseMs`
   * (the database was unreachable, or this process was frozen); returns their ids.
   */
  expireUnrenewed (): number[] {
    const { held, onLeaseLost, leaseMs } = this.#deps
    const ids = held()
    this.#track(ids)
    const now = performance.now()
    const lost = ids.filter((id) => now - (this.#renewedAt.get(id) as number) >= leaseMs)
    if (lost.length > 0) onLeaseLost(lost, `this process could not renew it for ${leaseMs} ms (leaseMs): the database was unreachable or the process was paused`)
    return lost
  }

  /** Starts the clock of newly held executions (their claim set the lease just before) and forgets released ones. */
  #track (ids: number[]): void {
    const now = performance.now()
    const current = new Set(ids)
    for (const id of this.#renewedAt.keys()) if (!current.has(id)) this.#renewedAt.delete(id)
    for (const id of ids) if (!this.#renewedAt.has(id)) this.#renewedAt.set(id, now)
  }

  /** Marks expired executions abandoned; returns how many. */
  async reap (): Promise<number> {
    const { store, events, log, clock } = this.#deps
    const abandoned = await store.abandonExpiredExecutions(ABANDONED_REASON, clock?.() ?? null, { timeoutMs: this.#deps.statementTimeoutMs })
    for (const execution of abandoned) {
      log.warn({ jobId: execution.jobId, executionId: execution.id, owner: execution.owner }, 'execution abandoned: its lease expired')
      events.emit('job:abandoned', { jobId: execution.jobId, execution })
      announceRetry(events, log, { jobId: execution.jobId, execution })
    }
    if (abandoned.length > 0) this.#deps.onReaped?.()
    return abandoned.length
  }

  #every (ms: number, during: string, tick: () => Promise<void>): void {
    let busy = false
    const timer = setInterval(() => {
      if (busy) return
      busy = true
      tick().catch((error: Error) => {
        this.#deps.log.error({ err: error }, `scheduler ${during} failed; retrying`)
        this.#deps.events.emit('scheduler:error', { error, during })
      }).finally(() => { busy = false })
    }, ms)
    timer.unref()
    this.#timers.push(timer)
  }
}
