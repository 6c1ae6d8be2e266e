/**
 * What the soak does to the cluster while the jobs fire, each on a schedule of its own from the
 * window's start: SIGKILL the leader every `--kill-every` s (it is replaced at once), with
 * `--kill-workers` also a random non-leader worker (which runs handlers too) half a period after
 * each leader kill (replaced at once as well), SIGSTOP it for
 * `--freeze-seconds` every `--freeze-every` s (or, with the older `--freeze`, every other kill is a
 * freeze), a network fault on a random worker every `--net-fault-every` s with `--net-faults`
 * (in turn: all its connections blackholed, `--net-latency-ms` of latency each way, both for
 * `--net-fault-seconds`, or every connection reset), and one PostgreSQL restart halfway with
 * `--pg-restart`. A disruption that needs a leader waits until there is one, and a ready standby.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { SoakOptions } from './options.ts'
import { alive, leads, type SoakLog, type SoakWorker } from './workers.ts'

const run = promisify(execFile)
const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export type DisruptionKind = 'kill' | 'kill-worker' | 'freeze' | 'blackhole' | 'latency' | 'reset'

export interface Disruption {
  kind: DisruptionKind
  /** `Date.now()` when it began. */
  at: number
  /** The victim's node id, and its name in the log. */
  victim: string
  worker: string
  /** Whether the victim led at the time (a failover is measured only then). */
  leader: boolean
}

const NET_FAULTS = ['blackhole', 'latency', 'reset'] as const

export class Disruptor {
  readonly disruptions: Disruption[] = []
  restarted = false
  readonly #options: SoakOptions
  readonly #workers: () => SoakWorker[]
  readonly #replace: () => Promise<unknown>
  readonly #log: SoakLog
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #restartAt: number | null
  #nextKill: number
  #nextWorkerKill: number
  #nextFreeze: number
  #nextNetFault: number
  #kills = 0
  #netFaults = 0

  constructor (options: SoakOptions, start: number, workers: () => SoakWorker[], replace: () => Promise<unknown>, log: SoakLog) {
    this.#options = options
    this.#workers = workers
    this.#replace = replace
    this.#log = log
    this.#restartAt = options.pgRestart ? start + options.seconds * 500 + 1000 : null
    this.#nextKill = options.killEvery > 0 ? start + options.killEvery * 1000 : Infinity
    // Offset by half a period, so a worker dies between two leader kills, not with one.
    this.#nextWorkerKill = options.killWorkers && options.killEvery > 0 ? start + options.killEvery * 1500 : Infinity
    this.#nextFreeze = options.freezeEvery > 0 ? start + options.freezeEvery * 1000 : Infinity
    // Offset by half a period, so network faults fall between the kills rather than on them.
    this.#nextNetFault = options.netFaults ? start + options.netFaultEvery * 500 : Infinity
  }

