/**
 * Codes of the errors a provider reports (through its 'error' event and the
 * onError option). Callers branch on `err.code`; messages are for people.
 */
import { MeridianError } from '@meridian/core'

export type ClientErrorCode =
  | 'destroyed' // the provider was destroyed while a promise waited on it
  | 'no-allowed-region' // none of the configured regions may serve the document
  | 'unauthorized' // the relay refused the token (4005) and no fresh one could be had
  | 'forbidden' // the token does not cover the document (4006)
  | 'invalid-doc-name' // the relay refused the document name (4003)
  | 'protocol-rejected' // the relay closed us for a message it could not accept (4000, 4002, 1003, 1009)
  | 'token-failed' // the token function threw or returned something that is not a string
  | 'bad-relay-message' // the relay sent a message that does not decode or apply
  | 'persistence-failed' // local storage (IndexedDB, file) failed to load or write
  | 'region-unhealthy' // measureHealthz's rejection for an error status; the provider records it as a failed check and never reports it
  | 'listener-failed' // an event listener threw
  | 'invalid-options' // the constructor options are unusable

export class ClientError extends MeridianError {
  declare readonly code: ClientErrorCode
  /** WebSocket close code that caused the error, when there was one. */
  readonly closeCode: number | undefined
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown; closeCode?: number }) {
    super(code, message, options)
    this.name = 'ClientError'
    this.closeCode = options?.closeCode
  }
}
