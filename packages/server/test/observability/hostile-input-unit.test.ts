/**
 * The hostile-input counter: which relay closes count, the peer hook, and
 * the closes the `ws` layer makes on its own (seen through its 'error').
 */
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { CloseCode } from '@meridian/core'
import { createRelayMetrics } from '../../src/observability/metrics.js'
import { protocolErrorCloseCode } from '../../src/observability/hostile-input.js'
import type { MessageSocket } from '../../src/transport/socket.js'
import { parsePromText, samplesOf, valueOf } from './prom-text.js'

const hostile = async (metrics: ReturnType<typeof createRelayMetrics>) =>
  Object.fromEntries(samplesOf(parsePromText(await metrics.text()).samples, 'meridian_hostile_input_closes_total')
    .filter((x) => x.value > 0).map((x) => [`${x.labels.source}/${x.labels.code}`, x.value]))

/** A MessageSocket stand-in exposing a `ws`-like emitter, as WsSocket does. */
const socketOver = (ws: EventEmitter | undefined): MessageSocket => ({ ws } as unknown as MessageSocket)

const wsError = (code: string): Error => Object.assign(new Error(code), { code })

describe('hostile-input closes', () => {
  it('count relay closes for hostile input, by number or name, and no others', async () => {
    const metrics = createRelayMetrics()
    metrics.clientClosed(CloseCode.MalformedMessage)
    metrics.clientClosed('AwarenessSpoof')
    metrics.clientClosed(CloseCode.InvalidDocName)
    metrics.clientClosed(CloseCode.MessageTooLarge)
    // Not hostile input: shutdown, slow readers, residency, tokens, storage, internal errors, unknown codes.
    for (const code of [CloseCode.RelayShutdown, CloseCode.SlowConsumer, CloseCode.WrongRegion, CloseCode.Unauthorized, CloseCode.Forbidden, CloseCode.StorageUnavailable, CloseCode.InternalError, 4999]) metrics.clientClosed(code)
    expect(await hostile(metrics)).toEqual({ 'client/MalformedMessage': 1, 'client/AwarenessSpoof': 1, 'client/InvalidDocName': 1, 'client/MessageTooLarge': 1 })
    metrics.close()
  })

  it('count peer closes reported by the mesh under source="peer", without the peer-chosen region', async () => {
    const metrics = createRelayMetrics()
    metrics.peerHostileInput('us', CloseCode.MalformedMessage)
    metrics.peerHostileInput('made-up-region', CloseCode.MalformedMessage)
    expect(await hostile(metrics)).toEqual({ 'peer/MalformedMessage': 2 })
    expect(samplesOf(parsePromText(await metrics.text()).samples, 'meridian_hostile_input_closes_total', { peer_region: 'us' })).toHaveLength(0)
    metrics.close()
  })

  it('count the closes ws makes for oversized and broken frames, from its error codes', async () => {
    const metrics = createRelayMetrics()
    const client = new EventEmitter()
    metrics.watchSocket(socketOver(client), 'client')
    client.emit('error', wsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'))
    const peer = new EventEmitter()
    metrics.watchSocket(socketOver(peer), 'peer')
    peer.emit('error', wsError('WS_ERR_EXPECTED_MASK'))
    const other = new EventEmitter()
    metrics.watchSocket(socketOver(other), 'client')
    other.emit('error', wsError('ECONNRESET'))
    // A transport without a ws underneath (in-process links) is left alone.
    metrics.watchSocket(socketOver(undefined), 'client')
    expect(await hostile(metrics)).toEqual({ 'client/MessageTooBig': 1, 'peer/ProtocolError': 1 })
    const s = parsePromText(await metrics.text()).samples
    expect(valueOf(s, 'meridian_client_closes_total', { code: 'MessageTooBig' })).toBe(1)
    expect(samplesOf(s, 'meridian_client_closes_total', { code: 'ProtocolError' })).toHaveLength(0)
    metrics.close()
  })

  it('map ws error codes to the close code ws sent', () => {
    expect(protocolErrorCloseCode(wsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'))).toBe(1009)
    expect(protocolErrorCloseCode(wsError('WS_ERR_INVALID_UTF8'))).toBe(1007)
    expect(protocolErrorCloseCode(wsError('WS_ERR_INVALID_OPCODE'))).toBe(1002)
    expect(protocolErrorCloseCode(wsError('EPIPE'))).toBeNull()
    expect(protocolErrorCloseCode(null)).toBeNull()
  })
})
