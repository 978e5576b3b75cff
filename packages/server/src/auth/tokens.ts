/**
 * Client tokens: HS256 JWTs (jose) naming the documents they cover (globs,
 * the same syntax as replication policies) and the access they grant.
 * A relay started with an auth secret refuses connections without a valid
 * token before any document state is sent.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose'
import { compileGlob, MeridianError } from '@meridian/core'

export type TokenAccess = 'read' | 'write'

export interface TokenClaims {
  /** Document-name globs this token covers. */
  docs: string[]
  access: TokenAccess
  /** Expiry, seconds since the epoch. */
  exp: number
}

export class TokenError extends MeridianError {
  constructor(code: 'token-missing' | 'token-invalid' | 'token-expired', message: string) {
    super(code, message)
    this.name = 'TokenError'
  }
}

const ALGORITHM = 'HS256'
const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret)

export const signToken = async (options: { secret: string; docs: string[]; access: TokenAccess; ttlSeconds?: number; subject?: string }): Promise<string> => {
  for (const glob of options.docs) compileGlob(glob) // refuse a glob that would never match
  const jwt = new SignJWT({ docs: options.docs, access: options.access })
    .setProtectedHeader({ alg: ALGORITHM })
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`)
  if (options.subject) jwt.setSubject(options.subject)
  return jwt.sign(keyOf(options.secret))
}

export const verifyToken = async (token: string | null | undefined, secret: string): Promise<TokenClaims> => {
  if (!token) throw new TokenError('token-missing', 'no token')
  let payload
  try {
    ;({ payload } = await jwtVerify(token, keyOf(secret), { algorithms: [ALGORITHM], requiredClaims: ['exp'] }))
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new TokenError('token-expired', 'token expired')
    throw new TokenError('token-invalid', 'token signature or format invalid')
  }
  const { docs, access, exp } = payload as Partial<TokenClaims>
  if (!Array.isArray(docs) || docs.length === 0 || !docs.every((d) => typeof d === 'string')) throw new TokenError('token-invalid', 'token has no document globs')
  if (access !== 'read' && access !== 'write') throw new TokenError('token-invalid', 'token access must be read or write')
  return { docs, access, exp: exp! }
}

/** Whether the token's globs cover a document. */
export const tokenCovers = (claims: TokenClaims, doc: string): boolean => {
  try {
    return claims.docs.some((glob) => compileGlob(glob)(doc))
  } catch {
    return false
  }
}
