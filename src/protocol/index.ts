/** @module protocol — wire facts only: headers, revisions, JSON-RPC, media types, failures. */
export * as headers from './headers.js';
export * from './revisions.js';
export * from './jsonrpc.js';
export * from './media-type.js';
export * from './failures.js';
export * from './session-scoped.js';
