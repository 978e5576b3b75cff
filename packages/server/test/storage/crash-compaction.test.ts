/**
 * Kills a process in the middle of a stream of appends and compactions, then
 * checks that the reopened store holds every acknowledged update and that
 * every document still loads into a Y.Doc with nothing missing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import ts from 'typescript'
import * as Y from 'yjs'
import { LevelDocStore } from '../../src/storage/level-store.js'
import type { Durability } from '../../src/storage/doc-store.js'

const here = dirname(fileURLToPath(import.meta.url))
const serverRoot = join(here, '..', '..')
const FIXTURE = join(here, 'fixtures', 'crash-writer.mjs')

/**
 * The child runs plain JavaScript, so the storage sources are transpiled for it
 * here rather than taken from dist: dist may be stale, or not build at all
 * while other parts of the package are mid-change. @meridian/core is pointed at
 * its transpiled errors module for the same reason.
 */
async function buildStorageForChild(outDir: string): Promise<string> {
  const moduleDir = join(outDir, 'storage')
  await mkdir(moduleDir, { recursive: true })
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}')
  await symlink(join(serverRoot, 'node_modules'), join(outDir, 'node_modules'), 'dir')
  const compile = (source: string): string =>
    ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText
  const coreErrors = await readFile(join(serverRoot, '..', 'core', 'src', 'errors.ts'), 'utf8')
  await writeFile(join(moduleDir, 'meridian-core.js'), compile(coreErrors))
  const srcDir = join(serverRoot, 'src', 'storage')
  for (const file of (await readdir(srcDir)).filter((f) => f.endsWith('.ts'))) {
    const js = compile(await readFile(join(srcDir, file), 'utf8')).replaceAll("'@meridian/core'", "'./meridian-core.js'")
    await writeFile(join(moduleDir, file.replace(/\.ts$/, '.js')), js)
  }
  return moduleDir
}

interface RunLog {
  tried: Map<number, string>
  acked: Map<number, { doc: string; seq: number }>
  compactions: number
}

/** Runs the writer until it has acknowledged `killAfterAcks` updates and compacted a few times, then SIGKILLs it. */
function runAndKill(moduleDir: string, dataDir: string, durability: Durability, seed: number, killAfterAcks: number): Promise<RunLog> {
  const log: RunLog = { tried: new Map(), acked: new Map(), compactions: 0 }
  const child = spawn(process.execPath, [FIXTURE, moduleDir, dataDir, durability, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let killed = false
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (line) => {
    const [kind, a, b, ...rest] = line.split(' ')
    if (kind === 'try') log.tried.set(Number(a), JSON.parse([b, ...rest].join(' ')) as string)
    else if (kind === 'ack') log.acked.set(Number(a), { seq: Number(b), doc: JSON.parse(rest.join(' ')) as string })
    else if (kind === 'compact') log.compactions++
    if (!killed && log.acked.size >= killAfterAcks && log.compactions >= 3) {
      killed = true
      child.kill('SIGKILL')
    }
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    // 'close' waits for stdout to drain, so every line printed before death is counted.
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL' && killed) resolve(log)
      else reject(new Error(`writer exited on its own (code ${code}, signal ${signal}): ${stderr}`))
    })
  })
}

describe('LevelDocStore after SIGKILL during appends and compactions', () => {
  let buildDir: string
  let moduleDir: string
  let dataDir: string
  let store: LevelDocStore | null = null

  beforeAll(async () => {
    buildDir = await mkdtemp(join(tmpdir(), 'meridian-crash-build-'))
    moduleDir = await buildStorageForChild(buildDir)
  })
  afterAll(async () => {
    await rm(join(buildDir, 'node_modules'), { force: true })
    await rm(buildDir, { recursive: true, force: true })
  })
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meridian-crash-data-'))
  })
  afterEach(async () => {
    await store?.close()
    store = null
    await rm(dataDir, { recursive: true, force: true })
  })

  const cases: Array<{ durability: Durability; killAfterAcks: number }> = [
    { durability: 'buffered', killAfterAcks: 300 },
    { durability: 'fsync', killAfterAcks: 120 },
  ]
  for (const { durability, killAfterAcks } of cases) {
    it(`keeps every acknowledged update (${durability}, killed after ${killAfterAcks} acks)`, async () => {
      // Set MERIDIAN_CRASH_SEED to replay the writer's choices of a printed run.
      const seed = Number(process.env.MERIDIAN_CRASH_SEED ?? Date.now() >>> 0)
      const run = await runAndKill(moduleDir, dataDir, durability, seed, killAfterAcks)

      store = new LevelDocStore(dataDir)
      await store.open()
      const present = new Set<number>()
      const names = new Set(run.tried.values())
      for (const name of names) {
        const stored = await store.loadDoc(name)
        const ackedHere = [...run.acked.values()].filter((a) => a.doc === name)
        if (!stored) {
          expect(ackedHere, `document ${JSON.stringify(name)} has acknowledged updates but is missing`).toEqual([])
          continue
        }
        const doc = new Y.Doc()
        for (const part of stored.snapshot ? [stored.snapshot, ...stored.log] : stored.log) Y.applyUpdate(doc, part)
        // Nothing waiting on a missing dependency: no hole in the stored history.
        expect(doc.store.pendingStructs).toBeNull()
        expect(doc.store.pendingDs).toBeNull()
        for (const key of doc.getMap('m').keys()) present.add(Number(key.slice(1)))
        expect(stored.seq).toBeGreaterThanOrEqual(Math.max(0, ...ackedHere.map((a) => a.seq)))
        doc.destroy()
      }
      console.log(`seed=${seed} durability=${durability} attempted=${run.tried.size} acknowledged=${run.acked.size} present=${present.size} compactions=${run.compactions}`)
      const lost = [...run.acked.keys()].filter((id) => !present.has(id))
      expect(lost, 'acknowledged updates missing after the crash').toEqual([])
      const invented = [...present].filter((id) => !run.tried.has(id))
      expect(invented).toEqual([])
      for (const id of present) expect(run.tried.get(id)).toBeDefined()

      const feed = await store.readFeed(0, Number.MAX_SAFE_INTEGER)
      expect(new Set(feed.map((e) => e.doc)).size).toBe(feed.length)
      const listed: string[] = []
      for await (const name of store.listDocs()) listed.push(name)
      expect(listed.sort()).toEqual(feed.map((e) => e.doc).sort())
      expect(store.lastSeq()).toBeGreaterThanOrEqual(Math.max(0, ...[...run.acked.values()].map((a) => a.seq)))
    })
  }
})
