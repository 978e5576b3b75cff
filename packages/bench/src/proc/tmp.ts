/** Temporary directories of one run; all removed at the end, on error and on Ctrl-C. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const dirs = new Set<string>()
let root: string | null = null

export function tempDir(name: string): string {
  root ??= fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-'))
  const dir = fs.mkdtempSync(path.join(root, `${name.replace(/[^a-z0-9.-]/gi, '_')}-`))
  dirs.add(dir)
  return dir
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

/** Synchronous so that it can run in an 'exit' handler. */
export function removeAllTempDirs(): void {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
  dirs.clear()
  if (root) fs.rmSync(root, { recursive: true, force: true })
  root = null
}
