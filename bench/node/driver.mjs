/**
 * Runs this project's scenarios, each in a fresh node process on its own fresh database.
 */
import { fileURLToPath } from 'node:url'
import { runChild } from '../child-process.mjs'
import { withDatabase } from '../database.mjs'
import { POOL, SCHEDULER_OPTIONS } from './harness.mjs'

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url))

export const description = `maxConcurrency ${SCHEDULER_OPTIONS.maxConcurrency}, batchSize ${SCHEDULER_OPTIONS.batchSize}, ` +
  `MikroORM pool max ${POOL.max}, other options default (pollIntervalMs 5000, leaseMs 30000)`

export async function runOurs (row, sizes) {
  return withDatabase(`fms_${row}`, async (url) => {
    const run = (scenario) => runChild(process.execPath, [CHILD, scenario, url, JSON.stringify(sizes)], 600_000)
    if (row === 'scale') await run('scaleFill')
    return run(row)
  })
}
