import { startServer, SYSTEMS } from './dist/systems.js'
import { startChild } from './dist/proc/children.js'
import { tempDir, removeAllTempDirs } from './dist/proc/tmp.js'
for (const id of process.argv.slice(2)) {
  const t0 = Date.now()
  const sys = SYSTEMS.find(s => s.id === id)
  const server = await startServer(sys, tempDir(id), { idleEvictMs: 1000 })
  const t1 = Date.now()
  const w = startChild({ script: 'workers/memory-worker.js', name: 'w' })
  const o = await w.request('open', { target: server.target, prefix: 'd', docs: 1000, concurrency: Number(process.env.C ?? 50) }, 600000)
  const t2 = Date.now()
  await server.child.request('heap')
  const t3 = Date.now()
  await w.request('close')
  const t4 = Date.now()
  await w.stop(); await server.child.stop()
  console.log(id, 'start', t1 - t0, 'open', t2 - t1, o.ms.toFixed(0), 'heap', t3 - t2, 'close', t4 - t3, 'stop', Date.now() - t4)
}
removeAllTempDirs()
