/**
 * The soak's command line (`npm run soak -- …`; every option is described in soak/run.ts's header),
 * parsed with `node:util`'s `parseArgs` (strict: an unknown option is an error naming it).
 */
import { parseArgs } from 'node:util'

export interface SoakOptions {
  workers: number
  jobs: number
  /** Seconds between two occurrences of a job. */
  interval: number
  /** Seconds of occurrences (the window). */
  seconds: number
  /** Seconds between two SIGKILLs of the leader; 0: none. */
  killEvery: number
  /** Seconds between two SIGSTOPs of the leader (each lasting `freezeSeconds`); 0: none. */
  freezeEvery: number
  /** Also SIGKILL a random non-leader worker every `killEvery` s (half a period after each leader kill). */
  killWorkers: boolean
  /** The older form: the --kill-every disruptions alternate between a kill and a freeze. */
  freeze: boolean
  freezeSeconds: number
  /** Stage network faults (blackhole, latency, resets) on a random worker every `netFaultEvery` seconds. */
  netFaults: boolean
  netFaultEvery: number
  /** Seconds a blackhole or a latency lasts before it heals. */
  netFaultSeconds: number
  /** Milliseconds of latency each way in a latency fault. */
  netLatencyMs: number
  pgRestart: boolean
  pgRestartCmd: string
  leaseMs: number
  /** The workers' `maxConcurrency` (null: the library's default). Small, the leader queues most runs for the others. */
  maxConcurrency: number | null
  leaderStaleMs: number | null
  leaderHeartbeatMs: number | null
  databaseUrl: string
  keepDb: boolean
  library: string
  quiet: boolean
}

const NUMBERS = {
  workers: 3,
  jobs: 20,
  interval: 1,
  seconds: 20,
  'kill-every': 5,
  'freeze-every': 0,
  'freeze-seconds': 5,
  'net-fault-every': 20,
  'net-fault-seconds': 10,
  'net-latency-ms': 200,
  'lease-ms': 5000,
  'max-concurrency': null,
  'leader-stale-ms': null,
  'leader-heartbeat-ms': null
} as const
/** Options that may be 0 (meaning "never"). */
const MAY_BE_ZERO = new Set(['kill-every', 'freeze-every'])

/** Parses the soak's arguments; throws an Error naming the option and what it needs. */
export function parseSoakOptions (argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...Object.fromEntries(Object.keys(NUMBERS).map((name) => [name, { type: 'string' as const }])),
      freeze: { type: 'boolean' },
      'kill-workers': { type: 'boolean' },
      'net-faults': { type: 'boolean' },
      'pg-restart': { type: 'boolean' },
      'pg-restart-cmd': { type: 'string' },
      'database-url': { type: 'string' },
      'keep-db': { type: 'boolean' },
      library: { type: 'string' },
      quiet: { type: 'boolean' }
    }
  })
  const number = (name: keyof typeof NUMBERS): number | null => {
    const given = (values as Record<string, string | boolean | undefined>)[name]
    if (given === undefined) return NUMBERS[name]
    const n = Number(given)
    if (typeof given !== 'string' || given.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !MAY_BE_ZERO.has(name))) {
      throw new Error(`--${name} must be a ${MAY_BE_ZERO.has(name) ? 'number ≥ 0 (0: never)' : 'positive number'}, got ${JSON.stringify(given)}`)
    }
    return n
  }
  const options: SoakOptions = {
    workers: number('workers') as number,
    jobs: number('jobs') as number,
    interval: number('interval') as number,
    seconds: number('seconds') as number,
    killEvery: number('kill-every') as number,
    freezeEvery: number('freeze-every') as number,
    killWorkers: values['kill-workers'] === true,
    freeze: values.freeze === true,
    freezeSeconds: number('freeze-seconds') as number,
    netFaults: values['net-faults'] === true,
    netFaultEvery: number('net-fault-every') as number,
    netFaultSeconds: number('net-fault-seconds') as number,
    netLatencyMs: number('net-latency-ms') as number,
    pgRestart: values['pg-restart'] === true,
    pgRestartCmd: (values['pg-restart-cmd'] as string | undefined) ?? 'pg_ctlcluster --skip-systemctl-redirect 15 main restart',
    leaseMs: number('lease-ms') as number,
    maxConcurrency: number('max-concurrency'),
    leaderStaleMs: number('leader-stale-ms'),
    leaderHeartbeatMs: number('leader-heartbeat-ms'),
    databaseUrl: (values['database-url'] as string | undefined) ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    keepDb: values['keep-db'] === true,
    library: (values.library as string | undefined) ?? '',
    quiet: values.quiet === true
  }
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error('--workers must be a whole number ≥ 1')
  if (!Number.isInteger(options.jobs)) throw new Error('--jobs must be a whole number')
  if (options.killWorkers && options.killEvery === 0) throw new Error('--kill-workers kills on the --kill-every schedule: give --kill-every a number > 0')
  if (options.freeze && options.freezeEvery > 0) throw new Error('--freeze (kills alternate with freezes) and --freeze-every (freezes on a schedule of their own) exclude each other: use one')
  return options
}
