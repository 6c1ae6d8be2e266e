/**
 * Small measuring helpers shared by the scenarios: percentiles, CPU share and peak RSS of this
 * process over a window.
 */

/** { p50, p99, max } of `values` (milliseconds), or nulls when empty. */
export function lagSummary (values) {
  if (values.length === 0) return { count: 0, p50: null, p99: null, max: null }
  const sorted = Float64Array.from(values).sort()
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] }
}

/** Starts a window: call the returned function to get { cpuPercent (of one core), rssPeakMb }. */
export function processWindow (sampleMs = 250) {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let rssPeak = process.memoryUsage.rss()
  const timer = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage.rss()) }, sampleMs)
  return () => {
    clearInterval(timer)
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    const cpu = process.cpuUsage(cpu0)
    const wallMs = performance.now() - t0
    return { cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100, rssPeakMb: rssPeak / 2 ** 20 }
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves when `predicate()` holds, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until (predicate, timeoutMs, what, everyMs = 5) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}
