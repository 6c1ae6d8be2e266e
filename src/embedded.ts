/**
 * Guarding an embedded database (a PGlite data directory, or a SQLite file): each is one process's
 * database, and a second process opening the same directory could corrupt it (PGlite) or run the
 * same jobs beside the first without the first's wake-ups (SQLite). Call `lockEmbeddedDatabase(dataDir)` before
 * `MikroORM.init` with the PGlite driver: it takes the lock file the scheduler uses beside the
 * directory (`<dataDir>.scheduler.lock`), or fails at once naming the process that holds it.
 * The plugin checks the same file at registration, so a second process that skipped the guard
 * still fails before its scheduler starts.
 */
import { resolve } from 'node:path'
import { LockHeldError } from './errors.js'
import { FileLock } from './locks/file-lock.js'

/**
 * The SQLite database file of a libSQL `dbName`, or undefined when there is none to guard: an
 * in-memory database (`:memory:`, `file::memory:…`, `''`) or a remote one (`libsql://`, `http(s)://`,
 * `ws(s)://`). A `file:` URL gives its path (SQLite docs, "URI Filenames").
 */
export function sqliteDatabaseFile (dbName: string | undefined): string | undefined {
  if (dbName === undefined || dbName === '' || dbName === ':memory:' || dbName.startsWith('file::memory:')) return undefined
  if (/^(libsql|https?|wss?):\/\//i.test(dbName)) return undefined
  if (dbName.startsWith('file:')) {
    const path = decodeURIComponent(dbName.slice('file:'.length).replace(/^\/\/(localhost)?(?=\/)/, '').replace(/\?.*$/, ''))
    return path === '' || path === ':memory:' ? undefined : path
  }
  return dbName
}

/** The lock file beside an embedded data directory or database file (`<path>.scheduler.lock`). */
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
