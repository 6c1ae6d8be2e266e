/**
 * Every part of the JobStore contract (src/stores/job-store.ts) on one store kind: the test files
 * of the stores (memory, PostgreSQL, PGlite, MariaDB, SQLite) call this with a `makeStore` that
 * gives each test a store on empty storage. PostgreSQL's schema contract reads its catalogs and
 * is run by the PostgreSQL and PGlite files only.
 */
import { auditContract } from './audit-contract.js'
import { claimAheadContract } from './claim-ahead-contract.js'
import { jobStoreContract, type MakeStore, type TapTest } from './contract.js'
import { executionStatsContract } from './execution-stats-contract.js'
import { nodeRegistryContract } from './node-registry-contract.js'
import { queuedRunsContract } from './queued-runs-contract.js'
import { recordsAsStoredContract } from './records-as-stored-contract.js'
import { retryContract } from './retry-contract.js'

export function allStoreContracts (t: TapTest, makeStore: MakeStore): void {
  jobStoreContract(t, makeStore)
  executionStatsContract(t, makeStore)
  nodeRegistryContract(t, makeStore)
  auditContract(t, makeStore)
  retryContract(t, makeStore)
  queuedRunsContract(t, makeStore)
  claimAheadContract(t, makeStore)
  recordsAsStoredContract(t, makeStore)
}
