import { createServer } from 'node:net'

/**
 * A port that was free a moment ago: listen on 0, note it, close. For
 * processes whose peers must know their port before they start.
 */
export const reservePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
