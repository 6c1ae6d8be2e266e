/**
 * Runs a peer's (or the ceiling's) scenario in a process of its own on a fresh PostgreSQL database
 * (`bench/peers/child.mjs`).
 */
import { fileURLToPath } from 'node:url'
import { runChild } from '../child-process.mjs'
import { withDatabase } from '../databases/postgresql.mjs'

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url))

export function runPeer (system, variant, row, sizes) {
  return withDatabase(`${system}_${row}`, (url) =>
    runChild(process.execPath, [CHILD, system, variant, row, url, JSON.stringify(sizes)], 900_000))
}
