/**
 * The relay's one options object. Defaults live here and nowhere else; the
 * object is validated once (zod) and every error names the field. Environment
 * variables are never read here — only the CLI entry point reads them.
 */
import { z } from 'zod'
import { MeridianError, ReplicationPolicy, type PolicyConfig } from '@meridian/core'

const regionName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a region name: lowercase letters, digits and "-", at most 32 characters')

export const peerSchema = z.object({
  region: regionName,
  url: z.string().url().refine((u) => /^wss?:\/\//.test(u), 'a ws:// or wss:// URL'),
})

export const relayOptionsSchema = z
  .object({
    /** Region this relay serves, e.g. "eu". */
    region: regionName,
    /** Stable id of this relay; generated and persisted in the data directory when absent. */
    relayId: z.string().min(1).max(64).optional(),
    /** TCP port; 0 picks a free one (tests). */
    port: z.number().int().min(0).max(65535).default(0),
    host: z.string().default('127.0.0.1'),
    /** Directory of this relay's LevelDB; omit for an in-memory store (tests, demos). */
    dataDir: z.string().min(1).optional(),
    /** LevelDB write durability: "fsync" syncs every group commit; "buffered" leaves it to the OS (survives a process crash, not a power loss). */
    durability: z.enum(['fsync', 'buffered']).default('fsync'),
    /**
     * How long a group commit waits for more updates after the first; 0 writes
     * at the end of the event-loop turn. Raises ack latency by up to this much,
     * in exchange for fewer fsyncs under many small writers.
     */
    groupCommitWindowMs: z.number().int().min(0).max(10_000).default(0),
    /** Peer relays in other regions. */
    peers: z.array(peerSchema).default([]),
    /** Shared secret relays use to authenticate each other; required when peers are configured over non-loopback links. */
    peerSecret: z.string().min(8).optional(),
    /** Secret that signs client tokens (HS256); when set, clients must present a token. */
    authSecret: z.string().min(8).optional(),
    /** Replication policy rules (see docs/policy.md). */
    policies: z.array(z.unknown()).default([]),
    /** Largest WebSocket message accepted from a client or peer. */
    maxMessageBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
    /** A connection whose unsent data exceeds this is closed as a slow consumer. */
    maxBufferedBytes: z.number().int().min(64 * 1024).default(16 * 1024 * 1024),
    /** Client connections one relay serves at once; more are refused with TooManyConnections (4009). */
    maxClientConnections: z.number().int().min(1).default(50_000),
    /** What a connection may send before it is authenticated and its document loaded. */
    maxPreAuthBytes: z.number().int().min(1024).default(1024 * 1024),
    /** Per-connection token bucket: sustained messages per second… */
    rateLimitPerSecond: z.number().int().min(1).default(2000),
    /** …and burst size. Over it the connection closes with RateLimited (4007). */
    rateLimitBurst: z.number().int().min(1).default(10_000),
    /** Most awareness client ids one connection may introduce. */
    maxAwarenessIdsPerConnection: z.number().int().min(1).default(16),
    /** Largest awareness state (JSON) of one client id. */
    maxAwarenessStateBytes: z.number().int().min(64).default(64 * 1024),
    /** Loaded documents with no connections are dropped from memory after this long. */
    idleEvictMs: z.number().int().min(0).default(30_000),
    /** Compact a document's log into its snapshot once it holds this many entries. */
    compactAfterEntries: z.number().int().min(2).default(500),
    /** Interval of the anti-entropy digest exchange with each peer; 0 turns it off. */
    digestIntervalMs: z.number().int().min(0).default(5 * 60_000),
    /** A peer link whose hello has not completed this long after connecting is dropped. */
    peerHelloTimeoutMs: z.number().int().min(1).default(10_000),
    /** A peer frame unacknowledged this long closes the link (its catch-up resends). */
    peerAckTimeoutMs: z.number().int().min(1).default(30_000),
    /**
     * After changes a peer link does not carry (updates from other peers), how
     * long the link must be quiet before its cursor is moved to the feed's head.
     */
    peerCursorFollowMs: z.number().int().min(1).default(250),
    /**
     * Deflate each peer frame against the link's recent frames (protocol 2's
     * batch stream): an immediate delta then costs less than its raw update.
     * Off sends standalone frames, deflated only when large (more bytes, less CPU).
     */
    peerLinkStream: z.boolean().default(true),
    /** A peer link's send buffer above which its queued deltas wait (and keep coalescing). */
    peerHighWaterBytes: z.number().int().min(64 * 1024).default(1024 * 1024),
    /** Peer reconnect backoff: exponential from base to cap, with full jitter. */
    peerBackoffBaseMs: z.number().int().min(1).default(200),
    peerBackoffMaxMs: z.number().int().min(1).default(10_000),
    /** Pino log level. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()

export type RelayOptionsInput = z.input<typeof relayOptionsSchema>
export interface RelayOptions extends Omit<z.output<typeof relayOptionsSchema>, 'policies'> {
  policy: ReplicationPolicy
}

export class ConfigError extends MeridianError {
  constructor(message: string) {
    super('invalid-config', message)
    this.name = 'ConfigError'
  }
}

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '')

/** Validates and fills defaults; throws ConfigError whose message names every bad field. */
export const resolveRelayOptions = (input: unknown): RelayOptions => {
  const parsed = relayOptionsSchema.safeParse(input)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(options)'}: ${issue.message}`)
    throw new ConfigError(`invalid relay options — ${problems.join('; ')}`)
  }
  const { policies, ...rest } = parsed.data
  let policy: ReplicationPolicy
  try {
    policy = policies.length === 0 ? ReplicationPolicy.allowAll() : ReplicationPolicy.parse({ policies } satisfies { policies: unknown[] } as unknown as PolicyConfig)
  } catch (err) {
    throw new ConfigError(`invalid relay options — ${(err as Error).message}`)
  }
  const regions = new Set<string>()
  for (const [i, peer] of rest.peers.entries()) {
    if (peer.region === rest.region) throw new ConfigError(`invalid relay options — peers[${i}].region: "${peer.region}" is this relay's own region`)
    if (regions.has(peer.region)) throw new ConfigError(`invalid relay options — peers[${i}].region: "${peer.region}" is listed twice`)
    regions.add(peer.region)
  }
  if (rest.authSecret && rest.peers.length > 0 && !rest.peerSecret) {
    // Otherwise anyone could bypass client auth through the peer endpoint.
    throw new ConfigError('invalid relay options — peerSecret: required when authSecret is set and peers are configured')
  }
  return { ...rest, policy }
}
