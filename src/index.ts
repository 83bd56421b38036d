export { ResilientWebSocket, type DomHandler, type SendOptions, type SendResult } from './client.js';
export { ResilientWebSocketError, isResilientWebSocketError, type ErrorCode } from './errors.js';
export { jsonCodec, type Codec, type IncomingData, type WireData } from './codec.js';
export { base64url } from './auth.js';
export { backoff, type BackoffOptions, type Jitter } from './backoff.js';
export {
  DEFAULTS,
  readRetryAfter,
  type Options,
  type ReconnectOptions,
  type QueueOptions,
  type AuthOptions,
  type HeartbeatOptions,
  type CloseInfo,
  type TokenProvider,
  type TokenRequest,
  type UrlProvider,
  type ProtocolsProvider,
  type Provider,
  type WebSocketConstructor,
  type WebSocketLike,
} from './options.js';
export type { ClientEvents, ClientEventType, DropReason, GiveupReason, Handler } from './events.js';
export type { State } from './state.js';
