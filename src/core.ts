export { ResilientWebSocket, type DomHandler, type SendOptions, type SendResult } from './client.js';
export { ResilientWebSocketError, isResilientWebSocketError, type ErrorCode } from './errors.js';
export { jsonCodec, type Codec, type IncomingData, type WireData } from './codec.js';
export { base64url, tokenAuth, type AuthOptions, type TokenProvider, type TokenRequest } from './auth.js';
export { heartbeat, type HeartbeatOptions } from './heartbeat.js';
export { pageLife, type PageOptions } from './page.js';
export { backoff, type BackoffOptions, type Jitter } from './backoff.js';
export {
  readRetryAfter,
  type BaseOptions,
  type CoreOptions,
  type LazyOptions,
  type ReconnectOptions,
  type QueueOptions,
  type CloseInfo,
  type UrlProvider,
  type ProtocolsProvider,
  type Provider,
  type WebSocketConstructor,
  type WebSocketLike,
} from './options.js';
export type { AttemptPlan, CloseDecision, Plugin, PluginHost } from './plugin.js';
export type { ClientEvents, ClientEventType, DropReason, GiveupReason, Handler, Snapshot } from './events.js';
export type { State } from './state.js';