  /** Carries out every disruption that is due now. */
  async tick (): Promise<void> {
    const now = Date.now()
    if (this.#restartAt !== null && !this.restarted && now >= this.#restartAt) await this.#restartPostgres()
    // Kills of the leader and of workers take turns in the order they fall due: one that must wait
    // (for a standby to be up) holds the other back, so neither kind crowds the other out.
    if (now >= this.#nextKill && this.#nextKill <= this.#nextWorkerKill) {
      const kind = this.#options.freeze && this.#kills % 2 === 1 ? 'freeze' : 'kill'
      if (await this.#disruptLeader(kind)) {
        this.#kills++
        this.#nextKill += this.#options.killEvery * 1000
      }
    }
    if (now >= this.#nextWorkerKill && this.#nextWorkerKill < this.#nextKill && await this.#killWorker()) this.#nextWorkerKill += this.#options.killEvery * 1000
    if (now >= this.#nextFreeze && await this.#disruptLeader('freeze')) this.#nextFreeze += this.#options.freezeEvery * 1000
    if (now >= this.#nextNetFault && this.#netFault()) this.#nextNetFault += this.#options.netFaultEvery * 1000
  }

  /** Ends every freeze and heals every network fault now (before the soak settles). */
  endAll (): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    for (const worker of this.#workers()) {
      if (worker.frozen && alive(worker)) worker.child.kill('SIGCONT')
      worker.frozen = false
      worker.proxies?.pool.heal()
      worker.proxies?.session.heal()
    }
  }

  #later (ms: number, fn: () => void): void {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, ms)
    this.#timers.add(timer)
  }

  #record (kind: DisruptionKind, worker: SoakWorker, leader: boolean): void {
    this.disruptions.push({ kind, at: Date.now(), victim: worker.nodeId, worker: worker.name, leader })
  }

  async #disruptLeader (kind: 'kill' | 'freeze'): Promise<boolean> {
    const leader = this.#workers().find(leads)
    if (leader === undefined) return false
    // And a standby that is up: after kills of workers (--kill-workers) every other process may
    // still be booting, and the failover would measure a start-up.
    if (!this.#workers().some((worker) => worker !== leader && ready(worker))) return false
    this.#record(kind, leader, true)
    if (kind === 'kill') {
      leader.stoppedBySoak = true
      leader.child.kill('SIGKILL')
      this.#log(`soak: killed the leader, ${leader.name} (pid ${leader.child.pid})`)
      await this.#replace()
      return true
    }
    leader.frozen = true
    leader.child.kill('SIGSTOP')
    this.#log(`soak: froze the leader, ${leader.name} (pid ${leader.child.pid}), for ${this.#options.freezeSeconds} s`)
    this.#later(this.#options.freezeSeconds * 1000, () => {
      leader.frozen = false
      if (alive(leader)) leader.child.kill('SIGCONT')
    })
    return true
  }

  /**
   * SIGKILLs a random live worker that does not lead (it may be running handlers), and replaces it.
   * Waits while it would leave no ready standby: replacements take seconds to boot, and a leader
   * killed then would measure their start-up, not a failover.
   */
  async #killWorker (): Promise<boolean> {
    const candidates = this.#workers().filter((worker) => ready(worker) && !leads(worker))
    if (candidates.length < 2) return false
    const victim = candidates[Math.floor(Math.random() * candidates.length)]
    if (victim === undefined) return false
    this.#record('kill-worker', victim, false)
    victim.stoppedBySoak = true
    victim.child.kill('SIGKILL')
    this.#log(`soak: killed a worker, ${victim.name} (pid ${victim.child.pid})`)
    await this.#replace()
    return true
  }

  #netFault (): boolean {
    const candidates = this.#workers().filter((worker) => alive(worker) && !worker.stoppedBySoak && !worker.frozen && worker.proxies !== null && worker.nodeId !== '')
    const victim = candidates[Math.floor(Math.random() * candidates.length)]
    if (victim?.proxies == null) return false
    const { pool, session } = victim.proxies
    const kind = NET_FAULTS[this.#netFaults++ % NET_FAULTS.length] as typeof NET_FAULTS[number]
    const leader = leads(victim)
    this.#record(kind, victim, leader)
    const role = leader ? 'the leader' : 'a standby'
    const seconds = this.#options.netFaultSeconds
    if (kind === 'reset') {
      pool.resetAll()
      session.resetAll()
      this.#log(`soak: reset every connection of ${role}, ${victim.name}`)
      return true
    }
    if (kind === 'blackhole') {
      pool.blackhole()
      session.blackhole()
      this.#log(`soak: blackholed every connection of ${role}, ${victim.name}, for ${seconds} s`)
    } else {
      pool.latency(this.#options.netLatencyMs)
      session.latency(this.#options.netLatencyMs)
      this.#log(`soak: ${this.#options.netLatencyMs} ms of latency each way on ${role}, ${victim.name}, for ${seconds} s`)
    }
    this.#later(seconds * 1000, () => { pool.heal(); session.heal() })
    return true
  }

  async #restartPostgres (): Promise<void> {
    this.restarted = true
    while (await benchmarksRunning()) {
      this.#log('soak: waiting for a benchmark to finish before restarting PostgreSQL')
      await sleep(5000)
    }
    this.#log(`soak: restarting PostgreSQL (${this.#options.pgRestartCmd})`)
    const [cmd, ...args] = this.#options.pgRestartCmd.split(' ') as [string, ...string[]]
    await run(cmd, args).catch((error: Error) => this.#log(`soak: restart command failed: ${error.message}`))
  }
}

/** Alive, started (its node id reported), and neither killed nor frozen by the soak. */
function ready (worker: SoakWorker): boolean {
  return alive(worker) && !worker.stoppedBySoak && !worker.frozen && worker.nodeId !== ''
}

async function benchmarksRunning (): Promise<boolean> {
  try {
    const { stdout } = await run('pgrep', ['-f', 'bench/'])
    return stdout.trim() !== ''
  } catch {
    return false
  }
}
