/**
 * @module sessiongate/client
 * A client that never gets stranded: transparent re-initialize on 404, the version header,
 * DELETE on close, and a client correlation id. Node only (undici).
 */
export { SessionClientTransport } from './session-client-transport.js';
export { SessionClient, type ConnectParams, type StandaloneClientOptions } from './session-client.js';
export type { SessionClientOptions } from './options.js';
export type { SessionSnapshot } from './session-core.js';
export { bridgeStdio, type StdioBridge, type StdioBridgeOptions } from './stdio-bridge.js';
export { SessionClientError, SessionExpiredError, CLIENT_ERRORS, type ClientErrorCode } from './errors.js';
