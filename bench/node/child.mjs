/**
 * Runs one scenario of this project in a process of its own (clean RSS and CPU figures):
 * `node bench/node/child.mjs <scenario> <database url> <sizes json>`, the URL a postgres://,
 * mysql:// or file: one (databases/index.mjs `databaseOf` picks the driver); prints one
 * `BENCH_RESULT <json>` line.
 */
import { adds } from './adds.mjs'
import { burst } from './burst.mjs'
import { history, historyFill } from './history.mjs'
import { isolation } from './isolation.mjs'
import { scaleOut } from './scale-out.mjs'
import { stored, storedFill } from './stored.mjs'
import { steady } from './steady.mjs'

const scenarios = { burst, steady, adds, historyFill, history, storedFill, stored, 'scale-out': scaleOut, isolation }
const [name, url, sizes] = process.argv.slice(2)
const result = await scenarios[name](url, JSON.parse(sizes))
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`)
