/**
 * A MemoryDocStore whose appends can be held at a gate, so a test can see
 * what a client believes while the relay's write has started but not ended.
 */
import { MemoryDocStore, type AppendEntry } from '@meridian/server'
import * as Y from 'yjs'

export class GatedStore extends MemoryDocStore {
  private gate: Promise<void> = Promise.resolve()
  private release: () => void = () => {}
  private appendWaiters: (() => void)[] = []
  appendsStarted = 0

  /** Holds every append that starts from now on until open(). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve))
  }

  openGate(): void {
    this.release()
    this.gate = Promise.resolve()
  }

  /** Resolves when the next append starts (it may then be waiting at the gate). */
  nextAppend(): Promise<void> {
    return new Promise((resolve) => this.appendWaiters.push(resolve))
  }

  override async append(entries: readonly AppendEntry[]): Promise<Map<string, number>> {
    this.appendsStarted++
    for (const w of this.appendWaiters.splice(0)) w()
    await this.gate
    return super.append(entries)
  }

  override async close(): Promise<void> {
    this.openGate()
    return super.close()
  }

  /** The document as the store holds it (snapshot and log), or null. */
  async stored(doc: string): Promise<Y.Doc | null> {
    const stored = await this.loadDoc(doc)
    if (!stored) return null
    const ydoc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(ydoc, stored.snapshot)
    for (const u of stored.log) Y.applyUpdate(ydoc, u)
    return ydoc
  }
}
