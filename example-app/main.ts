/**
 * Entry point (`npm start`). Environment:
 * - `DATABASE_URL=postgres://…` or `mysql://…` (`mariadb://…`): use that PostgreSQL, MySQL or
 *   MariaDB; `DATABASE_URL=sqlite:<file>`: that SQLite file (`@mikro-orm/libsql`); absent:
 *   embedded PGlite under `DATA_DIR` (default `example-app/.data`)
 * - `PORT` (default 3000), `HOST` (default 127.0.0.1), `LOG_LEVEL` (default info)
 * - `WORKERS=N`: N worker processes sharing the port (needs PostgreSQL)
 */
import cluster from 'node:cluster'
import { ConfigError, readConfig } from './config.ts'
import { runPrimary } from './cluster.ts'
import { runServer } from './server.ts'

try {
  const config = readConfig()
  if (config.workers > 1 && cluster.isPrimary) runPrimary(config)
  else await runServer(config)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`example-app: ${error.message}\n`)
  process.exit(1)
}
