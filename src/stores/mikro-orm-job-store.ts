/**
 * `MikroOrmJobStore`: jobs and executions in the host's PostgreSQL (or PGlite) database, reached
 * through the host's MikroORM connection pool. The hot path (claims, finishes, leases) is plain
 * SQL through the ORM's native client: no entity hydration, one statement per batch.
 *
 * The statements come from the dialect's table (`dialect-statements.ts`), one module per concern;
 * for PostgreSQL and PGlite they are under `postgresql/`: `jobs.ts` (the job table),
 * `claim.ts` (the plan step, run-now), `queued-runs.ts` (the execute step), `executions.ts` (outcomes, leases, history), `nodes.ts`
 * (the node registry), `audit.ts` (the audit trail and the audited job writes) and
 * `stats.ts` (the aggregates behind the admin page's charts); this class installs the schema on first use and delegates to them.
 * The list and history reads and the job update from a patch are written once with Kysely
 * (`job-queries.ts`, `history-queries.ts`) and exported by each dialect's modules.
 */
import type { MikroORM } from '@mikro-orm/core'
import { InvalidOptionsError } from '../errors.js'
import { checkSchemaName, placedSqlClient } from '../schema/placement.js'
import { mysqlSchemaOptionError } from '../schema/mysql-install.js'
import { ormDialect, sqlClientFromOrm } from '../sql/from-orm.js'
import { withQueryTimeout, type SqlClient, type SqlExecutor } from '../sql/sql-client.js'
import type { AuditContext, AuditEntry, AuditFilter, AuditRecord } from './audit.js'
import type { FireLagStats, MinuteStatusCount, RunHistoryEntry, RunTimeRange, SlowJob } from './execution-stats.js'
import type {
  ClaimedJob, ClaimOptions, RecentExecutionStats, ExecutionFilter, ExecutionOutcome, ExecutionRecord, JobFilter, JobPatch,
  JobRecord, JobStore, NewJobRecord, NextQueuedStart, NextWakeup, NodeRecord, NodeRegistration, NodeRetention, QueryOptions, QueuedClaimOptions
} from './job-store.js'
import { statementsFor, type DialectStatements } from './dialect-statements.js'

/**
 * How the scheduler's tables come to exist. `auto` (default): the store installs or upgrades them
 * at first use (idempotent DDL, needs a role that may create tables). `migrations`: the host's
 * migrator owns them (`schedulerMigrations`); the store runs no DDL at all and refuses to start,
 * with `SchemaOutdatedError` naming the missing migration, when they are older than the library.
 */
export type InstallMode = 'auto' | 'migrations'

export interface MikroOrmJobStoreOptions {
  /** See {@link InstallMode}. Default `'auto'`. */
  install?: InstallMode
  /**
   * PostgreSQL schema holding the tables (created by `install: 'auto'` when missing); every
   * statement names it, and the wake-up channel is the schema's own. Default: none, the tables are
   * found through the connection's `search_path` (`public`).
   */
  schema?: string | null
}

export class MikroOrmJobStore implements JobStore {
  /** The SQL port as given (or made from the ORM), before placing statements in the schema. */
  #source: SqlClient | null
  #sql: SqlClient | null = null
  #ready: Promise<SqlClient> | null = null
  readonly #orm: MikroORM | null
  readonly #install: InstallMode
  readonly #schema: string | null
  #dialectStatements: DialectStatements | null = null

  /**
   * Pass the host's `MikroORM` instance (PostgreSQL or PGlite driver), or a ready `SqlClient`.
   * @throws InvalidOptionsError for an `install` other than `'auto'` or `'migrations'`.
   */
  constructor (source: MikroORM | SqlClient, options: MikroOrmJobStoreOptions = {}) {
    const isSqlClient = 'transaction' in source && 'openSession' in source
    this.#source = isSqlClient ? source as SqlClient : null
    this.#orm = isSqlClient ? null : source as MikroORM
    this.#schema = checkSchemaName(options.schema, 'schema')
    const install = options.install ?? 'auto'
    if (install !== 'auto' && install !== 'migrations') {
      throw new InvalidOptionsError('install', `must be 'auto' (the scheduler creates its tables) or 'migrations' (the app's migrations do), got ${JSON.stringify(install)}`)
    }
    this.#install = install
  }

