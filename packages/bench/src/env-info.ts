/** What the run was measured on: machine, Node, package versions, Meridian's commit. */
import fs from 'node:fs'
import os from 'node:os'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const PACKAGES = ['yjs', 'ws', 'y-websocket', '@y/websocket-server', 'y-leveldb', '@hocuspocus/server', 'hocuspocus3', '@hocuspocus/extension-database', 'classic-level', '@meridian/server']

function versionOf(name: string): string {
  try {
    const file = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url))
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; version: string }
    return pkg.name === name ? pkg.version : `${pkg.name}@${pkg.version}`
  } catch {
    return 'not installed'
  }
}

function commit(): string {
  try {
    const cwd = fileURLToPath(new URL('.', import.meta.url))
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${sha} + uncommitted changes` : sha
  } catch {
    return 'unknown'
  }
}

export function environmentLines(): string[] {
  const cpus = os.cpus()
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ')
  return [
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()})`,
    `- node ${process.version}; load average at start: ${load}`,
    `- meridian commit: ${commit()}`,
    `- packages: ${PACKAGES.map((p) => `${p} ${versionOf(p)}`).join(', ')}`,
  ]
}
