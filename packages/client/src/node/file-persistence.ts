/**
 * LocalPersistence in one file, for Node apps that want edits to survive a
 * restart while offline. The file is a sequence of frames (4-byte
 * little-endian length, then a Yjs update); a frame cut short by a crash
 * mid-append is ignored on load. Compaction writes a fresh file beside the
 * old one and renames it over, so a crash leaves one or the other whole.
 *
 * Node-only (it imports node:fs), hence its own entry point
 * `@meridian/client/node`, kept out of the browser bundle.
 */
import { appendFile, mkdir, open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { MeridianError } from '@meridian/core'

export interface FilePersistenceOptions {
  /** fsync every write (survives power loss, slower). Default false: survives a process crash. */
  fsync?: boolean
}

const frame = (update: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + update.byteLength)
  new DataView(out.buffer).setUint32(0, update.byteLength, true)
  out.set(update, 4)
  return out
}

export class FilePersistence {
  private closed = false
  private ready: Promise<void> | null = null

  constructor(
    readonly path: string,
    private readonly options: FilePersistenceOptions = {},
  ) {}

  async load(): Promise<Uint8Array[]> {
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await readFile(this.path))
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return []
      throw new MeridianError('persistence-failed', `cannot read ${this.path}`, { cause: err })
    }
    const updates: Uint8Array[] = []
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let at = 0
    while (at + 4 <= bytes.byteLength) {
      const length = view.getUint32(at, true)
      if (at + 4 + length > bytes.byteLength) break
      updates.push(bytes.slice(at + 4, at + 4 + length))
      at += 4 + length
    }
    return updates
  }

  async append(update: Uint8Array): Promise<void> {
    await this.prepare()
    if (this.options.fsync) await this.writeSynced(this.path, frame(update), 'a')
    else await appendFile(this.path, frame(update))
  }

  async compact(state: Uint8Array): Promise<void> {
    await this.prepare()
    const temp = `${this.path}.compact`
    await this.writeSynced(temp, frame(state), 'w')
    await rename(temp, this.path)
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private prepare(): Promise<void> {
    if (this.closed) return Promise.reject(new MeridianError('persistence-failed', 'the file store is closed'))
    this.ready ??= mkdir(dirname(this.path), { recursive: true }).then(() => undefined)
    return this.ready
  }

  private async writeSynced(path: string, bytes: Uint8Array, flags: 'a' | 'w'): Promise<void> {
    const handle = await open(path, flags)
    try {
      await handle.write(bytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}
