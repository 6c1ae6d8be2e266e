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
import { JsonTooLargeError, saneJson } from './result.js'
import { describeThrown } from './thrown.js'

/** Most lines kept per execution. */
export const MAX_LOG_LINES = 200

/** Most bytes of JSON kept per execution (64 KiB). */
export const MAX_LOG_BYTES = 64 * 1024

/** Longest message or field string kept of one line, in characters. */
const MAX_MESSAGE_CHARS = 8 * 1024

/** Most characters of JSON one line may take; a line with larger fields keeps its message and a note instead of them. */
const MAX_LINE_CHARS = 16 * 1024

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
  /** UTF-8 bytes of `#lines`, each with its separating comma. */
  #bytes = 0
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
    const dropped = this.#dropped
    if (dropped > 0) kept.unshift(JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: `[… ${dropped} earlier lines not kept: at most ${MAX_LOG_LINES} lines or ${MAX_LOG_BYTES} bytes are]`, fields: {} }))
    return `[${kept.join(',')}]`
  }

  /**
   * The handler's logger: the host's logger as prototype (so `level`, `isLevelEnabled`,
   * `bindings()`, `flush()` and the rest still answer), its level methods and `child` overridden.
   */
  #wrap (inner: SchedulerLogger, bindings: Record<string, unknown>): SchedulerLogger {
    const logger = Object.create(inner) as SchedulerLogger & Record<string, unknown>
    const enabled = (inner as { isLevelEnabled?: unknown }).isLevelEnabled
    for (const level of LEVELS) {
      const method = (inner as unknown as Record<string, unknown>)[level]
      if (typeof method !== 'function') continue
      // The arguments go to the host's logger exactly as given (pino formats extra ones into the message).
      logger[level] = (...args: unknown[]) => {
        // A level the host's logger drops (debug under level 'info') is not kept either.
        if (typeof enabled !== 'function' || enabled.call(inner, level) === true) this.#keep(level, bindings, args)
        return (method as (...args: unknown[]) => unknown).apply(inner, args)
      }
    }
    logger.child = (childBindings: Record<string, unknown>, ...options: unknown[]) =>
      this.#wrap((inner.child as (...args: unknown[]) => SchedulerLogger).call(inner, childBindings, ...options), { ...bindings, ...childBindings })
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
        if (obj instanceof Error) {
          fields.err = describeThrown(obj).exception
          // As pino does: an error logged without a message gives its own.
          if (typeof rest[0] !== 'string') message = String(obj.message)
        } else if (obj !== null && typeof obj === 'object') {
          fields = { ...fields, ...obj }
        } else if (obj !== undefined && typeof rest[0] !== 'string') {
          message = String(obj)
        }
      }
      const line = { time: new Date().toISOString(), level, msg: sanitiseText(message, MAX_MESSAGE_CHARS), fields: {} as Record<string, unknown> }
      for (const [key, value] of Object.entries(fields)) line.fields[sanitiseText(key, 200)] = value instanceof Error ? describeThrown(value).exception : value
      const json = lineJson(line)
      this.#lines.push(json)
      this.#bytes += Buffer.byteLength(json) + 1
      // The oldest lines go first: at most MAX_LOG_LINES, and room left for the note and brackets.
      while (this.#lines.length > MAX_LOG_LINES || (this.#bytes > MAX_LOG_BYTES - 300 && this.#lines.length > 0)) {
        this.#bytes -= Buffer.byteLength(this.#lines.shift() as string) + 1
        this.#dropped++
      }
    } catch {
      // A line that cannot even be looked at (a hostile object) is not kept; the host's logger still got it.
    }
  }
}

/**
 * One line as JSON: strings and keys sanitised; a field that cannot be serialised becomes a note,
 * and fields too large for one line are replaced by a note.
 */
function lineJson (line: LogLine): string {
  const options = { maxChars: MAX_MESSAGE_CHARS, budget: MAX_LINE_CHARS }
  try {
    return saneJson(line, options) as string
  } catch (thrown) {
    if (thrown instanceof JsonTooLargeError) {
      return saneJson({ ...line, fields: { note: `[fields not kept: their JSON is larger than ${MAX_LINE_CHARS} characters]` } }, options) as string
    }
    const fields: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(line.fields)) {
      try {
        saneJson(value, options)
        fields[key] = value
      } catch (error) {
        fields[key] = error instanceof JsonTooLargeError
          ? `[not kept: larger than ${MAX_LINE_CHARS} characters]`
          : `[not serialisable: ${sanitiseText(describeThrown(error).exception, 200)}]`
      }
    }
    try {
      return saneJson({ ...line, fields }, options) as string
    } catch {
      return saneJson({ ...line, fields: { note: `[fields not kept: their JSON is larger than ${MAX_LINE_CHARS} characters]` } }, options) as string
    }
  }
}
