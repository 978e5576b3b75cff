/**
 * Relay-to-relay authentication: each hello carries an HMAC-SHA256, keyed
 * with the shared peer secret, over the hello's canonical bytes. The answer
 * binds the initiator's nonce, so a recorded answer cannot be replayed into
 * another handshake, and hellos older than the allowed clock skew are refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { helloSigningBytes, PEER_PROTOCOL_VERSION, type HelloMessage } from '@meridian/core'

export const MAX_HELLO_CLOCK_SKEW_MS = 5 * 60_000
/** Placeholder MAC when no secret is configured (the codec needs one byte). */
const NO_AUTH = new Uint8Array([0])

const mac = (secret: string, bytes: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', secret).update(bytes).digest())

export interface HelloIdentity {
  relayId: string
  region: string
  policyHash: string
}

export const createHello = (identity: HelloIdentity, secret: string | undefined, answering?: Uint8Array): HelloMessage => {
  const fields = { version: PEER_PROTOCOL_VERSION, ...identity, time: Date.now(), nonce: new Uint8Array(randomBytes(16)) }
  const auth = secret ? mac(secret, helloSigningBytes(fields, answering)) : NO_AUTH
  return { type: 'hello', ...fields, auth }
}

/** Null when the hello is acceptable, else the reason to refuse it. */
export const checkHello = (hello: HelloMessage, secret: string | undefined, answering?: Uint8Array, now = Date.now()): string | null => {
  if (hello.version !== PEER_PROTOCOL_VERSION) return `protocol version ${hello.version} is not ${PEER_PROTOCOL_VERSION}`
  if (!secret) return null
  if (Math.abs(now - hello.time) > MAX_HELLO_CLOCK_SKEW_MS) return 'hello timestamp outside the allowed clock skew'
  const { auth, type: _type, ...fields } = hello
  const expected = mac(secret, helloSigningBytes(fields, answering))
  if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return 'bad peer secret'
  return null
}

/**
 * Remembers the nonces of accepted hellos for the skew window: a recorded
 * hello replayed within the window is refused. Only hellos that passed the
 * MAC check get here, so the cache cannot be flooded without the secret.
 */
export class NonceCache {
  private readonly expiries = new Map<string, number>()

  /** False when the nonce was already seen (a replay). */
  add(nonce: Uint8Array, helloTime: number, now = Date.now()): boolean {
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) break
      this.expiries.delete(key)
    }
    const key = Buffer.from(nonce).toString('hex')
    if (this.expiries.has(key)) return false
    this.expiries.set(key, Math.max(now, helloTime) + MAX_HELLO_CLOCK_SKEW_MS)
    return true
  }
}
