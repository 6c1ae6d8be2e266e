/**
 * A TCP proxy on 127.0.0.1 in front of the test PostgreSQL server, for simulating a database
 * outage seen by one process only (the shared server is never stopped): `down()` destroys every
 * connection and refuses new ones (it accepts and resets them at once, counting the attempts),
 * `up()` forwards again. `url(databaseUrl)` rewrites a database URL to go through the proxy.
 */
import net from 'node:net'

export class OutageProxy {
  readonly #server: net.Server
  readonly #sockets = new Set<net.Socket>()
  readonly #target: { host: string, port: number }
  #down = false
  /** Connections refused while down. */
  refused = 0
  port = 0

  constructor (target: { host: string, port: number }) {
    this.#target = target
    this.#server = net.createServer((client) => {
      if (this.#down) {
        this.refused++
        client.destroy()
        return
      }
      const upstream = net.connect(this.#target)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
  }

  async listen (): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.port = (this.#server.address() as net.AddressInfo).port
    return this
  }

  /** The database URL `url` through this proxy. */
  url (url: string): string {
    const through = new URL(url)
    through.hostname = '127.0.0.1'
    through.port = String(this.port)
    return through.toString()
  }

  /** Cuts every connection and refuses new ones until `up()`. */
  down (): void {
    this.#down = true
    for (const socket of this.#sockets) socket.destroy()
  }

  up (): void {
    this.#down = false
  }

  async close (): Promise<void> {
    this.down()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
