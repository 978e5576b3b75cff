/**
 * The WebSocket surface the provider needs, satisfied by browsers' WebSocket,
 * Node 22's global one and the `ws` package (Node 20 has no global).
 */
/** The parts of open, message, close and error events the provider reads. */
export interface WebSocketEventLike {
  type: string
  data?: unknown
  code?: number
  reason?: string
}

export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  addEventListener(type: string, listener: (event: WebSocketEventLike) => void): void
  removeEventListener(type: string, listener: (event: WebSocketEventLike) => void): void
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

export const WS_OPEN = 1

/** Message payloads arrive as ArrayBuffer (we ask for it), or as a Node Buffer from `ws` if binaryType was overridden. */
export function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return null
}

export function resolveWebSocket(polyfill: WebSocketConstructor | undefined): WebSocketConstructor | null {
  if (polyfill) return polyfill
  // Typed as the DOM's WebSocket so the compiler checks it fits WebSocketConstructor.
  const global = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket
  return global ?? null
}
