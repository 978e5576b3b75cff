/**
 * Client framing for the two wire dialects under test. `yws` is the
 * y-websocket protocol (Meridian, y-websocket, and the bare relay, which only
 * forwards it); `hocuspocus` prefixes every message with the document name
 * and needs an auth message before anything else.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ClientFeature, MERIDIAN_CLIENT_PROTOCOL_VERSION, decodeClientMessage, encodeMeridianHello, encodeSyncStep1, encodeSyncUpdate } from '@meridian/core'

export type Flavor = 'yws' | 'hocuspocus'

export type Incoming =
  | { kind: 'step1' }
  | { kind: 'step2'; update: Uint8Array }
  | { kind: 'update'; update: Uint8Array }
  | { kind: 'durable-ack'; stateVector: Uint8Array }
  | { kind: 'authenticated' }
  | { kind: 'denied'; reason: string }
  | { kind: 'other' }

const HP_SYNC = 0
const HP_AUTH = 2
const HP_SYNC_REPLY = 4
const HP_AUTH_TOKEN = 0
const HP_AUTH_DENIED = 1
const HP_AUTH_OK = 2

export const meridianHello = (): Uint8Array => encodeMeridianHello(MERIDIAN_CLIENT_PROTOCOL_VERSION, ClientFeature.DurableAck)

function hocuspocusSync(doc: string, sub: number, payload: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, doc)
  encoding.writeVarUint(enc, HP_SYNC)
  encoding.writeVarUint(enc, sub)
  encoding.writeVarUint8Array(enc, payload)
  return encoding.toUint8Array(enc)
}

export function hocuspocusAuth(doc: string): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, doc)
  encoding.writeVarUint(enc, HP_AUTH)
  encoding.writeVarUint(enc, HP_AUTH_TOKEN)
  encoding.writeVarString(enc, '')
  return encoding.toUint8Array(enc)
}

export const encodeStep1 = (flavor: Flavor, doc: string, sv: Uint8Array): Uint8Array =>
  flavor === 'yws' ? encodeSyncStep1(sv) : hocuspocusSync(doc, 0, sv)

export const encodeUpdate = (flavor: Flavor, doc: string, update: Uint8Array): Uint8Array =>
  flavor === 'yws' ? encodeSyncUpdate(update) : hocuspocusSync(doc, 2, update)

export function decodeIncoming(flavor: Flavor, data: Uint8Array): Incoming {
  return flavor === 'yws' ? decodeYws(data) : decodeHocuspocus(data)
}

function decodeYws(data: Uint8Array): Incoming {
  let msg
  try {
    msg = decodeClientMessage(data)
  } catch {
    return { kind: 'other' }
  }
  switch (msg.type) {
    case 'sync-step1':
      return { kind: 'step1' }
    case 'sync-step2':
      return { kind: 'step2', update: msg.update }
    case 'sync-update':
      return { kind: 'update', update: msg.update }
    case 'durable-ack':
      return { kind: 'durable-ack', stateVector: msg.stateVector }
    case 'auth-denied':
      return { kind: 'denied', reason: msg.reason }
    default:
      return { kind: 'other' }
  }
}

function decodeHocuspocus(data: Uint8Array): Incoming {
  const dec = decoding.createDecoder(data)
  decoding.readVarString(dec)
  const type = decoding.readVarUint(dec)
  if (type === HP_SYNC || type === HP_SYNC_REPLY) {
    const sub = decoding.readVarUint(dec)
    if (sub === 0) return { kind: 'step1' }
    const update = decoding.readVarUint8Array(dec)
    return sub === 1 ? { kind: 'step2', update } : { kind: 'update', update }
  }
  if (type === HP_AUTH) {
    const sub = decoding.readVarUint(dec)
    if (sub === HP_AUTH_OK) return { kind: 'authenticated' }
    if (sub === HP_AUTH_DENIED) return { kind: 'denied', reason: decoding.readVarString(dec) }
  }
  return { kind: 'other' }
}