  /**
   * The SQL of the database's dialect (dialect-statements.ts), read from the port or the ORM's
   * driver on first use; throws InvalidOptionsError for a driver without one (a rejection, as every
   * caller is async).
   */
  get #statements (): DialectStatements {
    this.#dialectStatements ??= statementsFor(this.#source?.dialect ?? ormDialect(this.#orm as MikroORM))
    return this.#dialectStatements
  }

  /** Whether the store installs its tables (`auto`) or only checks them (`migrations`). */
  get install (): InstallMode {
    return this.#install
  }

  /** The PostgreSQL schema of the tables, or null when they are found through `search_path`. */
  get schema (): string | null {
    return this.#schema
  }

  /** The SQL port, for the leader lock and wake-up listener. Available after `initialize()`. */
  get sql (): SqlClient {
    if (this.#sql === null) throw new Error('MikroOrmJobStore: call initialize() first')
    return this.#sql
  }

  async initialize (): Promise<void> {
    await this.#db()
  }

  /**
   * The SQL port with the schema installed, resolved on first use (so the API also works before
   * `start()`). A failed attempt is not cached: the next call tries again.
   */
  async #db (): Promise<SqlClient> {
    this.#ready ??= (async () => {
      this.#source ??= await sqlClientFromOrm(this.#orm as MikroORM)
      if (this.#schema !== null && this.#source.dialect === 'mysql') throw mysqlSchemaOptionError(this.#schema)
      const sql = placedSqlClient(this.#source, this.#schema)
      if (this.#install === 'auto') await this.#statements.installSchema(sql, this.#schema)
      else await this.#statements.verifySchema(sql)
      this.#sql = sql
      return sql
    })().catch((error: unknown) => {
      this.#ready = null
      throw error
    })
    return this.#ready
  }

  async recoverMissingTable (error: Error): Promise<string> {
    // The cached install is stale: check (and with `auto`, reinstall) again.
    this.#ready = null
    await this.#db()
    return `a table of the scheduler was missing (${error.message}); ${this.#install === 'auto' ? 'the tables were installed again' : 'the schema checks out again'}`
  }

  async now (): Promise<Date> {
    return this.#statements.now(await this.#db())
  }

  async addJob (job: NewJobRecord, options: { replaceExisting?: boolean, audit?: AuditContext } = {}): Promise<JobRecord> {
    const { audit: context, ...rest } = options
    return context === undefined ? this.#statements.jobs.addJob(await this.#db(), job, rest) : this.#statements.audit.addJob(await this.#db(), job, rest, context)
  }

  async addJobs (records: NewJobRecord[], options: { audit?: AuditContext } = {}): Promise<JobRecord[]> {
    return options.audit === undefined ? this.#statements.jobs.addJobs(await this.#db(), records) : this.#statements.audit.addJobs(await this.#db(), records, options.audit)
  }

  async getJob (id: string): Promise<JobRecord | null> {
    return this.#statements.jobs.getJob(await this.#db(), id)
  }

  async getJobs (filter: JobFilter = {}): Promise<JobRecord[]> {
    return this.#statements.jobs.getJobs(await this.#db(), filter)
  }

  async countJobs (filter: JobFilter = {}): Promise<number> {
    return this.#statements.jobs.countJobs(await this.#db(), filter)
  }

  async updateJob (id: string, changes: JobPatch, options: { expectedVersion?: number, audit?: AuditContext } = {}): Promise<JobRecord> {
    const { audit: context, ...rest } = options
    return context === undefined ? this.#statements.jobs.updateJob(await this.#db(), id, changes, rest) : this.#statements.audit.updateJob(await this.#db(), id, changes, rest, context)
  }

  async getUnscheduledJobs (limit: number, options: QueryOptions = {}): Promise<JobRecord[]> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.jobs.getUnscheduledJobs(db, limit))
  }

  async scheduleUnscheduledJob (id: string, version: number, patch: Pick<JobPatch, 'nextRunTime' | 'nextFireTime' | 'lastError'>): Promise<boolean> {
    return this.#statements.jobs.scheduleUnscheduledJob(await this.#db(), id, version, patch)
  }

  async removeJob (id: string, options: { audit?: AuditContext } = {}): Promise<boolean> {
    return options.audit === undefined ? this.#statements.jobs.removeJob(await this.#db(), id) : this.#statements.audit.removeJob(await this.#db(), id, options.audit)
  }

  async getNextWakeup (options: QueryOptions = {}): Promise<NextWakeup> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.claim.getNextWakeup(db))
  }

  async claimDueJobs (options: ClaimOptions): Promise<ClaimedJob[]> {
    return this.#statements.claim.claimDueJobs(await this.#db(), options)
  }

  async claimQueuedRuns (options: QueuedClaimOptions): Promise<ClaimedJob[]> {
    return this.#statements.queuedRuns.claimQueuedRuns(await this.#db(), options)
  }

  async getNextQueuedStart (tasks: readonly string[], options: QueryOptions = {}): Promise<NextQueuedStart> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.queuedRuns.getNextQueuedStart(db, tasks))
  }

  async queueRun (jobId: string, now: Date | null, options: { audit?: AuditContext } = {}): Promise<ExecutionRecord | null> {
    return this.#statements.claim.queueRun(await this.#db(), jobId, now, options.audit)
  }

  async claimImmediateRun (jobId: string, options: { now: Date | null, owner: string, leaseMs: number, audit?: AuditContext }): Promise<ExecutionRecord | null> {
    return this.#statements.claim.claimImmediateRun(await this.#db(), jobId, options)
  }

  async finishExecution (id: number, outcome: ExecutionOutcome, now: Date | null): Promise<ExecutionRecord | null> {
    const [finished] = await this.finishExecutions([{ id, outcome }], now)
    return finished ?? null
  }

  async finishExecutions (outcomes: Array<{ id: number, outcome: ExecutionOutcome, claimed?: ExecutionRecord }>, now: Date | null, options: QueryOptions = {}): Promise<Array<ExecutionRecord | null>> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.executions.finishExecutions(db, outcomes, now))
  }

  async extendLeases (owner: string, ids: number[], leaseMs: number, now: Date | null, options: QueryOptions = {}): Promise<number[]> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.executions.extendLeases(db, owner, ids, leaseMs, now))
  }

  /** Whether the dialect's claim honours `aheadMs` (PostgreSQL and PGlite; see `JobStore.claimsAhead`). */
  get claimsAhead (): boolean {
    return this.#statements.executions.requeueExecutions !== undefined
  }

  async requeueExecutions (owner: string, ids: number[], options: QueryOptions = {}): Promise<number[]> {
    const requeue = this.#statements.executions.requeueExecutions
    if (requeue === undefined) return []
    return withQueryTimeout(await this.#db(), options, async (db) => requeue(db, owner, ids))
  }

  async abandonExpiredExecutions (reason: string, now: Date | null, options: QueryOptions = {}): Promise<ExecutionRecord[]> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.executions.abandonExpiredExecutions(db, reason, now))
  }

  async getExecution (id: number): Promise<ExecutionRecord | null> {
    return this.#statements.executions.getExecution(await this.#db(), id)
  }

  async getExecutions (filter: ExecutionFilter = {}, options: QueryOptions = {}): Promise<ExecutionRecord[]> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.executions.getExecutions(db, filter))
  }

  async countExecutions (filter: ExecutionFilter = {}): Promise<number> {
    return this.#statements.executions.countExecutions(await this.#db(), filter)
  }

  async getRecentExecutionStats (jobIds: string[], recent: number): Promise<Map<string, RecentExecutionStats>> {
    return this.#statements.executions.getRecentExecutionStats(await this.#db(), jobIds, recent)
  }

  async deleteOldExecutions (maxAgeSeconds: number, now: Date | null): Promise<number> {
    return this.#statements.executions.deleteOldExecutions(await this.#db(), maxAgeSeconds, now)
  }

  async getRunHistory (jobId: string, limit: number): Promise<RunHistoryEntry[]> {
    return this.#statements.stats.getRunHistory(await this.#db(), jobId, limit)
  }

  async countExecutionsPerMinute (range: RunTimeRange): Promise<MinuteStatusCount[]> {
    return this.#statements.stats.countExecutionsPerMinute(await this.#db(), range)
  }

  async getFireLag (range: RunTimeRange): Promise<FireLagStats> {
    return this.#statements.stats.getFireLag(await this.#db(), range)
  }

  async getSlowestJobs (range: RunTimeRange, limit: number): Promise<SlowJob[]> {
    return this.#statements.stats.getSlowestJobs(await this.#db(), range, limit)
  }

  async recordAudit (entries: AuditEntry[]): Promise<void> {
    await this.#statements.audit.insertAudit(await this.#db(), entries)
  }

  async getAudit (filter: AuditFilter = {}): Promise<AuditRecord[]> {
    return this.#statements.audit.getAudit(await this.#db(), filter)
  }

  async countAudit (filter: AuditFilter = {}): Promise<number> {
    return this.#statements.audit.countAudit(await this.#db(), filter)
  }

  async deleteOldAudit (maxAgeSeconds: number, now: Date | null): Promise<number> {
    return this.#statements.audit.deleteOldAudit(await this.#db(), maxAgeSeconds, now)
  }

  async recordNode (node: NodeRegistration, retention: NodeRetention, now: Date | null, options: QueryOptions = {}): Promise<void> {
    await withQueryTimeout(await this.#db(), options, async (db) => this.#statements.nodes.recordNode(db, node, retention, now))
  }

  async removeNode (nodeId: string, options: QueryOptions = {}): Promise<boolean> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.nodes.removeNode(db, nodeId))
  }

  /**
   * `recordNode` and `removeNode` on a connection of the caller's (the scheduler's dedicated
   * session), not the host's pool: a heartbeat must not leave connection attempts hanging in the
   * pool during a partition (docs/architecture.md "Tables").
   */
  nodeRegistryOn (db: SqlExecutor): { record: (node: NodeRegistration, retention: NodeRetention, now: Date | null) => Promise<void>, remove: (nodeId: string) => Promise<boolean> } {
    return {
      record: async (node, retention, now) => this.#statements.nodes.recordNode(db, node, retention, now),
      remove: async (nodeId) => this.#statements.nodes.removeNode(db, nodeId)
    }
  }

  async getNodes (staleHeartbeats: number, now: Date | null, options: QueryOptions = {}): Promise<NodeRecord[]> {
    return withQueryTimeout(await this.#db(), options, async (db) => this.#statements.nodes.getNodes(db, staleHeartbeats, now))
  }

  async notifyChange (payload: string): Promise<void> {
    await this.#statements.notifyChange(await this.#db(), payload)
  }

  async notifyQueued (): Promise<void> {
    await this.#statements.claim.notifyQueued(await this.#db())
  }

  async close (): Promise<void> {
    // The pool belongs to the host's ORM; the host closes it.
  }
}
