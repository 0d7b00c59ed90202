/**
 * @module sessiongate/server
 * The Streamable HTTP session server and its adapters.
 */
export { createSessionServer, type SessionServer } from './session-server.js';
export type { SessionServerOptions, RequestView } from './options.js';
export { DEFAULT_MAX_BODY_BYTES } from './options.js';
export { DEFAULT_RESUME, type ResumeOptions } from './resume/resume-options.js';
export type {
  McpApplication,
  RequestContext,
  SessionHandle,
  SessionPort,
  Reply,
  EarlyEnd,
  Identity,
  OrphanedCall,
  RequestTimings,
  Interval,
} from './application.js';
export { withCursor } from './resume/stream-cursor.js';
export { isStreamReply, responseOf } from './application.js';
export type { Incoming, Outgoing } from './exchange.js';
export { toNodeHandler, type NodeHandler } from './node-adapter.js';
export { toFetchHandler } from './web-adapter.js';
export { listen, type Listening, type ListenLimits, type Routes, shutDown } from './listen.js';
export { compose, type Stage } from './stage.js';
export { RequestKey } from './request-key.js';
export { REQUEST_TRACE, type RequestTrace, traceOf, type TraceCarrier } from './request-trace.js';
export { LOCAL_HOSTNAMES } from './origin.js';
export {
  bindMcpServer,
  SessionState,
  type BoundSession,
  type ConnectableServer,
  type McpServerFactory,
  type McpBindingOptions,
} from './sdk/index.js';
