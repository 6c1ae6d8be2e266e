/**
 * The file lock (PGlite, `lock: 'file'`) is atomic: 20 real processes find the same stale lock
 * file (its pid is not running) and try to take it at the same moment. Exactly one may win, by
 * the processes' own reports, and the file on disk must name that one. And a lock file written by
 * another container whose process also runs as this pid (pid 1 in both) is not this process's.
 * The file lock is the one-process stores' (PGlite, SQLite); servers lock in the database.
 */
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { FileLock } from '../../src/locks/file-lock.js'
import { pollUntil, reportsOf, startProcess, stopProcess, tail } from '../helpers/processes.js'

const RACER = fileURLToPath(new URL('./fixtures/file-lock-racer.ts', import.meta.url))
const CONTENDERS = 20
const DEAD_PID = 2 ** 22 + 4321

t.test(`${CONTENDERS} processes race for one stale lock file: exactly one wins`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-lock-race-'))
  const lockFile = join(dir, 'scheduler.lock')
  const goFile = join(dir, 'go')
  writeFileSync(lockFile, JSON.stringify({ pid: DEAD_PID, host: hostname(), token: 'stale', owner: 'a crashed process' }))
  const env = { ...process.env, LOCK_FILE: lockFile, GO_FILE: goFile }
  const racers = Array.from({ length: CONTENDERS }, (_, i) => startProcess(t, `racer ${i + 1}`, ['--experimental-strip-types', '--no-warnings', RACER], env))
  await pollUntil('every racer ready', async () => {
    const failed = racers.find((racer) => racer.child.exitCode !== null)
    if (failed !== undefined) throw new Error(`${failed.name} exited:\n${tail(failed)}`)
    return racers.every((racer) => reportsOf(racer, 'ready').length > 0)
  }, 300_000)
  writeFileSync(goFile, 'go')
  const results = await pollUntil('every racer reported', async () => {
    const all = racers.map((racer) => reportsOf(racer, 'result')[0])
    return all.every((result) => result !== undefined) ? all as Array<Record<string, unknown>> : undefined
  }, 60_000)
  const winners = results.filter((result) => result.won === true)
  t.equal(winners.length, 1, `exactly one winner, reported by the processes: ${winners.map((winner) => String(winner.pid)).join(', ')}`)
  t.same(results.filter((result) => result.error !== undefined).map((result) => result.error), [], 'no contender failed with an error')
  const onDisk = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number }
  t.equal(onDisk.pid, winners[0]?.pid, 'the file on disk names the winner')
  for (const racer of racers) await stopProcess(racer, 'SIGTERM')
})

t.test('a lock file from another container whose process is also this pid (pid 1 in both) is not ours', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fms-lock-pid1-'))
  const path = join(dir, 'scheduler.lock')
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: 'another-container', token: 'theirs', owner: 'the other container' }))
  const mine = new FileLock(path, 'mine')
  t.equal(await mine.tryAcquire(), false, 'held by the other container, which touches it')
  t.match(await mine.describeLeader(), { nodeId: 'the other container' })
  t.match(JSON.parse(readFileSync(path, 'utf8')), { token: 'theirs' }, 'its file is untouched')

  writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), token: 'a former process with this pid', owner: 'before a restart' }))
  t.equal(await new FileLock(path, 'mine').tryAcquire(), false, 'same pid and host but another token: not ours while it is touched')

  // Not touched for longer than the stale limit: its holder is gone (a container that stopped).
  const longAgo = new Date(Date.now() - 10 * 60_000)
  utimesSync(path, longAgo, longAgo)
  const taker = new FileLock(path, 'taker')
  t.equal(await taker.tryAcquire(), true, 'an untouched file from another holder is stale and taken over')
  t.match(taker.holder(), { pid: process.pid, owner: 'taker' })
  await taker.release()
  t.notOk(existsSync(path))
})
