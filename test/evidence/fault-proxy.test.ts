/**
 * The TCP fault proxy the network-fault tests rely on (test/helpers/fault-proxy.ts), against a
 * plain echo server: latency delays without reordering (also when it drops while chunks wait),
 * a blackhole forwards nothing until healed, and resetAll resets every open connection.
 */
import { connect, createServer, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { startFaultProxy } from '../helpers/fault-proxy.js'

async function echoServer (t: Test): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => { sockets.add(socket); socket.on('error', () => {}); socket.pipe(socket) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { for (const socket of sockets) socket.destroy(); await new Promise((resolve) => server.close(resolve)) })
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : 0
}

async function client (port: number): Promise<{ socket: Socket, received: () => string, closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1')
  let data = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { data += chunk })
  const closed = new Promise<string>((resolve) => { socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error')); socket.on('close', () => resolve('close')) })
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  return { socket, received: () => data, closed }
}

async function until (check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

t.test('latency delays each chunk and never reorders, even when it drops while chunks wait', async (t) => {
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: await echoServer(t) })
  t.teardown(async () => proxy.close())
  const { socket, received } = await client(proxy.port)
  proxy.latency(150)
  const sentAt = performance.now()
  socket.write('a')
  await new Promise((resolve) => setTimeout(resolve, 20))
  proxy.latency(0)
  socket.write('b')
  t.ok(await until(() => received() === 'ab'), `received "${received()}" in order`)
  t.ok(performance.now() - sentAt >= 145, 'the first chunk waited its latency on the way there (the way back was at 0 by then)')
  socket.destroy()
})

t.test('a blackhole forwards nothing until healed; resetAll resets open connections', async (t) => {
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: await echoServer(t) })
  t.teardown(async () => proxy.close())
  const first = await client(proxy.port)
  proxy.blackhole()
  first.socket.write('lost')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(first.received(), '', 'nothing arrives through the blackhole')
  t.equal(proxy.mode, 'blackhole')
  proxy.heal()
  first.socket.write('x')
  t.ok(await until(() => first.received() === 'x'), 'forwarding resumes after heal')
  proxy.resetAll()
  t.equal(await first.closed, 'ECONNRESET', 'an open connection is reset')
  const second = await client(proxy.port)
  second.socket.write('y')
  t.ok(await until(() => second.received() === 'y'), 'new connections work after a reset')
  t.match(proxy.stats(), { accepted: 2, reset: 1 })
  second.socket.destroy()
})
