/**
 * Guarding an embedded (PGlite) data directory: PGlite is one process's database, and a second
 * process opening the same directory could corrupt it. Call `lockEmbeddedDatabase(dataDir)` before
 * `MikroORM.init` with the PGlite driver: it takes the lock file the scheduler uses beside the
 * directory (`<dataDir>.scheduler.lock`), or fails at once naming the process that holds it.
 * The plugin checks the same file at registration, so a second process that skipped the guard
 * still fails before its scheduler starts.
 */
import { resolve } from 'node:path'
import { LockHeldError } from './errors.js'
import { FileLock } from './locks/file-lock.js'

/** The lock file beside an embedded data directory. */
export function embeddedLockPath (dataDir: string): string {
  return `${resolve(dataDir)}.scheduler.lock`
}

/**
 * Takes the data directory's lock for this process (released when `release()` is called or the
 * process exits; a file left by a dead process is taken over).
 * @param owner written into the lock file for the error message of a second process; default `pid <pid>`.
 * @throws LockHeldError naming the live process (pid and owner) that holds it.
 */
export async function lockEmbeddedDatabase (dataDir: string, owner = `pid ${process.pid}`): Promise<FileLock> {
  const lock = new FileLock(embeddedLockPath(dataDir), owner)
  if (!(await lock.tryAcquire())) throwHeld(lock)
  return lock
}

/** @throws LockHeldError when another live process holds the data directory's lock. */
export function assertEmbeddedDatabaseFree (dataDir: string): void {
  const lock = new FileLock(embeddedLockPath(dataDir), '')
  if (!lock.heldByThisProcess() && lock.holderAlive()) throwHeld(lock)
}

function throwHeld (lock: FileLock): never {
  const holder = lock.holder()
  throw new LockHeldError(lock.path, holder === null ? 'another process' : `process ${holder.pid} (${holder.owner})`)
}
