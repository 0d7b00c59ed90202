/** @module server/sdk — the official SDK binding: one McpServer per session. */
export { bindMcpServer, type BoundSession, type ConnectableServer, type McpServerFactory, type McpBindingOptions } from './sdk-binding.js';
export { SessionState } from './session-state.js';
export { SessionTransport } from './session-transport.js';
