/**
 * The command line's usage text, its exit codes, and the parsing of its option values. A
 * `UsageError` means the command line itself is wrong (exit code 2): the message says what and
 * how to fix it, and the usage follows.
 */

/** Exit codes: 0 ok, 1 error (database, unexpected), 2 usage (bad command line), 3 not found. */
export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3 } as const

export class UsageError extends Error {
  override name = 'UsageError'
}

/** A job or execution named on the command line does not exist (exit code 3). */
export class NotFoundError extends Error {
  override name = 'NotFoundError'
}

export const USAGE = `Usage: fastify-mikro-scheduler <command> [options]

Works on the scheduler's tables in a PostgreSQL, MySQL/MariaDB or SQLite database, without the
host app, through the app's MikroORM driver (@mikro-orm/postgresql, @mikro-orm/mysql or
@mikro-orm/mariadb, @mikro-orm/libsql).

Commands:
  jobs list [--task NAME] [--paused | --active] [--flagged] [--search TEXT] [--limit N] [--offset N]
  jobs show <id>                     the job and its last executions
  jobs pause <id>                    stop claiming the job (its definition stays)
  jobs resume <id>                   resume a paused job; its next run time is recomputed from now
  jobs remove <id>                   delete the job (its execution history stays)
  jobs run <id> [--wait] [--timeout DURATION]
                                     queue a run for the leader (the handler lives in the app);
                                     --wait waits for its outcome (exit 1 unless it succeeded)
  executions list [--job ID] [--status STATUS] [--limit N] [--offset N]
  executions show <id>               one execution with its exception and traceback
  executions prune --older-than DURATION
                                     delete finished executions whose run time is older
  status [--leader-lock-key K]      leader, live nodes (host, pid, roles, tasks, running),
                                     queue, next wake-up; give the app's leaderLockKey when
                                     it changed it (PostgreSQL, MySQL; SQLite has no key)
  schema install                     create or upgrade the scheduler's tables (idempotent)
  schema check                       exit 1 unless every table, column and index is in place
  schema sql                         print the DDL of the URL's database (PostgreSQL without
                                     one), for hosts that own their migrations

Options:
  --database-url URL                 default: the DATABASE_URL environment variable; one of
                                     postgres://user@host:5432/db (postgresql://),
                                     mysql://user@host:3306/db, mariadb://user@host:3306/db,
                                     sqlite:<file> or file:<file>
  --schema NAME                      PostgreSQL only: the schema of the tables (the plugin's schema
                                     option, or the MikroORM config's); default: search_path
  --json                             machine-readable output on stdout
  -h, --help                         this text

DURATION is a whole number with a unit: 30s, 15m, 12h, 7d, 2w.
On a SQLite file that a running app owns, writes (pause, resume, remove, run) are made and the app
sees them at its next poll (wake-ups do not cross processes there); the output says so.
Exit codes: 0 ok, 1 error, 2 usage, 3 not found.
`

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

/** Seconds in `text` (`30s`, `15m`, `12h`, `7d`, `2w`). @throws UsageError naming `option`. */
export function parseDurationSeconds (option: string, text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text.trim())
  if (match === null) throw new UsageError(`${option} must be a whole number with a unit (s, m, h, d, w), such as 7d; got '${text}'`)
  return Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number)
}

/** A non-negative integer option. @throws UsageError naming `option`. */
export function parseCount (option: string, text: string, { min = 0, max = 100_000 } = {}): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${option} must be a whole number from ${min} to ${max}; got '${text}'`)
  }
  return Number(text)
}

/** A positive execution id. @throws UsageError. */
export function parseExecutionId (text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < 1) {
    throw new UsageError(`an execution id is a positive whole number; got '${text}'`)
  }
  return Number(text)
}
