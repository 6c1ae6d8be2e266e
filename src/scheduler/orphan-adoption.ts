/**
 * Adoption of executions this process claimed without learning it. A claim transaction can commit
 * at the server while this process sees it fail: the client deadline fires while COMMIT is in
 * flight, or the answer to COMMIT is lost with its connection. Its `running` rows are then owned by
 * this node, leased, and run by nobody (they would wait out their lease and become `abandoned`: a
 * lost occurrence). After a failed claim, for one lease length, the loop asks the store for this
 * node's `running` executions that the runner was never given, and runs them as the claim would
 * have. No handler has run for them (the runner never saw their ids), so running them keeps
 * exactly-once. The runner knows every execution it held when the claim failed, every one it was
 * given since, and every one whose outcome it gave up on; an id watermark would not do, because a
 * claim starts queued runs and retries whose rows (and ids) were written long before.
 */
import type { JobStore } from '../stores/job-store.js'
import type { SchedulerLogger } from '../types.js'
import type { ExecutionRunner } from './execution-runner.js'

/** The most rows one adoption pass reads; a larger claim is adopted over several passes. */
const ADOPT_LIMIT = 1000

export class OrphanAdoption {
  readonly #store: JobStore
  readonly #runner: ExecutionRunner
  readonly #log: SchedulerLogger
  readonly #nodeId: string
  readonly #leaseMs: number
  readonly #statementTimeoutMs: number
  readonly #clock: (() => Date) | null
  /** `performance.now()` until which adoption passes run; 0 when none is needed. */
  #until = 0
  /** The pass under way: both loops ask for passes, and only one runs at a time. */
  #pass: Promise<number> | null = null

  constructor (deps: { store: JobStore, runner: ExecutionRunner, log: SchedulerLogger, nodeId: string, leaseMs: number, statementTimeoutMs: number, clock?: (() => Date) | null }) {
    this.#store = deps.store
    this.#clock = deps.clock ?? null
    this.#runner = deps.runner
    this.#log = deps.log
    this.#nodeId = deps.nodeId
    this.#leaseMs = deps.leaseMs
    this.#statementTimeoutMs = deps.statementTimeoutMs
  }

  /** A claim failed: it may have committed. Adopt what it claimed during the next lease length. */
  claimFailed (): void {
    if (this.#until === 0) this.#runner.rememberSeen(true)
    this.#until = performance.now() + this.#leaseMs
  }

  /**
   * Runs one adoption pass when one is due (or joins the pass under way: the plan and execute loops
   * both call this, and two passes at once could each take the same orphan); resolves how many
   * executions it adopted.
   */
  async adopt (): Promise<number> {
    if (this.#until === 0) return 0
    this.#pass ??= this.#adoptOnce().finally(() => { this.#pass = null })
    return this.#pass
  }

  async #adoptOnce (): Promise<number> {
    // A run claimed in this process right now (by either loop, or runJob inProcess) is not held
    // until its claim returns: wait for it rather than take it for an orphan, before and during the query.
    const runner = this.#runner
    if (runner.claimsInFlight > 0) return 0
    const begun = runner.claimsBegun
    const rows = await this.#store.getExecutions({ owner: this.#nodeId, status: 'running', limit: ADOPT_LIMIT }, { timeoutMs: this.#statementTimeoutMs })
    if (runner.claimsBegun !== begun || runner.claimsInFlight > 0) return 0
    // The rows are as of the query's snapshot: one may have run and been written since. Only an
    // execution this runner was never given is an orphan.
    const orphans = rows.filter((execution) => !runner.wasGiven(execution.id))
    if (performance.now() > this.#until) {
      this.#until = 0
      runner.rememberSeen(false)
    }
    if (orphans.length === 0) return 0
    const byJob = new Map<string, typeof orphans>()
    for (const execution of orphans) byJob.set(execution.jobId, [...(byJob.get(execution.jobId) ?? []), execution])
    for (const [jobId, executions] of byJob) {
      const job = await this.#store.getJob(jobId)
      if (job === null) continue // removed meanwhile: its rows wait out their lease and are abandoned
      // Renew their leases first: an orphan whose lease already ran out may be the reaper's (and,
      // with `recover`, another attempt's) by now, and must not run. extendLeases never revives one.
      const leased = new Set(await this.#store.extendLeases(this.#nodeId, executions.map((execution) => execution.id), this.#leaseMs, this.#clock?.() ?? null, { timeoutMs: this.#statementTimeoutMs }))
      // Checked again after the awaits: never submit an execution twice.
      const fresh = executions.filter((execution) => leased.has(execution.id) && !runner.wasGiven(execution.id))
      if (fresh.length === 0) continue
      this.#log.warn({ jobId, executionIds: fresh.map((execution) => execution.id) },
        'adopting executions a failed claim had committed after all (its answer was lost); running them now')
      // `ahead`: a run the claim had claimed ahead of its fire time still waits for its start_after.
      const batch = fresh.filter((execution) => execution.startAfter === null)
      runner.handleClaims([{ job, running: fresh, recorded: [], claimedElsewhere: [], coalesced: 0, flagged: null, catchUp: batch.length > 1, ahead: true }])
    }
    return orphans.length
  }
}
