/**
 * `schema install|sql`: the scheduler's tables, created or upgraded in place with the same
 * idempotent DDL the plugin runs at start, or printed for hosts that own their migrations.
 */
import { SCHEMA_STATEMENTS } from '../schema/ddl.js'
import { installSchema } from '../schema/install.js'
import { qualifyTables, quoteIdentifier } from '../schema/placement.js'
import { schemaFromOption, type Command } from './command.js'
import { json } from './table.js'

const install: Command = {
  options: [],
  args: [],
  async run ({ json: asJson, connection, out }) {
    const { sql, shownUrl, schema } = await connection()
    await installSchema(sql, schema)
    const where = schema === null ? shownUrl : `schema "${schema}" of ${shownUrl}`
    out(asJson ? json({ installed: true, schema, statements: SCHEMA_STATEMENTS.length }) : `the scheduler's tables are installed in ${where}\n`)
    return 0
  }
}

const sql: Command = {
  options: [],
  args: [],
  async run ({ options, json: asJson, out }) {
    // Printed without connecting: the schema name is checked here, and each statement placed in it.
    const schema = schemaFromOption(options.schema)
    const statements = [...(schema === null ? [] : [`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`]), ...SCHEMA_STATEMENTS.map((statement) => qualifyTables(statement, schema))]
    out(asJson ? json({ schema, statements }) : `${statements.map((statement) => `${statement};`).join('\n\n')}\n`)
    return 0
  }
}

export const schemaCommands: Record<string, Command> = { install, sql }
