/**
 * Builds the package (`tsc -p tsconfig.build.json` into `dist/`, what `npm run build` runs) for the
 * tests that use it the way a host does: by its package name, which resolves to `dist/`. The files
 * that call it are listed under `serial` in .taprc, so no other test reads `dist/` while it is
 * rewritten.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Runs the build; rejects with tsc's output when it fails. */
export async function buildPackage (): Promise<void> {
  const build = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  build.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  build.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const [code] = await once(build, 'exit') as [number | null]
  if (code !== 0) throw new Error(`npm run build (tsc -p tsconfig.build.json) failed with ${code}:\n${output}`)
}
