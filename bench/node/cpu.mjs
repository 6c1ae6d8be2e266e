/**
 * CPU time of the machine's PostgreSQL server, for the burst's profile figures (burst.mjs).
 */
import fs from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100

/**
 * CPU milliseconds used so far by every process named `postgres` on this machine (the postmaster,
 * its backends and background workers; a backend that has exited is no longer counted), from
 * /proc (proc(5): fields 14 utime and 15 stime). Null where /proc cannot be read (not Linux).
 */
export function postgresCpuMs () {
  let names
  try {
    names = fs.readdirSync('/proc')
  } catch {
    return null
  }
  let ticks = 0
  for (const pid of names) {
    if (!/^[0-9]+$/.test(pid)) continue
    let stat
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue // the process has exited meanwhile
    }
    if (!stat.includes('(postgres)')) continue
    // After the command's closing parenthesis: field 3 (state) onwards; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks * (1000 / TICKS_PER_SECOND)
}
