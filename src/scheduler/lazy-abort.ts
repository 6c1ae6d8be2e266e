/**
 * An `AbortController` made on first use: a handler that never reads `ctx.signal` costs no
 * controller (an `AbortController` and its `AbortSignal`, an `EventTarget`, are among the largest
 * per-execution allocations of a burst). Aborting before the signal was read makes the controller
 * and aborts it, so a signal read later is already aborted with the same reason.
 */
export class LazyAbortController {
  #controller: AbortController | null = null

  /** The signal handed to the handler (`ctx.signal`); the same object on every read. */
  get signal (): AbortSignal {
    this.#controller ??= new AbortController()
    return this.#controller.signal
  }

  /**
   * Aborts the signal with `reason`, never throwing into the caller. (An abort listener of the
   * handler's that throws is the handler's own fault: Node reports it as an uncaught exception,
   * like any throw from the handler's own callbacks.)
   */
  abort (reason: Error): void {
    this.#controller ??= new AbortController()
    try {
      this.#controller.abort(reason)
    } catch {}
  }
}
