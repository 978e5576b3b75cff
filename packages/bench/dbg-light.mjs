import { startServer, SYSTEMS } from './dist/systems.js'
import { startChild } from './dist/proc/children.js'
import { tempDir, removeAllTempDirs } from './dist/proc/tmp.js'
const ids = process.argv.slice(2)
for (const id of ids) {
  const sys = SYSTEMS.find(s => s.id === id)
  const server = await startServer(sys, tempDir(id))
  const w = startChild({ script: 'workers/fanout-worker.js', name: 'w' })
  for (let i = 0; i < 3; i++) {
    const r = await w.request('run', { target: server.target, doc: 'l' + i, clients: 10, inflight: 16, ratePerClient: 20, mode: 'rate', warmupMs: 500, durationMs: 4000 }, 60000)
    console.log(id, i, JSON.stringify(r.latency), r.delivered)
  }
  await w.stop(); await server.child.stop()
}
removeAllTempDirs()
