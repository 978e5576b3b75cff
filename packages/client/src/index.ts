/**
 * @meridian/client — MeridianProvider for browsers and Node: region-aware
 * routing and failover, offline persistence, durable "saved" status.
 * Node-only pieces (file persistence) are in `@meridian/client/node`.
 */
export { MeridianProvider } from './provider.js'
export type { MeridianProviderOptions, TokenSource } from './options.js'
export type {
  MeridianProviderEvents,
  ProviderStatus,
  StatusEvent,
  RegionChangeEvent,
  RegionChangeReason,
  RegionHealthEvent,
  ConnectionCloseEvent,
  RelayInfoEvent,
} from './events.js'
export type { RegionEndpoint } from './router.js'
export { ClientError, type ClientErrorCode } from './errors.js'
export type { LocalPersistence } from './persistence/types.js'
export { IndexedDbPersistence, type IndexedDbPersistenceOptions } from './persistence/indexeddb.js'
export { measureHealthz, healthUrlOf, type MeasureRtt } from './rtt.js'
export type { WebSocketLike, WebSocketConstructor, WebSocketEventLike } from './socket.js'
export type { BackoffOptions } from './backoff.js'
