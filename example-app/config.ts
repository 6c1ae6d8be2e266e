/**
 * The example's settings, read once from the environment. Bad values stop the app at start with
 * a message that says what to change, before anything is opened.
 */
import { join } from 'node:path'
import { parseDatabaseUrl, type DatabaseUrl } from 'fastify-mikro-scheduler'

export interface Config {
  /**
   * `DATABASE_URL` parsed by the package's `parseDatabaseUrl` (the parser the command line uses):
   * PostgreSQL (`postgres://`), MySQL/MariaDB (`mysql://`, `mariadb://`) or a SQLite file
   * (`sqlite:<path>`, `file:<path>`); null when absent: the app runs on an embedded PGlite database under `dataDir`.
   */
  database: DatabaseUrl | null
  /** Directory for the PGlite database (and its scheduler lock file). */
  dataDir: string
  host: string
  port: number
  /** Worker processes sharing the port (`node:cluster`), like `gunicorn -w N`. */
  workers: number
  logLevel: string
  /** When this deployment started (the one-off job fires shortly after); shared by all workers. */
  startedAt: Date
  /** `SCHEDULER_ADMIN_TOKEN`: mounts the admin REST API under /scheduler, guarded by this bearer token; null: not mounted. */
  adminToken: string | null
  /** `METRICS=1`: the scheduler's Prometheus metrics (and Node's) at `GET /metrics`. */
  metrics: boolean
}

/** Shortest accepted `SCHEDULER_ADMIN_TOKEN`: the routes can add, change and run jobs. */
export const MIN_ADMIN_TOKEN_LENGTH = 16

export function readConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const database = databaseFrom(nonEmpty(env.DATABASE_URL))
  const workers = integer(env, 'WORKERS', 1, 1, 64)
  if (workers > 1 && database?.dialect === 'sqlite') {
    fail(`WORKERS=${workers} needs PostgreSQL or MySQL/MariaDB: a SQLite file belongs to one process and cannot be shared by ${workers} workers. ` +
      'Run one worker, or point DATABASE_URL at PostgreSQL (postgres://user@host:5432/db) or MySQL/MariaDB (mysql://user@host:3306/db).')
  }
  if (workers > 1 && database === null) {
    fail(`WORKERS=${workers} needs DATABASE_URL: the embedded PGlite database belongs to one process and cannot be shared by ${workers} workers. ` +
      'Run one worker, or point DATABASE_URL at PostgreSQL (postgres://user@host:5432/db) or MySQL/MariaDB (mysql://user@host:3306/db).')
  }
  const startedAt = nonEmpty(env.EXAMPLE_STARTED_AT)
  const adminToken = nonEmpty(env.SCHEDULER_ADMIN_TOKEN)
  const metrics = nonEmpty(env.METRICS)
  if (metrics !== null && metrics !== '0' && metrics !== '1') fail(`METRICS must be 1 (serve /metrics) or 0, got ${JSON.stringify(metrics)}`)
  if (adminToken !== null && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    fail(`SCHEDULER_ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (it guards routes that add, change and run jobs); ` +
      'generate one with: openssl rand -hex 24')
  }
  return {
    database,
    dataDir: nonEmpty(env.DATA_DIR) ?? join(import.meta.dirname, '.data'),
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    workers,
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    startedAt: startedAt === null ? new Date() : new Date(startedAt),
    adminToken,
    metrics: metrics === '1'
  }
}

/** A configuration error: the message is for the person starting the app. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

function fail (message: string): never {
  throw new ConfigError(message)
}

function databaseFrom (url: string | null): DatabaseUrl | null {
  if (url === null) return null
  try {
    return parseDatabaseUrl(url)
  } catch (error) {
    fail(`DATABASE_URL: ${(error as Error).message}`)
  }
}

function nonEmpty (value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim()
}

function integer (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name])
  if (raw === null) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  return value
}
