/**
 * What "nothing invalid is persisted" means in these tests: every stored
 * document (snapshot, then log, as the relay loads it) applies to a fresh
 * Y.Doc without a throw and leaves nothing pending — no struct or delete
 * waiting for content that does not exist.
 */
import http from 'node:http'
import * as Y from 'yjs'
import type { DocStore } from '@meridian/server'

/** Rebuilds a stored document exactly as a relay would, but throwing on any bad part. */
export const loadStoredDoc = async (store: DocStore, name: string): Promise<Y.Doc | null> => {
  const stored = await store.loadDoc(name)
  if (!stored) return null
  const doc = new Y.Doc()
  const parts = stored.snapshot ? [stored.snapshot, ...stored.log] : stored.log
  for (const [i, part] of parts.entries()) {
    try {
      Y.applyUpdate(doc, part)
    } catch (err) {
      throw new Error(`stored document ${JSON.stringify(name)}: part ${i} does not apply: ${(err as Error).message}`)
    }
  }
  return doc
}

export const isSettled = (doc: Y.Doc): boolean => doc.store.pendingStructs === null && doc.store.pendingDs === null

/** Client ids that authored structs in a document. */
export const clientsOf = (doc: Y.Doc): Set<number> => new Set(doc.store.clients.keys())

/** Loads every stored document; returns their names, throwing on the first that is not clean. */
export const checkEveryStoredDoc = async (store: DocStore): Promise<string[]> => {
  const names: string[] = []
  for await (const name of store.listDocs()) names.push(name)
  for (const name of names) {
    const doc = await loadStoredDoc(store, name)
    if (!doc) throw new Error(`listed document ${JSON.stringify(name)} does not load`)
    if (!isSettled(doc)) throw new Error(`stored document ${JSON.stringify(name)} leaves pending structs or deletes`)
    doc.destroy()
  }
  return names
}

/** GET /healthz over plain HTTP on the relay port (no keep-alive agent, so no socket outlives the call). */
export const healthzStatus = (port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
  })
