/**
 * Every TypeScript block of README.md typechecks: each block becomes a module of a scratch project
 * (inside the repository, so `fastify-mikro-scheduler` resolves to `src/` through tsconfig paths and
 * the dependencies to `node_modules`), beside a small set of declarations for the names a snippet
 * takes from its surroundings (`app`, `orm`, `yourEntities`, `requireAdmin`, …), and `tsc` runs on it.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// tsc runs as a child process on the whole program: slow on a busy machine, so more than the default file timeout.
t.setTimeout(600_000)

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** What the README's snippets assume exists around them. */
const SURROUNDINGS = `import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import type { MikroORM } from '@mikro-orm/postgresql'
import type { MigrationObject } from '@mikro-orm/core'
import type {} from 'fastify-mikro-scheduler'
declare global {
  const app: FastifyInstance
  const orm: MikroORM
  const yourEntities: Array<new () => object>
  const yourMigrations: MigrationObject[]
  const requireAdmin: onRequestHookHandler
  function isAdmin (request: import('fastify').FastifyRequest): boolean
  function alert (...what: unknown[]): void
}
export {}
`

function tsBlocks (markdown: string): Array<{ line: number, code: string }> {
  const blocks: Array<{ line: number, code: string }> = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end] !== '```') end++
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') })
    i = end
  }
  return blocks
}

t.test('every ```ts block of README.md typechecks', async (t) => {
  const blocks = tsBlocks(readFileSync(join(root, 'README.md'), 'utf8'))
  t.ok(blocks.length >= 10, `README.md has TypeScript blocks (${blocks.length})`)
  const dir = mkdtempSync(join(root, '.readme-snippets-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'surroundings.ts'), SURROUNDINGS)
  const files = blocks.map((block, index) => {
    const file = `block-${String(index + 1).padStart(2, '0')}-line-${block.line}.ts`
    writeFileSync(join(dir, file), `${block.code}\nexport {}\n`)
    return file
  })
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: relative(dir, join(root, 'tsconfig.json')),
    compilerOptions: { noEmit: true, noUnusedLocals: false, noUnusedParameters: false, rootDir: relative(dir, root) },
    include: ['*.ts']
  }))
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root, maxBuffer: 8 * 1024 * 1024 }, (_error, stdout, stderr) => resolve(stdout + stderr))
  })
  // Errors name the block file, whose name carries the README line the block starts at.
  const errors = output.split('\n').filter((line) => /error TS\d+/.test(line)).map((line) => line.replace(/^.*block-\d+-line-(\d+)\.ts\((\d+),\d+\)/, (_all, start: string, row: string) => `README.md:${Number(start) + Number(row) - 1}`))
  t.same(errors, [], `no type errors in the ${files.length} blocks`)
})
