/**
 * Fetching peers' /healthz for the dashboard stays bounded: deadline, body
 * cap, one request per peer in flight, a short cache, schema-checked input.
 */
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { PeerHealthFetcher, healthUrlOf, PeerHealthError } from '../../src/http/peer-health.js'

const servers: http.Server[] = []
const fetchers: PeerHealthFetcher[] = []
afterEach(async () => {
  for (const f of fetchers.splice(0)) f.close()
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }
})

const report = (region: string) => ({
  status: 'ok', region, relayId: `${region}-1`, loadedDocs: 2, connections: 1,
  storage: { healthy: true, durability: 'fsync', kind: 'memory' },
  peers: [{ region: 'eu', url: 'ws://x', state: 'connected', relayId: 'eu-1', policyHashMatch: true, lagMs: 5, backlogDocs: 0, backlogBytes: 0, inboundConnected: true, cursor: 3, counters: null }],
})

/** A fake peer; `respond` decides the answer; `hits` counts requests. */
const fakePeer = async (respond: (res: http.ServerResponse) => void): Promise<{ url: string; hits: () => number }> => {
  let hits = 0
  const server = http.createServer((req, res) => {
    hits++
    if (req.url !== '/healthz') {
      res.writeHead(404).end()
      return
    }
    respond(res)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits }
}

const json = (body: unknown, status = 200) => (res: http.ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}

const fetcher = (options: ConstructorParameters<typeof PeerHealthFetcher>[0] = {}) => {
  const f = new PeerHealthFetcher(options)
  fetchers.push(f)
  return f
}

describe('peer health fetching', () => {
  it('maps a peer WebSocket URL to its /healthz', () => {
    expect(healthUrlOf('ws://10.0.0.1:7001').href).toBe('http://10.0.0.1:7001/healthz')
    expect(healthUrlOf('wss://relay.example/us/').href).toBe('https://relay.example/us/healthz')
    expect(() => healthUrlOf('ftp://x')).toThrowError(PeerHealthError)
    expect(() => healthUrlOf('not a url')).toThrowError(expect.objectContaining({ code: 'peer-url-invalid' }))
  })

  it('returns the parsed report, also from a degraded (503) peer', async () => {
    const ok = await fakePeer(json(report('us')))
    const degraded = await fakePeer(json({ ...report('ap'), status: 'degraded' }, 503))
    const f = fetcher()
    const a = await f.get('us', ok.url)
    expect(a.ok && a.report.loadedDocs).toBe(2)
    const b = await f.get('ap', degraded.url)
    expect(b.ok && b.report.status).toBe('degraded')
  })

  it('caches answers for cacheMs and keeps one request per peer in flight', async () => {
    const peer = await fakePeer(json(report('us')))
    let now = 1_000
    const f = fetcher({ cacheMs: 500, now: () => now })
    const [x, y] = await Promise.all([f.get('us', peer.url), f.get('us', peer.url)])
    expect(x).toBe(y)
    await f.get('us', peer.url)
    expect(peer.hits()).toBe(1)
    now += 501
    await f.get('us', peer.url)
    expect(peer.hits()).toBe(2)
  })

  it('gives up at the deadline on a peer that never answers', async () => {
    const silent = await fakePeer(() => {})
    const f = fetcher({ timeoutMs: 100 })
    const started = performance.now()
    const result = await f.get('us', silent.url)
    expect(result).toMatchObject({ ok: false, code: 'peer-timeout' })
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('refuses oversized, malformed and mislabelled reports, and unreachable peers', async () => {
    const f = fetcher({ maxBodyBytes: 1024 })
    const huge = await fakePeer(json({ ...report('us'), padding: 'x'.repeat(4096) }))
    expect(await f.get('us', huge.url)).toMatchObject({ ok: false, code: 'peer-too-large' })
    const garbage = await fakePeer(json('{"status":'))
    expect(await f.get('us', garbage.url)).toMatchObject({ ok: false, code: 'peer-bad-response' })
    const wrongShape = await fakePeer(json({ ...report('us'), loadedDocs: 'many' }))
    expect(await f.get('us', wrongShape.url)).toMatchObject({ ok: false, code: 'peer-bad-response' })
    const impostor = await fakePeer(json(report('ap')))
    expect(await f.get('us', impostor.url)).toMatchObject({ ok: false, code: 'peer-region-mismatch' })
    const missing = await fakePeer((res) => res.writeHead(500).end())
    expect(await f.get('us', missing.url)).toMatchObject({ ok: false, code: 'peer-http-status' })
    // A port nobody listens on: take one, then free it.
    const gone = await fakePeer(json(report('us')))
    const server = servers.pop()!
    await new Promise<void>((resolve) => server.close(() => resolve()))
    expect(await f.get('us', gone.url)).toMatchObject({ ok: false, code: 'peer-unreachable' })
  })

  it('close() aborts requests in flight and is idempotent', async () => {
    const silent = await fakePeer(() => {})
    const f = fetcher({ timeoutMs: 30_000 })
    const pending = f.get('us', silent.url)
    // Close once the request reached the peer, so the abort is what ends it.
    await new Promise<void>((resolve) => servers.at(-1)!.once('request', () => resolve()))
    f.close()
    f.close()
    expect(await pending).toMatchObject({ ok: false, code: 'peer-fetch-closed' })
    expect(await f.get('us', silent.url)).toMatchObject({ ok: false, code: 'peer-fetch-closed' })
  })
})
