/**
 * The transport the relay speaks through: an ordered, message-oriented,
 * bidirectional socket. WebSocket (production) and an in-process link
 * (tests and the deterministic cluster simulation) implement it, and one
 * conformance suite checks both, so relay code never knows which it has.
 */
export interface SocketEvents {
  open: () => void
  message: (data: Uint8Array, isBinary: boolean) => void
  close: (code: number, reason: string) => void
}

export interface MessageSocket {
  /** True between 'open' and 'close'. */
  readonly isOpen: boolean
  /** Bytes handed to send() and not yet written out (for backpressure). */
  readonly bufferedAmount: number
  send(data: Uint8Array): void
  /** Orderly close; 'close' fires on both ends with this code and reason. */
  close(code: number, reason?: string): void
  /** Abrupt close, as when a process dies or a cable is cut. */
  terminate(): void
  on<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): void
  off<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): void
}

/** Opens outgoing sockets (relay → peer relay). */
export interface SocketConnector {
  /** Returns at once; the socket emits 'open' or 'close'. */
  connect(url: string, options: { maxMessageBytes: number }): MessageSocket
}

/** WebSocket close code for an abrupt close with no close frame. */
export const ABNORMAL_CLOSURE = 1006
