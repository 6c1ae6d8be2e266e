/**
 * Runs this project's scenarios, each in a fresh node process on its own fresh database of the
 * run's database module (databases/*.mjs). The history row (PostgreSQL only) fills one database
 * with the execution history once (`historyFill`) and gives each repeat a file copy of it.
 */
import { fileURLToPath } from 'node:url'
import { runChild } from '../child-process.mjs'
import { POOL, SCHEDULER_OPTIONS } from './harness.mjs'
import { WORKER_OPTIONS } from './scale-out.mjs'

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url))
const TIMEOUT_MS = 1_800_000

/** The settings line of this project on `database` (a databases/*.mjs module). */
export const description = (database) => `${database.ORM_DRIVER}, maxConcurrency ${SCHEDULER_OPTIONS.maxConcurrency}, batchSize ${SCHEDULER_OPTIONS.batchSize}, ` +
  `${database.ID === 'sqlite' ? '' : `MikroORM pool max ${POOL.max}, `}other options default (pollIntervalMs 5000, leaseMs 30000, lock 'auto'); execution logging on` +
  (database.ROWS === null
    ? `; scale-out and isolation: one such process per worker but maxConcurrency ${WORKER_OPTIONS.maxConcurrency} (the library default), ` +
      'the first worker leads, jobs are added by a process with execute: false, plan: false'
    : '')

const runScenario = (scenario, url, sizes) => runChild(process.execPath, [CHILD, scenario, url, JSON.stringify(sizes)], TIMEOUT_MS)

/**
 * { run(sizes) → result, close() } for one row of this project on `database` (a databases/*.mjs
 * module; the history row needs its `createTemplate`, PostgreSQL's).
 */
export async function prepareOurs (database, row, sizes) {
  const { withDatabase } = database
  if (row !== 'history') {
    return {
      run: (s) => withDatabase(`fms_${row}`, async (url) => {
        if (row === 'stored') await runScenario('storedFill', url, s)
        return runScenario(row, url, s)
      }),
      close: async () => {}
    }
  }
  const template = await database.createTemplate('fms_history')
  try {
    const fill = await runScenario('historyFill', template.url, sizes)
    process.stderr.write(`bench: history: ${fill.rows} execution rows (${fill.size}) stored in ${fill.fillSeconds.toFixed(1)} s\n`)
    return {
      fill,
      run: (s) => withDatabase('fms_history', (url) => runScenario('history', url, s), { template: template.name }),
      close: template.drop
    }
  } catch (error) {
    await template.drop()
    throw error
  }
}
