import { createMemoryLink } from '../../src/transport/memory-socket.js'
import { runSocketConformance } from './conformance.js'

runSocketConformance('in-process link', async () => {
  const { client, server } = createMemoryLink()
  return { client, server, teardown: async () => client.terminate() }
})
