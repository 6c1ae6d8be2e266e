/**
 * What every subcommand of the command line receives: its positionals after the command words,
 * the parsed options, the connection (opened on first use) and where to write.
 */
import type { Connection } from './connection.js'
import { DatabaseUrlError, parseDatabaseUrl, type DatabaseUrl } from '../database-url.js'
import { checkSchemaName } from '../schema/placement.js'
import { UsageError } from './usage.js'

export type OptionValues = Record<string, string | boolean | undefined>

export interface CommandContext {
  /** Positionals after `<command> <subcommand>`. */
  args: string[]
  options: OptionValues
  json: boolean
  connection: () => Promise<Connection>
  /** `--database-url`, else `DATABASE_URL` (unparsed), for commands that need no connection. */
  databaseUrl: string | undefined
  out: (text: string) => void
}

/** A subcommand: the options it accepts (beyond the global ones) and what it does; returns the exit code. */
export interface Command {
  options: string[]
  /** How many positionals it takes, and their name for usage errors. */
  args: string[]
  /** It may create a SQLite database file that does not exist yet (`schema install`); default: refused. */
  createsDatabase?: boolean
  run(ctx: CommandContext): Promise<number>
}

/** Refuses options the command does not take and a wrong number of positionals. @throws UsageError. */
export function checkCommandLine (name: string, command: Command, args: string[], options: OptionValues): void {
  for (const [option, value] of Object.entries(options)) {
    if (value !== undefined && !command.options.includes(option) && !GLOBAL_OPTIONS.includes(option)) {
      throw new UsageError(`'${name}' does not take --${option}`)
    }
  }
  if (args.length < command.args.length) throw new UsageError(`'${name}' needs ${command.args.map((arg) => `<${arg}>`).join(' ')}`)
  if (args.length > command.args.length) throw new UsageError(`'${name}' takes ${command.args.length === 0 ? 'no arguments' : command.args.map((arg) => `<${arg}>`).join(' ')}; unexpected '${args[command.args.length] as string}'`)
}

export const GLOBAL_OPTIONS = ['database-url', 'schema', 'json', 'help']

/** A string option's value, or undefined. */
export function stringOption (options: OptionValues, name: string): string | undefined {
  const value = options[name]
  return typeof value === 'string' ? value : undefined
}

/** The `--schema` value checked (null when absent). @throws UsageError naming what is wrong. */
export function schemaFromOption (value: string | boolean | undefined): string | null {
  try {
    return checkSchemaName(value, 'schema')
  } catch {
    throw new UsageError(`--schema must be a PostgreSQL schema name (1 to 63 characters, no control characters), as in the plugin's schema option; got ${JSON.stringify(value)}`)
  }
}

/** The database URL of the command line. @throws UsageError when absent or not one of the accepted forms. */
export function databaseFromOption (url: string | undefined): DatabaseUrl {
  if (url === undefined || url === '') {
    throw new UsageError('no database: pass --database-url (postgres://user@host:5432/db, mysql://user@host:3306/db, sqlite:./app.db, …) or set DATABASE_URL')
  }
  try {
    return parseDatabaseUrl(url)
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new UsageError(`--database-url (or DATABASE_URL): ${error.message}`)
    throw error
  }
}
