/**
 * `executions list|show|prune`: the execution history (`scheduler_job_execution`).
 */
import { EXECUTION_STATUSES, type ExecutionStatus } from '../execution-status.js'
import { stringOption, type Command } from './command.js'
import { duration, fields, json, table } from './table.js'
import { NotFoundError, parseCount, parseDurationSeconds, parseExecutionId, UsageError } from './usage.js'

const list: Command = {
  options: ['job', 'status', 'limit', 'offset'],
  args: [],
  async run ({ options, json: asJson, connection, out }) {
    const status = stringOption(options, 'status')
    if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`--status must be one of ${EXECUTION_STATUSES.join(', ')}; got '${status}'`)
    }
    const jobId = stringOption(options, 'job')
    const filter = {
      ...(jobId === undefined ? {} : { jobId }),
      ...(status === undefined ? {} : { status: status as ExecutionStatus }),
      limit: parseCount('--limit', stringOption(options, 'limit') ?? '50', { min: 1, max: 10_000 }),
      offset: parseCount('--offset', stringOption(options, 'offset') ?? '0', { max: Number.MAX_SAFE_INTEGER })
    }
    const scheduler = await (await connection()).scheduler()
    const [executions, total] = await Promise.all([scheduler.getExecutions(filter), scheduler.countExecutions(filter)])
    if (asJson) {
      out(json({ total, executions }))
    } else {
      out(table(['ID', 'JOB', 'RUN TIME', 'STATUS', 'DURATION', 'OWNER'],
        executions.map((e) => [e.id, e.jobId, e.runTime, e.status, duration(e.durationMs), e.owner]), '(no executions)'))
      if (total > executions.length) out(`${executions.length} of ${total} executions shown, newest first; use --limit and --offset for more\n`)
    }
    return 0
  }
}

const show: Command = {
  options: [],
  args: ['id'],
  async run ({ args, json: asJson, connection, out }) {
    const id = parseExecutionId(args[0] as string)
    const scheduler = await (await connection()).scheduler()
    const execution = await scheduler.getExecution(id)
    if (execution === null) throw new NotFoundError(`execution ${id} not found`)
    if (asJson) {
      out(json({ execution }))
      return 0
    }
    out(fields([
      ['id', execution.id], ['job', execution.jobId], ['run time', execution.runTime], ['attempt', execution.attempt], ['status', execution.status],
      ...(execution.nextAttemptAt === null ? [] : [['next attempt', execution.nextAttemptAt] as [string, unknown]]),
      ...(execution.startAfter === null ? [] : [['start after', execution.startAfter] as [string, unknown]]),
      ['started', execution.startedAt], ['finished', execution.finishedAt], ['duration', duration(execution.durationMs)],
      ['owner', execution.owner], ['lease until', execution.leaseUntil], ['exception', execution.exception]
    ]))
    if (execution.result !== null && execution.result !== undefined) out(`\nresult:\n${JSON.stringify(execution.result, null, 2)}\n`)
    if (execution.logs !== null && execution.logs !== undefined) {
      out(`\nlogs:\n${execution.logs.map((line) => `${line.time} ${line.level.toUpperCase().padEnd(5)} ${line.msg}${Object.keys(line.fields).length > 0 ? ` ${JSON.stringify(line.fields)}` : ''}`).join('\n')}\n`)
    }
    if (execution.traceback !== null) out(`\ntraceback:\n${execution.traceback}\n`)
    return 0
  }
}

const prune: Command = {
  options: ['older-than'],
  args: [],
  async run ({ options, json: asJson, connection, out }) {
    const olderThan = stringOption(options, 'older-than')
    if (olderThan === undefined) throw new UsageError("'executions prune' needs --older-than DURATION, such as --older-than 7d")
    const seconds = parseDurationSeconds('--older-than', olderThan)
    const scheduler = await (await connection()).scheduler()
    const deleted = await scheduler.deleteOldExecutions(seconds)
    out(asJson ? json({ deleted, olderThanSeconds: seconds }) : `deleted ${deleted} finished executions with a run time older than ${olderThan}\n`)
    return 0
  }
}

export const executionsCommands: Record<string, Command> = { list, show, prune }
