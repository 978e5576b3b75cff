/**
 * Hand-made JWTs for the access tests: the relay must refuse tokens its own
 * signer would never produce (no exp, alg none, other algorithms, tampered
 * payloads), so these are built from the JWS compact format directly.
 */
import { createHmac } from 'node:crypto'

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url')

export const craftToken = (options: {
  header?: Record<string, unknown>
  payload: Record<string, unknown>
  secret: string
  /** HMAC hash; 'sha256' is HS256. */
  hash?: 'sha256' | 'sha512'
  /** Replace the signature (e.g. '' for alg none). */
  signature?: string
}): string => {
  const header = options.header ?? { alg: 'HS256', typ: 'JWT' }
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(options.payload))}`
  const signature = options.signature ?? createHmac(options.hash ?? 'sha256', options.secret).update(signingInput).digest('base64url')
  return `${signingInput}.${signature}`
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)
