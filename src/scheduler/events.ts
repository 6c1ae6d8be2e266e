/**
 * Typed event bus of the scheduler. A listener that throws is logged and does not stop the
 * scheduler or the other listeners (loops never throw into the host).
 */
import type { SchedulerEventName, SchedulerEvents, SchedulerLogger } from '../types.js'

type Listener<E extends SchedulerEventName> = (payload: SchedulerEvents[E]) => void

export class SchedulerEventBus {
  readonly #listeners = new Map<SchedulerEventName, Set<Listener<any>>>()
  readonly #log: SchedulerLogger

  constructor (log: SchedulerLogger) {
    this.#log = log
  }

  on<E extends SchedulerEventName>(event: E, listener: Listener<E>): () => void {
    let listeners = this.#listeners.get(event)
    if (listeners === undefined) this.#listeners.set(event, listeners = new Set())
    listeners.add(listener)
    return () => this.off(event, listener)
  }

  off<E extends SchedulerEventName>(event: E, listener: Listener<E>): void {
    this.#listeners.get(event)?.delete(listener)
  }

  /** Resolves with the first payload of `event` that satisfies `predicate` (default: any). */
  async once<E extends SchedulerEventName>(event: E, predicate: (payload: SchedulerEvents[E]) => boolean = () => true): Promise<SchedulerEvents[E]> {
    return new Promise((resolve) => {
      const off = this.on(event, (payload) => {
        if (!predicate(payload)) return
        off()
        resolve(payload)
      })
    })
  }

  /** Whether `event` has a listener (a caller may skip building a payload nobody reads). */
  listening (event: SchedulerEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0
  }

  emit<E extends SchedulerEventName>(event: E, payload: SchedulerEvents[E]): void {
    const listeners = this.#listeners.get(event)
    if (listeners === undefined) return
    for (const listener of [...listeners]) {
      try {
        listener(payload)
      } catch (error) {
        this.#log.error({ err: error, event }, 'scheduler event listener threw; ignored')
      }
    }
  }
}
