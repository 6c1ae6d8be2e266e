/**
 * `schema install|sql`: the scheduler's tables, created or upgraded in place with the same
 * idempotent DDL the plugin runs at start, or printed for hosts that own their migrations.
 */
import { SCHEMA_STATEMENTS } from '../schema/ddl.js'
import { installSchema } from '../schema/install.js'
import type { Command } from './command.js'
import { json } from './table.js'

const install: Command = {
  options: [],
  args: [],
  async run ({ json: asJson, connection, out }) {
    const { sql, shownUrl } = await connection()
    await installSchema(sql)
    out(asJson ? json({ installed: true, statements: SCHEMA_STATEMENTS.length }) : `the scheduler's tables are installed in ${shownUrl}\n`)
    return 0
  }
}

const sql: Command = {
  options: [],
  args: [],
  async run ({ json: asJson, out }) {
    out(asJson ? json({ statements: SCHEMA_STATEMENTS }) : `${SCHEMA_STATEMENTS.map((statement) => `${statement};`).join('\n\n')}\n`)
    return 0
  }
}

export const schemaCommands: Record<string, Command> = { install, sql }
