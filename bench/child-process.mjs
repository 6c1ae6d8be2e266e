/**
 * Runs one scenario in a child process and returns the object it printed on its
 * `BENCH_RESULT <json>` line. The child's stderr passes through (and its last error line goes
 * into the rejection, so the caller can tell why it failed); it is killed after `timeoutMs` so
 * the bench always stops by itself.
 */
import { spawn } from 'node:child_process'

export async function runChild (command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderrTail = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk)
      stderrTail = (stderrTail + chunk).slice(-8192)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => { clearTimeout(timer); reject(error) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
      if (code === 0 && line !== undefined) return resolve(JSON.parse(line.slice('BENCH_RESULT '.length)))
      const cause = stderrTail.split('\n').find((l) => /^(\w*Error|Exception)\b|^\w+Error:/.test(l.trim()))?.trim()
      reject(new Error(`${args.slice(0, 2).join(' ')} failed (${signal ?? `exit ${code}`})${signal === 'SIGKILL' ? ` after ${timeoutMs / 1000} s` : ''}${cause ? `: ${cause}` : ''}`))
    })
  })
}
