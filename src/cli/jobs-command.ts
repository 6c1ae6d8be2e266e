/**
 * `jobs list|show|pause|resume|remove|run`: the job table through the scheduler's API, which
 * validates, bumps versions and NOTIFYs running schedulers exactly as the app does.
 */
import { JobNotFoundError } from '../errors.js'
import type { JobRecord } from '../stores/job-store.js'
import { describeTrigger } from '../triggers/index.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import { stringOption, type Command, type CommandContext } from './command.js'
import { duration, fields, json, table } from './table.js'
import { NotFoundError, parseCount, parseDurationSeconds, UsageError } from './usage.js'

/** `active`, `paused`, `flagged` (cannot run, see lastError) or `finished` (no next run time). */
export function jobState (job: JobRecord): string {
  if (job.paused) return 'paused'
  if (job.lastError !== null) return 'flagged'
  return job.nextRunTime === null ? 'finished' : 'active'
}

function describe (job: JobRecord): string {
  try {
    return describeTrigger(job.trigger)
  } catch {
    return 'stored trigger cannot be loaded'
  }
}

async function withJob<T> (fn: () => Promise<T>, id: string): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof JobNotFoundError) throw new NotFoundError(`job '${id}' not found`)
    throw error
  }
}

/**
 * Prints a write's outcome: `payload` as JSON, else `text`; plus the connection's note (on a SQLite
 * file that a running app owns: it sees the change at its next poll), as `note` or a `note:` line.
 */
async function written ({ connection, json: asJson, out }: CommandContext, payload: Record<string, unknown>, text: string): Promise<void> {
  const note = (await connection()).writeNote()
  if (asJson) out(json(note === null ? payload : { ...payload, note }))
  else out(`${text}\n${note === null ? '' : `note: ${note}\n`}`)
}

/** Who the audit trail names for changes made from the command line. */
const CLI_ACTOR = { actor: 'cli' }

const list: Command = {
  options: ['task', 'paused', 'active', 'flagged', 'search', 'limit', 'offset'],
  args: [],
  async run ({ options, json: asJson, connection, out }) {
    if (options.paused === true && options.active === true) throw new UsageError('--paused and --active exclude each other; give one')
    const task = stringOption(options, 'task')
    const search = stringOption(options, 'search')
    const filter = {
      ...(task === undefined ? {} : { task }),
      ...(search === undefined ? {} : { search }),
      ...(options.paused === true ? { paused: true } : options.active === true ? { paused: false } : {}),
      ...(options.flagged === true ? { flagged: true } : {}),
      limit: parseCount('--limit', stringOption(options, 'limit') ?? '100', { min: 1, max: 10_000 }),
      offset: parseCount('--offset', stringOption(options, 'offset') ?? '0', { max: Number.MAX_SAFE_INTEGER })
    }
    const scheduler = await (await connection()).scheduler()
    const [jobs, total] = await Promise.all([scheduler.getJobs(filter), scheduler.countJobs(filter)])
    if (asJson) {
      out(json({ total, jobs }))
    } else {
      out(table(['ID', 'TASK', 'STATE', 'NEXT RUN', 'TRIGGER'], jobs.map((job) => [job.id, job.task, jobState(job), job.nextRunTime, describe(job)]), '(no jobs)'))
      if (total > jobs.length) out(`${jobs.length} of ${total} jobs shown; use --limit and --offset for more\n`)
    }
    return 0
  }
}

const show: Command = {
  options: [],
  args: ['id'],
  async run ({ args, json: asJson, connection, out }) {
    const id = args[0] as string
    const scheduler = await (await connection()).scheduler()
    const job = await scheduler.getJob(id)
    if (job === null) throw new NotFoundError(`job '${id}' not found`)
    const executions = await scheduler.getExecutions({ jobId: id, limit: 10 })
    if (asJson) {
      out(json({ job, executions }))
      return 0
    }
    out(fields([
      ['id', job.id], ['name', job.name], ['task', job.task], ['state', jobState(job)], ['trigger', describe(job)],
      ['trigger json', JSON.stringify(job.trigger)], ['args', JSON.stringify(job.args)], ['next run time', job.nextRunTime],
      ['misfire grace time', job.misfireGraceTime === null ? 'always run' : `${job.misfireGraceTime} s`], ['coalesce', job.coalesce],
      ['max instances', job.maxInstances], ['timeout', job.timeoutMs === null ? 'none' : `${job.timeoutMs} ms`], ['capture logs', job.captureLogs],
      ['retry', job.retry === null ? 'none' : `${job.retry.attempts} attempts, ${job.retry.backoff} from ${job.retry.delayMs} ms (at most ${job.retry.maxDelayMs} ms)`], ['recover', job.recover],
      ['last error', job.lastError], ['created', job.createdAt], ['updated', job.updatedAt], ['version', job.version]
    ]))
    out('\nlast executions:\n')
    out(table(['ID', 'RUN TIME', 'STATUS', 'DURATION', 'OWNER'], executions.map((e) => [e.id, e.runTime, e.status, duration(e.durationMs), e.owner]), '(no executions)'))
    return 0
  }
}

/** `pause`, `resume`: change the job and print it. */
function change (verb: 'paused' | 'resumed', act: (scheduler: Scheduler, id: string) => Promise<JobRecord>): Command {
  return {
    options: [],
    args: ['id'],
    async run (ctx) {
      const id = ctx.args[0] as string
      const scheduler = await (await ctx.connection()).scheduler()
      const job = await withJob(async () => act(scheduler, id), id)
      await written(ctx, { job }, `${verb} job '${id}'; next run time ${job.nextRunTime?.toISOString() ?? '-'}`)
      return 0
    }
  }
}

const remove: Command = {
  options: [],
  args: ['id'],
  async run (ctx) {
    const id = ctx.args[0] as string
    const scheduler = await (await ctx.connection()).scheduler()
    await withJob(async () => scheduler.removeJob(id, CLI_ACTOR), id)
    await written(ctx, { removed: id }, `removed job '${id}'; its execution history stays`)
    return 0
  }
}

const run: Command = {
  options: ['wait', 'timeout'],
  args: ['id'],
  async run (ctx) {
    const { args, options, json: asJson, connection, out } = ctx
    const id = args[0] as string
    const timeout = stringOption(options, 'timeout')
    if (timeout !== undefined && options.wait !== true) throw new UsageError('--timeout applies to --wait; add --wait')
    const timeoutMs = parseDurationSeconds('--timeout', timeout ?? '60s') * 1000
    const scheduler = await (await connection()).scheduler()
    const queued = await withJob(async () => scheduler.runJob(id, CLI_ACTOR), id)
    if (options.wait !== true) {
      await written(ctx, { execution: queued }, `queued a run of job '${id}': execution ${queued.id}; the leader starts it`)
      return 0
    }
    const finished = await scheduler.waitForExecution(queued.id, { timeoutMs })
    out(asJson
      ? json({ execution: finished })
      : `job '${id}' execution ${finished.id}: ${finished.status}${finished.durationMs === null ? '' : ` in ${duration(finished.durationMs)}`}${finished.exception === null ? '' : `\n${finished.exception}`}\n`)
    return finished.status === 'success' ? 0 : 1
  }
}

export const jobsCommands: Record<string, Command> = {
  list,
  show,
  pause: change('paused', async (scheduler, id) => scheduler.pauseJob(id, CLI_ACTOR)),
  resume: change('resumed', async (scheduler, id) => scheduler.resumeJob(id, CLI_ACTOR)),
  remove,
  run
}
