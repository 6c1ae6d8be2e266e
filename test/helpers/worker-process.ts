/**
 * The child side of a worker process (the cluster and failure test fixtures, and the soak's
 * worker): JSON-line reports on stdout, and a graceful shutdown on SIGTERM.
 *
 * Written in erasable TypeScript with node: imports only, so the soak, which runs under
 * `node --experimental-strip-types` against `dist/`, imports it as well as tap's loader does.
 */

/** Writes one JSON line `{ event, pid, at, ...data }` on stdout (`at`: this process's `Date.now()`, ms). */
export function report (event: string, data: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...data })}\n`)
}

/**
 * On SIGTERM (the first one; later ones are ignored while closing): reports `closing`, runs
 * `close` (close the Fastify app, then its ORM), reports `closed` and exits 0. When `close`
 * rejects it reports `close-failed` with the message, prints the stack on stderr and exits 1,
 * so a test that expects a clean exit sees why it was not.
 */
export function closeOnSigterm (close: () => Promise<unknown>): void {
  let closing = false
  process.on('SIGTERM', () => {
    if (closing) return
    closing = true
    report('closing')
    close().then(() => {
      report('closed')
      process.exit(0)
    }, (error: unknown) => {
      const err = error instanceof Error ? error : new Error(String(error))
      report('close-failed', { message: err.message })
      process.stderr.write(`${err.stack ?? err.message}\n`)
      process.exit(1)
    })
  })
}
