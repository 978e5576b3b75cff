/**
 * Hocuspocus (4.7 or 3.4, chosen by a parameter) with its defaults, plus its
 * official Database extension storing the document state in LevelDB
 * (classic-level, writes not synced: like y-leveldb and Meridian's
 * "buffered"). The sqlite extension needs a native build that this
 * workspace does not allow, and LevelDB keeps the storage engine the same
 * as the other servers'. Persistence follows Hocuspocus's own model: the
 * whole state is stored on a debounce (2 s, at most 10 s) and on unload.
 */
import { ClassicLevel } from 'classic-level'
import { announceListening, jobParams, serve, serverHandlers } from '../proc/child-side.js'

interface Params {
  version: 3 | 4
  dataDir: string
}
interface FetchPayload {
  documentName: string
}
interface StorePayload {
  documentName: string
  state: Uint8Array
}
interface HocuspocusServer {
  listen(): Promise<unknown>
  destroy(): Promise<void>
  address: { port: number }
}
type ServerCtor = new (config: Record<string, unknown>) => HocuspocusServer
type DatabaseCtor = new (config: { fetch: (p: FetchPayload) => Promise<Uint8Array | null>; store: (p: StorePayload) => Promise<void> }) => unknown

const p = jobParams<Params>()
const serverModule = (await import(p.version === 3 ? 'hocuspocus3' : '@hocuspocus/server')) as { Server: ServerCtor }
const databaseModule = (await import(p.version === 3 ? 'hocuspocus3-database' : '@hocuspocus/extension-database')) as { Database: DatabaseCtor }

const db = new ClassicLevel<string, Uint8Array>(p.dataDir, { keyEncoding: 'utf8', valueEncoding: 'view' })
await db.open()

const database = new databaseModule.Database({
  fetch: async ({ documentName }) => (await db.get(documentName)) ?? null,
  store: async ({ documentName, state }) => {
    await db.put(documentName, state)
  },
})

const server = new serverModule.Server({
  port: 0,
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: false,
  extensions: [database],
})
await server.listen()

serve(
  serverHandlers(async () => {
    // destroy() closes the connections and runs every pending store.
    await server.destroy()
    await db.close()
  }),
)
announceListening(server.address.port)
