/**
 * The command line's dispatcher: parses the arguments with `node:util` `parseArgs`, finds the
 * command, opens the database connection when the command needs one, and maps every outcome to an
 * exit code (`EXIT`). It never throws: failures become a message on stderr and a code.
 */
import { parseArgs } from 'node:util'
import { checkCommandLine, type Command, type OptionValues } from './command.js'
import type { Connection } from './connection.js'
import { executionsCommands } from './executions-command.js'
import { jobsCommands } from './jobs-command.js'
import { schemaCommands } from './schema-command.js'
import { statusCommands } from './status-command.js'
import { json } from './table.js'
import { EXIT, NotFoundError, USAGE, UsageError } from './usage.js'

const PROGRAM = 'fastify-mikro-scheduler'

const GROUPS: Record<string, Record<string, Command>> = {
  jobs: jobsCommands,
  executions: executionsCommands,
  status: statusCommands,
  schema: schemaCommands
}

const STRING_OPTIONS = ['database-url', 'schema', 'task', 'search', 'limit', 'offset', 'job', 'status', 'older-than', 'timeout', 'leader-lock-key']
const BOOLEAN_OPTIONS = ['json', 'paused', 'active', 'flagged', 'wait']

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
}

/** Runs one command line (`argv` without node and the script); resolves with the exit code. */
export async function runCli (argv: string[], io: CliIo): Promise<number> {
  let asJson = argv.includes('--json')
  let connection: Connection | null = null
  try {
    const { values, positionals } = parse(argv)
    asJson = values.json === true
    if (values.help === true || positionals[0] === 'help') {
      io.stdout(USAGE)
      return EXIT.ok
    }
    const [name, command, args] = findCommand(positionals)
    checkCommandLine(name, command, args, values)
    const url = typeof values['database-url'] === 'string' ? values['database-url'] : io.env.DATABASE_URL
    return await command.run({
      args,
      options: values,
      json: asJson,
      databaseUrl: url,
      // Loaded on first use: usage errors and `schema sql` never load the ORM.
      connection: async () => (connection ??= await (await import('./connection.js')).connect(url, typeof values.schema === 'string' ? values.schema : undefined, { createFile: command.createsDatabase === true })),
      out: io.stdout
    })
  } catch (error) {
    const code = error instanceof UsageError ? EXIT.usage : error instanceof NotFoundError ? EXIT.notFound : EXIT.error
    const message = (error as Error)?.message ?? String(error)
    if (asJson) io.stderr(json({ error: message, exitCode: code }))
    else io.stderr(`${PROGRAM}: ${message}\n${code === EXIT.usage ? `Run '${PROGRAM} --help' for usage.\n` : ''}`)
    return code
  } finally {
    await (connection as Connection | null)?.close().catch(() => {})
  }
}

function parse (argv: string[]): { values: OptionValues, positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: 'string' as const }])),
        ...Object.fromEntries(BOOLEAN_OPTIONS.map((name) => [name, { type: 'boolean' as const }]))
      }
    })
    return { values: values as OptionValues, positionals }
  } catch (error) {
    // parseArgs reports unknown options and missing values as TypeErrors with ERR_PARSE_ARGS_* codes.
    if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message)
    throw error
  }
}

/** `[name for messages, command, its positionals]`. @throws UsageError for an unknown or missing command. */
function findCommand (positionals: string[]): [string, Command, string[]] {
  const [group, sub, ...rest] = positionals
  if (group === undefined) throw new UsageError(`a command is needed: ${Object.keys(GROUPS).join(', ')}`)
  const commands = GROUPS[group]
  if (commands === undefined) throw new UsageError(`unknown command '${group}'; commands: ${Object.keys(GROUPS).join(', ')}`)
  const direct = commands['']
  if (direct !== undefined) return [group, direct, positionals.slice(1)]
  const names = Object.keys(commands).join('|')
  if (sub === undefined) throw new UsageError(`'${group}' needs a subcommand: ${group} ${names}`)
  const command = commands[sub]
  if (command === undefined) throw new UsageError(`unknown subcommand '${group} ${sub}'; use ${group} ${names}`)
  return [`${group} ${sub}`, command, rest]
}
