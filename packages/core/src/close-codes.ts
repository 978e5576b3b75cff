/**
 * WebSocket close codes used by Meridian relays. 4000–4999 is the range RFC
 * 6455 leaves to applications. Clients key their behaviour on these numbers
 * (retry, fail over, give up), so they never change meaning once published.
 */
export const CloseCode = {
  /** Normal shutdown of the relay (it is restarting or stopping). Retry. */
  RelayShutdown: 1001,
  /** Message could not be decoded (bad varint, bad length, unknown type). */
  MalformedMessage: 4000,
  /** The connection sent more than the pre-authentication cap before it was authorized and its document loaded. */
  MessageTooLarge: 4001,
  /** A Yjs update failed validation or exceeded its CPU/memory budget. */
  InvalidUpdate: 4002,
  /** Document name is empty, too long or contains forbidden characters. */
  InvalidDocName: 4003,
  /** The relay's region may not hold this document; reason lists regions. */
  WrongRegion: 4004,
  /** No token, or a token that is forged, expired or malformed. */
  Unauthorized: 4005,
  /** The token is valid but does not cover this document. */
  Forbidden: 4006,
  /** The connection exceeded its message rate (token bucket). */
  RateLimited: 4007,
  /** The client did not read fast enough; its send buffer hit the cap. */
  SlowConsumer: 4008,
  /** The relay already serves its maximum number of client connections. Retry later or elsewhere. */
  TooManyConnections: 4009,
  /** Awareness update for a client id this connection did not introduce. */
  AwarenessSpoof: 4010,
  /** The relay's storage is failing; it cannot accept writes now. Retry elsewhere. */
  StorageUnavailable: 4011,
  /** Peer handshake failed: bad secret, version or region. */
  PeerRejected: 4012,
  /** A text frame on a binary protocol. */
  UnsupportedData: 1003,
  /** Sent by the WebSocket layer (ws) itself: a frame that breaks RFC 6455. */
  ProtocolError: 1002,
  /** Sent by the WebSocket layer (ws) itself: a text frame that is not valid UTF-8. */
  InvalidPayload: 1007,
  /** Sent by the WebSocket layer (ws) itself: a message over the relay's maximum message size. */
  MessageTooBig: 1009,
  /** The relay hit an internal error for this connection. Retry. */
  InternalError: 1011,
} as const

export type CloseCodeName = keyof typeof CloseCode
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName]

const namesByValue = new Map<number, CloseCodeName>(
  (Object.entries(CloseCode) as [CloseCodeName, number][]).map(([k, v]) => [v, k]),
)

/** Name of a close code, for logs and error messages. */
export const closeCodeName = (code: number): CloseCodeName | undefined => namesByValue.get(code)

/** Close codes after which a client should not simply reconnect to the same relay. */
export const isPermanentRefusal = (code: number): boolean =>
  code === CloseCode.WrongRegion ||
  code === CloseCode.Unauthorized ||
  code === CloseCode.Forbidden ||
  code === CloseCode.InvalidDocName
