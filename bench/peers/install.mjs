/**
 * The peers (pg-boss, graphile-worker, BullMQ) are benchmark-only dependencies of
 * bench/package.json, never of the library. `ensurePeers()` installs them with `npm ci` from
 * bench/package-lock.json when bench/node_modules is missing or older than the lock file, and
 * reports the installed versions or why they are unavailable (the bench then shows the peers as
 * missing instead of failing).
 */
import { execFile } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['pg-boss', 'graphile-worker', 'bullmq']

const mtime = (path) => { try { return statSync(path).mtimeMs } catch { return 0 } }

function installedVersions () {
  return Object.fromEntries(PACKAGES.map((name) => {
    try {
      return [name, JSON.parse(readFileSync(`${BENCH_DIR}node_modules/${name}/package.json`, 'utf8')).version]
    } catch {
      return [name, null]
    }
  }))
}

/** { versions: { name: version | null }, reason: string | null }. */
export async function ensurePeers () {
  const marker = `${BENCH_DIR}node_modules/.package-lock.json`
  if (mtime(marker) < mtime(`${BENCH_DIR}package-lock.json`) || Object.values(installedVersions()).includes(null)) {
    process.stderr.write('bench: installing the peers (npm ci in bench/) ...\n')
    try {
      // --ignore-scripts: no peer needs an install script (msgpackr's native extract is optional).
      await promisify(execFile)('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: BENCH_DIR, timeout: 300_000 })
    } catch (error) {
      const reason = `npm ci in bench/ failed (${String(error.stderr ?? error.message).trim().split('\n').slice(-1)[0]})`
      process.stderr.write(`bench: ${reason}; the peers are shown as missing\n`)
      return { versions: installedVersions(), reason }
    }
  }
  return { versions: installedVersions(), reason: null }
}
