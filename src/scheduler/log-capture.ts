/**
 * Captured logs: the lines a handler logs through `ctx.log` during its execution, kept with the
 * execution (`scheduler_job_execution.logs`) so "what did it do?" is answered from the history, as
 * Flask-APScheduler's JobCenter shows a job's output. Every line still goes to the host's logger as
 * before; the capture only keeps a copy.
 *
 * - a line is `{ time, level, msg, fields }`: ISO time, pino's level name, the message, and the
 *   object logged with it plus the bindings of `ctx.log.child(…)` calls (the execution's own
 *   `jobId`/`executionId` bindings are left out: the row already says them);
 * - bounded: the last {@link MAX_LOG_LINES} lines, then, oldest first, as many as fit in
 *   {@link MAX_LOG_BYTES} of JSON; a first line `[… N earlier lines not kept]` says what was dropped;
 * - every string is sanitised like the library's other texts, a field that cannot be serialised
 *   is replaced by a note, and nothing here ever throws into the handler.
 */
import { format } from 'node:util'
import { sanitiseText } from '../text/sanitise.js'
import type { SchedulerLogger } from '../types.js'
import { saneJson } from './result.js'
import { describeThrown } from './thrown.js'

/** Most lines kept per execution. */
export const MAX_LOG_LINES = 200

/** Most bytes of JSON kept per execution (64 KiB). */
export const MAX_LOG_BYTES = 64 * 1024

/** Longest message kept of one line, in characters. */
const MAX_MESSAGE_CHARS = 8 * 1024

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
type Level = typeof LEVELS[number]

/** One captured line, as stored. */
export interface LogLine {
  time: string
  level: Level
  msg: string
  fields: Record<string, unknown>
}

/** The lines of one execution, and the logger the handler gets as `ctx.log`. */
export class LogCapture {
  readonly #lines: string[] = []
  #dropped = 0
  #closed = false
  /** The logger to hand to the handler: logs to `inner` and keeps a copy here. */
  readonly logger: SchedulerLogger

  constructor (inner: SchedulerLogger) {
    this.logger = this.#wrap(inner, {})
  }

  /**
   * The captured lines as JSON text (an array, oldest first) within the bounds; null when nothing
   * was logged. Lines logged after this call (a handler still running detached) are not kept.
   */
  json (): string | null {
    this.#closed = true
    if (this.#lines.length === 0 && this.#dropped === 0) return null
    const kept = [...this.#lines]
    let dropped = this.#dropped
    let bytes = kept.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 2)
    while (bytes > MAX_LOG_BYTES - 200 && kept.length > 0) {
      bytes -= Buffer.byteLength(kept.shift() as string) + 1
      dropped++
    }
    if (dropped > 0) kept.unshift(JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: `[… ${dropped} earlier lines not kept: at most ${MAX_LOG_LINES} lines or ${MAX_LOG_BYTES} bytes are]`, fields: {} }))
    return `[${kept.join(',')}]`
  }

  #wrap (inner: SchedulerLogger, bindings: Record<string, unknown>): SchedulerLogger {
    const logger = {} as SchedulerLogger & Record<string, unknown>
    for (const level of LEVELS) {
      const method = (inner as unknown as Record<string, unknown>)[level]
      if (typeof method !== 'function') continue
      // The arguments go to the host's logger exactly as given (pino formats extra ones into the message).
      logger[level] = (...args: unknown[]) => {
        this.#keep(level, bindings, args)
        return (method as (...args: unknown[]) => unknown).apply(inner, args)
      }
    }
    logger.child = (childBindings: Record<string, unknown>) => this.#wrap(inner.child(childBindings), { ...bindings, ...childBindings })
    return logger
  }

  /** Keeps a copy of one call's line: `(msg, ...formatArgs)` or `(obj, msg?, ...formatArgs)`, as pino takes them. */
  #keep (level: Level, bindings: Record<string, unknown>, args: unknown[]): void {
    if (this.#closed) return
    try {
      const [obj, ...rest] = args
      let fields: Record<string, unknown> = { ...bindings }
      let message = ''
      if (typeof obj === 'string') {
        message = rest.length > 0 ? format(obj, ...rest) : obj
      } else {
        if (typeof rest[0] === 'string') message = rest.length > 1 ? format(...rest) : rest[0]
        if (obj instanceof Error) fields.err = describeThrown(obj).exception
        else if (obj !== null && typeof obj === 'object') fields = { ...fields, ...obj }
        else if (obj !== undefined) fields.value = obj
      }
      const line = { time: new Date().toISOString(), level, msg: sanitiseText(message, MAX_MESSAGE_CHARS), fields: {} as Record<string, unknown> }
      for (const [key, value] of Object.entries(fields)) line.fields[sanitiseText(key, 200)] = value instanceof Error ? describeThrown(value).exception : value
      this.#lines.push(lineJson(line))
      if (this.#lines.length > MAX_LOG_LINES) {
        this.#lines.shift()
        this.#dropped++
      }
    } catch {
      // A line that cannot even be looked at (a hostile object) is not kept; the host's logger still got it.
    }
  }
}

/** One line as JSON: strings and keys sanitised; a field that cannot be serialised becomes a note. */
function lineJson (line: LogLine): string {
  try {
    return saneJson(line, MAX_MESSAGE_CHARS) as string
  } catch {
    const fields: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(line.fields)) {
      try {
        saneJson(value, MAX_MESSAGE_CHARS)
        fields[key] = value
      } catch (thrown) {
        fields[key] = `[not serialisable: ${describeThrown(thrown).exception.slice(0, 200)}]`
      }
    }
    return saneJson({ ...line, fields }, MAX_MESSAGE_CHARS) as string
  }
}
