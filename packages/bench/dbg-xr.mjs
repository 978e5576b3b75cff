import { startMesh } from './dist/scenarios/mesh.js'
import { SYSTEMS } from './dist/systems.js'
import { startChild } from './dist/proc/children.js'
import { removeAllTempDirs } from './dist/proc/tmp.js'
const d = { 'eu-us': 40, 'us-eu': 40, 'us-ap': 80, 'ap-us': 80, 'eu-ap': 120, 'ap-eu': 120 }
const m = await startMesh(SYSTEMS[Number(process.argv[3] ?? 0)], ['eu', 'us', 'ap'], (a, b) => d[a + '-' + b])
const w = startChild({ script: 'workers/region-worker.js', name: 'w' })
const targets = Object.fromEntries(['eu', 'us', 'ap'].map(r => [r, m.relay(r).target]))
const r = await w.request('run', { targets, docs: 10, ratePerWriter: Number(process.argv[2]), warmupMs: 1000, durationMs: 4000 }, 60000)
for (const [k, v] of Object.entries(r.lag)) console.log(k, v.p50.toFixed(1), v.p99.toFixed(1))
for (const rr of m.relays.values()) console.log(rr.child.output.split('\n').filter(l => l.includes('flushes')).slice(-4).join('\n'))
await w.stop(); await m.close(); removeAllTempDirs()
