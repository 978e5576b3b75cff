/**
 * LocalPersistence in one file, for Node apps that want edits to survive a
 * restart while offline. The file is a sequence of frames (4-byte
 * little-endian length, then a Yjs update). Compaction writes a fresh file
 * beside the old one and renames it over, so a crash leaves one or the other
 * whole.
 *
 * A crash mid-append leaves a frame cut short at the end. Reading stops
 * there, so a frame appended after it would be read as part of the torn one
 * and lost along with everything after it. Before its first write this store
 * therefore cuts the file back to its last whole frame; it does the same
 * after a write of its own failed part-way.
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

/** The whole frames in `bytes`, and where the last one ends. */
const parseFrames = (bytes: Uint8Array): { updates: Uint8Array[]; wholeBytes: number } => {
  const updates: Uint8Array[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  while (at + 4 <= bytes.byteLength) {
    const length = view.getUint32(at, true)
    if (at + 4 + length > bytes.byteLength) break
    updates.push(bytes.slice(at + 4, at + 4 + length))
    at += 4 + length
  }
  return { updates, wholeBytes: at }
}

export class FilePersistence {
  private closed = false
  /** Directory made and torn tail cut; reset after a failed write so the next one repairs first. */
  private ready: Promise<void> | null = null

  constructor(
    readonly path: string,
    private readonly options: FilePersistenceOptions = {},
  ) {}

  async load(): Promise<Uint8Array[]> {
    const bytes = await this.read()
    return bytes ? parseFrames(bytes).updates : []
  }

  async append(update: Uint8Array): Promise<void> {
    await this.prepare()
    await this.write(async () => {
      if (this.options.fsync) await this.writeSynced(this.path, frame(update), 'a')
      else await appendFile(this.path, frame(update))
    })
  }

  async compact(state: Uint8Array): Promise<void> {
    await this.prepare()
    const temp = `${this.path}.compact`
    await this.write(async () => {
      await this.writeSynced(temp, frame(state), 'w')
      await rename(temp, this.path)
    })
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private async read(): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path))
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null
      throw new MeridianError('persistence-failed', `cannot read ${this.path}`, { cause: err })
    }
  }

  private prepare(): Promise<void> {
    if (this.closed) return Promise.reject(new MeridianError('persistence-failed', 'the file store is closed'))
    if (!this.ready) {
      const ready = this.repair()
      this.ready = ready
      // A failed repair is retried by the next write instead of failing every later one.
      ready.catch(() => {
        if (this.ready === ready) this.ready = null
      })
    }
    return this.ready
  }

  private async repair(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true })
    const bytes = await this.read()
    if (!bytes) return
    const { wholeBytes } = parseFrames(bytes)
    if (wholeBytes === bytes.byteLength) return
    const handle = await open(this.path, 'r+')
    try {
      await handle.truncate(wholeBytes)
      if (this.options.fsync) await handle.sync()
    } finally {
      await handle.close()
    }
  }

  /** Runs a write; if it fails, the file may end in part of a frame, so the next write repairs it first. */
  private async write(run: () => Promise<void>): Promise<void> {
    try {
      await run()
    } catch (err) {
      this.ready = null
      throw err
    }
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
