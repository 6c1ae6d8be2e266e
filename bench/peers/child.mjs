/**
 * Runs one scenario of one peer (or the ceiling) in a process of its own:
 * `node bench/peers/child.mjs <system> <variant> <scenario> <database url> <sizes json>`; prints
 * one `BENCH_RESULT <json>` line.
 */
const [system, variant, scenario, url, sizes] = process.argv.slice(2)
const module = await import(`./${system}.mjs`)
if (typeof module[scenario] !== 'function') throw new Error(`${system} has no ${scenario} scenario`)
const result = await module[scenario](url, JSON.parse(sizes), variant)
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`)
process.exit(0)
