#!/usr/bin/env node
/**
 * The `fastify-mikro-scheduler` executable: manage jobs and executions in the scheduler's tables
 * from a shell, on a PostgreSQL URL (`--database-url` or `DATABASE_URL`), without the host app.
 * `fastify-mikro-scheduler --help` lists the commands.
 */
import { runCli } from './run-cli.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env
})
