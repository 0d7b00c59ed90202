/**
 * @module sessiongate
 * The runtime-neutral root, an explicit list (README, "Public API"): the failures and their
 * codes, protocol revisions and JSON-RPC types, the session manager and its options, the store
 * contract with the memory store and the per-replica cache. Durable stores live behind
 * `sessiongate/store/sqlite` and `sessiongate/store/redis`; the server behind
 * `sessiongate/server`, the client behind `sessiongate/client`, the gateway's parts behind
 * `sessiongate/gateway`. Nothing else of `src/` is public.
 */
export { SessiongateError, isSessiongateError, FAILURES, JSONRPC, type FailureCode } from './protocol/failures.js';
export { ANSWERS, errorResponse, type AnswerCode, type AnswerSpec } from './protocol/answers.js';
export {
  HANDSHAKE_REVISIONS,
  SESSIONLESS_REVISION,
  LATEST_HANDSHAKE_REVISION,
  DEFAULT_NEGOTIATED_REVISION,
  isHandshakeRevision,
  isSessionlessRevision,
  type HandshakeRevision,
} from './protocol/revisions.js';
export { SESSION_ID, PROTOCOL_VERSION, CLIENT_SESSION_ID, MCP_METHOD, MCP_NAME, LAST_EVENT_ID } from './protocol/headers.js';
export { isSessionScoped } from './protocol/session-scoped.js';
export type {
  JsonValue,
  JsonObject,
  RequestId,
  JsonRpcRequest,
  JsonRpcNotification,
  JsonRpcSuccess,
  JsonRpcFailure,
  JsonRpcErrorObject,
  JsonRpcResponse,
  JsonRpcMessage,
} from './protocol/jsonrpc.js';
export { SessionManager, type NewSession, type SessionEndListener } from './session/session-manager.js';
export type { SessionOptions, CapPolicy } from './session/options.js';
export type { Disposer, DisposeReason } from './session/live-registry.js';
export { mintSessionId, isWellFormedSessionId, sessionTag } from './session/id.js';
export { stateSlot, StateSlot, guarded, type SlotSchema } from './session/state-slot.js';
export { type Clock, systemClock } from './session/clock.js';
export type { SessionStore } from './store/store.js';
export type { SessionTable, CreateLimits, CreateOutcome, VictimScope } from './store/session-table.js';
export type { SecretStore } from './store/secret-store.js';
export type { BucketStore } from './store/bucket-store.js';
export type { ApprovalStore, ApprovalRecord, ApprovalStatus } from './store/approval-record.js';
export type { GrantStore } from './store/grant-store.js';
export type { StreamLog, LoggedEvent, StreamHead, StreamPage, StreamWrite } from './store/stream-log.js';
export type { SessionRecord, EndReason } from './store/record.js';
export type { SessionBus, BusMessage } from './store/bus.js';
export { MemoryStore } from './store/memory/index.js';
export { CachingStore, type CachingStoreOptions } from './store/caching-store.js';
