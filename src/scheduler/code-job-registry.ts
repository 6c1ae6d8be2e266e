/**
 * The jobs declared in code (`registerJob`, `@scheduled`, the plugin's `jobs` option): checked when
 * declared, kept for the scheduler's life, and upserted into the job store at start (and at once
 * for one declared while running) by `syncCodeJobs`, as the audit trail's actor `'code'`.
 */
import { ConflictingIdError } from '../errors.js'
import type { AuditAction, AuditContext } from '../stores/audit.js'
import type { JobStore } from '../stores/job-store.js'
import type { CodeJobDefinition, JobOptions, SchedulerLogger } from '../types.js'
import { syncCodeJobs, type CodeJobChange } from './code-jobs.js'
import { validateDefinition } from './job-input.js'

/** A job declared in code, with its task name resolved (`task ?? id`). */
export type DeclaredJob = CodeJobDefinition & { task: string }

export interface CodeJobRegistryDeps {
  store: JobStore
  defaults: Required<JobOptions>
  log: SchedulerLogger
  random: () => number
  /** The scheduler's clock (the store's, or the injected one). */
  now: () => Promise<Date>
  /** The audit context of the upserts. */
  audit: (action: AuditAction) => AuditContext
  /** Called with what an upsert added or changed. */
  onChanges: (changes: CodeJobChange[]) => void
}

export class CodeJobRegistry {
  readonly #deps: CodeJobRegistryDeps
  readonly #declared = new Map<string, DeclaredJob>()

  constructor (deps: CodeJobRegistryDeps) {
    this.#deps = deps
  }

  /**
   * Checks a declaration before anything is registered: its definition with the resolved task.
   * @throws InvalidTriggerError, InvalidJobError for a bad definition; ConflictingIdError for an id declared already.
   */
  check (definition: CodeJobDefinition): DeclaredJob {
    const task = definition.task ?? definition.id
    const { task: _ignored, ...rest } = definition
    validateDefinition({ ...rest, task }, this.#deps.defaults)
    if (this.#declared.has(definition.id)) throw new ConflictingIdError(definition.id)
    return { ...definition, task }
  }

  /** Keeps a checked declaration; upserted by the next `sync()`. */
  add (job: DeclaredJob): void {
    this.#declared.set(job.id, job)
  }

  /** Upserts `jobs` (default: every declared one) into the store. */
  async sync (jobs: DeclaredJob[] = [...this.#declared.values()]): Promise<void> {
    const { store, defaults, log, random, audit } = this.#deps
    const changes = await syncCodeJobs(store, jobs, { defaults, now: await this.#deps.now(), log, random, audit })
    if (changes.length > 0) this.#deps.onChanges(changes)
  }
}
