import { parseArgs } from 'node:util'
import { compileGlob } from '@meridian/core'
import { ConfigError } from '../config/options.js'
import type { TokenAccess } from '../auth/tokens.js'

export const TOKEN_USAGE = 'usage: meridian token --secret <s> --doc <glob> [--doc <glob> ...] --access read|write [--ttl <seconds>]'

export const parseTokenArgs = (
  argv: string[],
  envSecret: string | undefined,
): { secret: string; docs: string[]; access: TokenAccess; ttlSeconds: number } => {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        secret: { type: 'string' },
        doc: { type: 'string', multiple: true },
        access: { type: 'string' },
        ttl: { type: 'string' },
      },
    }))
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const secret = values.secret ?? envSecret
  if (!secret) throw new ConfigError('--secret: required (or MERIDIAN_AUTH_SECRET)')
  if (secret.length < 8) throw new ConfigError('--secret: at least 8 characters')
  if (!values.doc || values.doc.length === 0) throw new ConfigError('--doc: at least one document glob is required')
  for (const glob of values.doc) {
    try {
      compileGlob(glob)
    } catch (err) {
      throw new ConfigError(`--doc: ${(err as Error).message}`)
    }
  }
  if (values.access !== 'read' && values.access !== 'write') throw new ConfigError('--access: expected read or write')
  const ttl = values.ttl ?? '3600'
  if (!/^\d+$/.test(ttl) || Number(ttl) < 1) throw new ConfigError(`--ttl: expected a positive number of seconds, got "${ttl}"`)
  return { secret, docs: values.doc, access: values.access, ttlSeconds: Number(ttl) }
}
