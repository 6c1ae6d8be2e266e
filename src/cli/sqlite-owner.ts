/**
 * Who owns a SQLite database file: the live process holding its lock file
 * (`<file>.scheduler.lock`, taken by the plugin's `lock: 'auto'` and by `lockEmbeddedDatabase`).
 * The command line never takes that lock (an app starting meanwhile would fail to register); it
 * reads it, for `status` (the file's owner is the leader there) and to tell the user, after a
 * write, that the owning app sees the change at its next poll: wake-ups do not cross processes on
 * SQLite. The writes themselves are safe next to a running app: each is one `BEGIN IMMEDIATE`
 * transaction, which SQLite serialises with the app's across processes (WAL, `busy_timeout`).
 */
import { embeddedLockPath } from '../embedded.js'
import { FileLock } from '../locks/file-lock.js'
import { MAX_SLEEP_MS } from '../options.js'

/** The live holder of a SQLite file's lock. */
export interface SqliteOwner {
  /** The lock file's path (absolute). */
  lockFile: string
  pid: number
  /** Host name the holder wrote (absent in files of older versions). */
  host: string | null
  /** The holder's text: the scheduler's node id, or what the host passed to `lockEmbeddedDatabase`. */
  owner: string
}

/** The live process holding `file`'s lock, or null when none does (no lock file, or its holder is gone). */
export function sqliteOwner (file: string): SqliteOwner | null {
  const lock = new FileLock(embeddedLockPath(file), '')
  const holder = lock.holder()
  if (holder === null || !lock.holderAlive()) return null
  return { lockFile: lock.path, pid: holder.pid, host: holder.host ?? null, owner: holder.owner }
}

/** The note printed after a write to a file that `owner` holds: when that process sees the change. */
export function ownerSeesAtNextPoll (file: string, owner: SqliteOwner): string {
  return `${file} belongs to the running process ${owner.pid} (${owner.owner}); it sees this change at its next poll ` +
    `(its pollIntervalMs: 5 s by default, at most ${MAX_SLEEP_MS / 1000} s), not at once: on SQLite, wake-ups do not cross processes`
}
