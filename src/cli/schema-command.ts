/**
 * `schema install|check|sql`: the scheduler's tables, created or upgraded in place with the same
 * idempotent DDL the plugin runs at start (`install: 'auto'`), checked as `install: 'migrations'`
 * checks them, or printed for hosts that own their migrations: each in the DDL of the database the
 * URL names (PostgreSQL, MySQL/MariaDB or SQLite), through the stores' per-dialect functions.
 */
import { SchemaOutdatedError } from '../errors.js'
import { statementsFor } from '../stores/dialect-statements.js'
import { databaseFromOption, schemaFromOption, type Command } from './command.js'
import { schemaRefusal } from './drivers.js'
import { schemaStatements } from './schema-dialects.js'
import { json } from './table.js'
import { UsageError } from './usage.js'

const install: Command = {
  options: [],
  args: [],
  createsDatabase: true,
  async run ({ json: asJson, connection, out }) {
    const { sql, where, schema } = await connection()
    await statementsFor(sql.dialect).installSchema(sql, schema)
    out(asJson ? json({ installed: true, schema }) : `the scheduler's tables are installed in ${where}\n`)
    return 0
  }
}

const check: Command = {
  options: [],
  args: [],
  async run ({ json: asJson, connection, out }) {
    const { sql, where } = await connection()
    try {
      await statementsFor(sql.dialect).verifySchema(sql)
    } catch (error) {
      if (!(error instanceof SchemaOutdatedError)) throw error
      // Exit 1 with what is missing; `schema install` (or the host's migrations) brings it up to date.
      throw new Error(`the scheduler's tables in ${where} are not up to date: ${error.message} (or run 'fastify-mikro-scheduler schema install')`)
    }
    out(asJson ? json({ upToDate: true }) : `the scheduler's tables in ${where} are up to date\n`)
    return 0
  }
}

const sql: Command = {
  options: [],
  args: [],
  async run ({ options, databaseUrl, json: asJson, out }) {
    // Printed without connecting: the dialect is the URL's (PostgreSQL without one), the schema
    // name is checked here, and each statement placed in it.
    const schema = schemaFromOption(options.schema)
    const dialect = databaseUrl === undefined || databaseUrl === '' ? 'postgresql' : databaseFromOption(databaseUrl).dialect
    const refusal = schemaRefusal(dialect, schema)
    if (refusal !== null) throw new UsageError(refusal)
    const statements = schemaStatements(dialect, schema)
    out(asJson ? json({ dialect, schema, statements }) : `${statements.map((statement) => `${statement};`).join('\n\n')}\n`)
    return 0
  }
}

export const schemaCommands: Record<string, Command> = { install, check, sql }
