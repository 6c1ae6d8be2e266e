/**
 * Runs one scenario in a child process and returns the object it printed on its
 * `BENCH_RESULT <json>` line. The child's stderr passes through; it is killed after `timeoutMs`
 * so the bench always stops by itself.
 */
import { spawn } from 'node:child_process'

export async function runChild (command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => { clearTimeout(timer); reject(error) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
      if (code === 0 && line !== undefined) resolve(JSON.parse(line.slice('BENCH_RESULT '.length)))
      else reject(new Error(`${args.slice(0, 2).join(' ')} failed (${signal ?? `exit ${code}`})${signal === 'SIGKILL' ? ` after ${timeoutMs / 1000} s` : ''}`))
    })
  })
}
