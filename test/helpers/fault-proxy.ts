/**
 * A TCP fault proxy for network fault tests: put one between a process and PostgreSQL (its
 * connection URL points at the proxy) and stage what real networks do to it:
 *
 * - `latency(ms)`: every chunk is delivered `ms` later, in each direction (order kept);
 * - `blackhole()`: sockets stay open and nothing is forwarded, either way: a half-open connection
 *   as after a network partition, where neither side learns anything until a timeout. New
 *   connections are accepted and hang the same way. A side that closes meanwhile is not told to
 *   the other side;
 * - `resetAll()`: every open connection is reset (RST) on both sides; new ones work;
 * - `heal()`: forwarding resumes (no latency); connections whose other side went away meanwhile
 *   are reset, as a peer answers a stale connection after a partition.
 *
 * Plain `node:net`, no dependencies, and only erasable TypeScript syntax, so `soak/` (run with
 * `node --experimental-strip-types`) imports it too.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface FaultProxyStats {
  /** Connections accepted since the start. */
  accepted: number
  /** Connections open now. */
  open: number
  /** Connections reset by `resetAll` or `heal`. */
  reset: number
}

export interface FaultProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number
  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string
  latency(ms: number): void
  blackhole(): void
  resetAll(): void
  heal(): void
  /** What the proxy does now. */
  readonly mode: 'forward' | 'blackhole'
  stats(): FaultProxyStats
  close(): Promise<void>
}

interface Pair { client: Socket, upstream: Socket, closed: boolean }

/** Starts a proxy to `target` (default the PostgreSQL of `DATABASE_URL`'s host and port). */
export async function startFaultProxy (target: { host: string, port: number }): Promise<FaultProxy> {
  const pairs = new Set<Pair>()
  let mode: 'forward' | 'blackhole' = 'forward'
  let latencyMs = 0
  let accepted = 0
  let resets = 0

  const reset = (pair: Pair): void => {
    pairs.delete(pair)
    resets++
    for (const socket of [pair.client, pair.upstream]) {
      if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed && socket.readyState !== 'opening') socket.resetAndDestroy()
      else socket.destroy()
    }
  }

  const pipe = (pair: Pair, from: Socket, to: Socket): void => {
    let queue = Promise.resolve()
    // Chunks still delayed in this direction: a chunk never overtakes an earlier one, even when
    // the latency drops (to 0 or less) while earlier chunks wait.
    let delayed = 0
    from.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') return
      if (latencyMs === 0 && delayed === 0) {
        to.write(chunk)
        return
      }
      delayed++
      const due = performance.now() + latencyMs
      const deliver = (): void => {
        delayed--
        if (!to.destroyed) to.write(chunk)
      }
      queue = queue.then(async () => new Promise<void>((resolve) => setTimeout(() => { deliver(); resolve() }, Math.max(0, due - performance.now()))))
    })
    const closed = (): void => {
      pair.closed = true
      if (mode === 'blackhole') return // the other side learns nothing while partitioned
      pairs.delete(pair)
      const due = performance.now() + latencyMs
      queue = queue.then(async () => new Promise<void>((resolve) => setTimeout(() => { to.destroy(); resolve() }, Math.max(0, due - performance.now()))))
    }
    from.on('close', closed)
    from.on('error', () => {})
  }

  const server: Server = createServer((client) => {
    accepted++
    const upstream = connect(target.port, target.host)
    const pair: Pair = { client, upstream, closed: false }
    pairs.add(pair)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    pipe(pair, client, upstream)
    pipe(pair, upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  return {
    port,
    get mode () { return mode },
    url (url: string): string {
      const parsed = new URL(url)
      parsed.hostname = '127.0.0.1'
      parsed.port = String(port)
      return parsed.toString()
    },
    latency (ms: number): void {
      latencyMs = ms
    },
    blackhole (): void {
      mode = 'blackhole'
    },
    resetAll (): void {
      for (const pair of [...pairs]) reset(pair)
    },
    heal (): void {
      mode = 'forward'
      latencyMs = 0
      for (const pair of [...pairs]) if (pair.closed) reset(pair)
    },
    stats (): FaultProxyStats {
      return { accepted, open: pairs.size, reset: resets }
    },
    async close (): Promise<void> {
      for (const pair of [...pairs]) reset(pair)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** Host and port of a PostgreSQL URL, for `startFaultProxy`. */
export function targetOf (url: string): { host: string, port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port === '' ? 5432 : parsed.port) }
}
