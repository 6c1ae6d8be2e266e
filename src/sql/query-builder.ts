/**
 * Statements built with Kysely (issue #15: "use it where it removes hand-written dialect SQL"):
 * one query written once, compiled for the store's dialect (placeholders, identifier quoting,
 * `LIMIT`/`OFFSET`, a `WHERE` of only the filter's conditions, a `SET` of only the patch's
 * columns), and sent through the store's own `SqlExecutor`, so transactions, deadlines and the
 * connection handling of the `SqlClient` adapters stay exactly as they are.
 *
 * The Kysely instances here only compile ("splitting query building and execution" in Kysely's
 * docs: the dialect's adapter, introspector and query compiler over a `DummyDriver`, which never
 * connects). They are built from `SqlClient['dialect']`, not from the ORM's `em.getKysely()`: a
 * store may be built from a `SqlClient` without any ORM (tests, the command line), and a query
 * must run on the executor it is given (a transaction's connection, a deadline), not on the
 * ORM's. `kysely` is a dependency of this package (the version `@mikro-orm/sql` pins, so one
 * copy is installed): the package imports it itself, and a strict package manager does not let
 * a package see the dependencies of its peers.
 *
 * Raw SQL stays where a statement must be one exact round trip or uses what only one database
 * has (the claim, outcome batches, `SKIP LOCKED`, data-modifying CTEs, `unnest`, `json_each`).
 */
import {
  DummyDriver, Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler, PostgresAdapter, PostgresIntrospector,
  PostgresQueryCompiler, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type Compilable, type DatabaseIntrospector,
  type DialectAdapter, type QueryCompiler, type SchemableIdentifierNode
} from 'kysely'
import { SCHEDULER_TABLES } from '../schema/tables.js'
import type { SqlClient, SqlExecutor } from './sql-client.js'

/** The scheduler's tables as the builders see them (columns as the statements use them). */
export interface SchedulerDatabase {
  scheduler_job: {
    id: string
    name: string
    task: string
    args: unknown
    trigger: unknown
    next_run_time: Date | null
    next_fire_time: Date | null
    paused: boolean
    misfire_grace_time: number | null
    coalesce: boolean
    max_instances: number
    timeout_ms: number | null
    capture_logs: boolean
    retry: unknown
    recover: boolean
    created_at: Date
    updated_at: Date
    version: number
    last_error: string | null
  }
  scheduler_job_execution: {
    id: number
    job_id: string
    task: string | null
    run_time: Date
    attempt: number
    next_attempt_at: Date | null
    start_after: Date | null
    status: string
    started_at: Date | null
    finished_at: Date | null
    duration_ms: number | null
    exception: string | null
    traceback: string | null
    owner: string | null
    lease_until: Date | null
    late_status: string | null
    late_finished_at: Date | null
    late_exception: string | null
    result: unknown
    logs: unknown
  }
  scheduler_audit: {
    id: number
    at: Date
    action: string
    job_id: string
    actor: string
    changes: unknown
  }
  scheduler_node: {
    node_id: string
    host: string
    pid: number
    tasks: unknown
    roles: unknown
    lock: string
    heartbeat_ms: number
    started_at: Date
    last_seen_at: Date
  }
}

/** A compile-only Kysely of the scheduler's tables. */
export type QueryBuilder = Kysely<SchedulerDatabase>

const OUR_TABLES = new Set(SCHEDULER_TABLES)

/**
 * PostgreSQL's compiler, writing the scheduler's own table names unquoted (`scheduler_job`, as the
 * hand-written statements do), so the `schema` placement (`schema/placement.ts`), which qualifies
 * bare names as each statement is sent, places built statements too. Every other identifier is
 * quoted as Kysely does. (MySQL and SQLite have no `schema` option.)
 */
class PlacedPostgresQueryCompiler extends PostgresQueryCompiler {
  protected override visitSchemableIdentifier (node: SchemableIdentifierNode): void {
    if (node.schema === undefined && OUR_TABLES.has(node.identifier.name)) this.append(node.identifier.name)
    else super.visitSchemableIdentifier(node)
  }
}

function compileOnly (adapter: DialectAdapter, compiler: () => QueryCompiler, introspector: new (db: Kysely<any>) => DatabaseIntrospector): QueryBuilder {
  return new Kysely<SchedulerDatabase>({
    dialect: {
      createAdapter: () => adapter,
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new introspector(db),
      createQueryCompiler: compiler
    }
  })
}

const postgresql = (): QueryBuilder => compileOnly(new PostgresAdapter(), () => new PlacedPostgresQueryCompiler(), PostgresIntrospector)
const mysql = (): QueryBuilder => compileOnly(new MysqlAdapter(), () => new MysqlQueryCompiler(), MysqlIntrospector)
const sqlite = (): QueryBuilder => compileOnly(new SqliteAdapter(), () => new SqliteQueryCompiler(), SqliteIntrospector)

/** The builder of each dialect (PGlite speaks PostgreSQL's SQL). */
const BUILDERS: Record<SqlClient['dialect'], () => QueryBuilder> = { postgresql, pglite: postgresql, mysql, sqlite }

const built = new Map<() => QueryBuilder, QueryBuilder>()

/** The compile-only query builder of a dialect (one per SQL language, made on first use). */
export function queryBuilder (dialect: SqlClient['dialect']): QueryBuilder {
  const make = BUILDERS[dialect]
  let builder = built.get(make)
  if (builder === undefined) {
    builder = make()
    built.set(make, builder)
  }
  return builder
}

/** Compiles `query` for its dialect and runs it on `db` (one statement, one round trip); returns its rows. */
export async function run<Row = Record<string, any>> (db: SqlExecutor, query: Compilable): Promise<Row[]> {
  const { sql, parameters } = query.compile()
  return db.query<Row>(sql, parameters)
}
