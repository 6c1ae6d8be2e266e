/**
 * Builds `dist/` (npm run build) when it is missing or older than any file under `src/`, so
 * `npm run bench` measures the current source without rebuilding on every run.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const mtime = (path) => { try { return statSync(path).mtimeMs } catch { return 0 } }
const newest = (dir) => Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
  entry.isDirectory() ? newest(join(dir, entry.name)) : mtime(join(dir, entry.name))))

if (mtime(join(root, 'dist/index.js')) < newest(join(root, 'src'))) {
  process.stderr.write('bench: dist/ is older than src/; building\n')
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
}
