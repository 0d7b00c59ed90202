/**
 * @module protocol/sessionless-meta
 * The 2026-07-28 request `_meta` (docs/PROTOCOL.md, section 4; SEP-2575): with no `initialize`, every
 * request carries its protocol version and the client's capabilities (and SHOULD carry its
 * info). These are the keys, the versions this code speaks, and the checks a server makes.
 */
import { SessiongateError } from './failures.js';
import { isObject, type JsonObject, type JsonRpcMessage, type JsonValue } from './jsonrpc.js';
import { HANDSHAKE_REVISIONS, SESSIONLESS_REVISION } from './revisions.js';

export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  /** Deprecated in 2026-07-28 (SEP-2577) but still defined: absent means no log messages. */
  logLevel: 'io.modelcontextprotocol/logLevel',
  /** On results: who answered (spec PR #3002, a SHOULD). */
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  /** On notifications of a `subscriptions/listen` stream: the listen request's id. */
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** The sessionless revisions this code implements. */
export const SESSIONLESS_REVISIONS = [SESSIONLESS_REVISION] as const;

/** Every revision, for `UnsupportedProtocolVersionError.data.supported` (newest first). */
export const ALL_REVISIONS: readonly string[] = [...SESSIONLESS_REVISIONS, ...[...HANDSHAKE_REVISIONS].reverse()];

/** Methods 2026-07-28 removed; a sessionless request for one is an unknown method (404, -32601). */
export const REMOVED_IN_SESSIONLESS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
  'notifications/initialized',
]);

/** Results a client may cache (SEP-2549): they carry `ttlMs` and `cacheScope`. */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/** What one sessionless request declares about its client. */
export interface SessionlessMeta {
  protocolVersion: string;
  clientCapabilities: JsonObject;
  clientInfo: JsonObject | undefined;
  logLevel: string | undefined;
}

/** The `_meta` object of a message, if it has one. */
export function metaOf(message: JsonRpcMessage): JsonObject | undefined {
  if (!('method' in message) || !message.params) return undefined;
  const meta = message.params['_meta'];
  return isObject(meta) ? meta : undefined;
}

/** Whether a message is shaped as a sessionless request: its `_meta` names a protocol version. */
export function hasSessionlessMeta(message: JsonRpcMessage): boolean {
  return metaOf(message)?.[META.protocolVersion] !== undefined;
}

/**
 * Reads and checks a sessionless request's `_meta`, in the order the spec's errors nest: protocol
 * version and client capabilities are required (400, -32602: conformance
 * `sep-2575-request-meta-invalid-*`); the `MCP-Protocol-Version` header must be present and
 * equal to the `_meta` version (400, -32020); the version must be one we speak (400, -32022
 * with the supported list).
 */
export function readSessionlessMeta(message: JsonRpcMessage, headerVersion: string | undefined): SessionlessMeta {
  const meta = metaOf(message);
  const missing = [META.protocolVersion, META.clientCapabilities].filter((key) => meta?.[key] === undefined);
  if (!meta || missing.length > 0) {
    throw new SessiongateError('SG_INVALID_PARAMS', `Invalid params: missing _meta keys: ${missing.join(', ')}`);
  }
  const version = meta[META.protocolVersion];
  if (typeof version !== 'string')
    throw new SessiongateError('SG_INVALID_PARAMS', 'Invalid params: _meta protocolVersion must be a string');
  if (headerVersion === undefined)
    throw new SessiongateError('SG_PROTOCOL_VERSION_MISMATCH', 'Header mismatch: MCP-Protocol-Version header is required');
  if (headerVersion !== version) throw new SessiongateError('SG_PROTOCOL_VERSION_MISMATCH');
  if (!(SESSIONLESS_REVISIONS as readonly string[]).includes(version)) throw unsupportedVersion(version);
  if (!isObject(meta[META.clientCapabilities])) {
    throw new SessiongateError('SG_INVALID_PARAMS', 'Invalid params: _meta clientCapabilities must be an object');
  }
  return sessionlessMetaOf(message, version);
}

/** The `_meta` of a request `readSessionlessMeta` already checked (an application behind the server). */
export function sessionlessMetaOf(message: JsonRpcMessage, protocolVersion: string): SessionlessMeta {
  const meta = metaOf(message) ?? {};
  const capabilities = meta[META.clientCapabilities];
  const info = meta[META.clientInfo];
  const level = meta[META.logLevel];
  return {
    protocolVersion,
    clientCapabilities: isObject(capabilities) ? capabilities : {},
    clientInfo: isObject(info) ? info : undefined,
    logLevel: typeof level === 'string' ? level : undefined,
  };
}

/** Versioning: 400 + UnsupportedProtocolVersionError naming what we do speak. */
export function unsupportedVersion(requested: string): SessiongateError {
  return new SessiongateError('SG_SESSIONLESS_UNSUPPORTED_VERSION', 'Unsupported protocol version', {
    data: { supported: [...ALL_REVISIONS], requested: requested.slice(0, 100) },
  });
}

const SESSIONLESS_KEYS: ReadonlySet<string> = new Set([META.protocolVersion, META.clientCapabilities, META.clientInfo, META.logLevel]);

/** Params without the 2026 `_meta` keys (for a handshake-era peer); other `_meta` stays. */
export function withoutSessionlessMeta(params: JsonObject | undefined): JsonObject | undefined {
  const meta = params?.['_meta'];
  if (!params || !isObject(meta)) return params;
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(meta)) if (!SESSIONLESS_KEYS.has(key)) kept[key] = value;
  const { _meta: _dropped, ...rest } = params;
  return Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest;
}

/** Params carrying the given sessionless `_meta` (for a sessionless peer), other `_meta` kept. */
export function withSessionlessMeta(params: JsonObject | undefined, meta: SessionlessMeta): JsonObject {
  const existing = params?.['_meta'];
  const sessionless: JsonObject = {
    ...(isObject(existing) ? existing : {}),
    [META.protocolVersion]: meta.protocolVersion,
    [META.clientCapabilities]: meta.clientCapabilities,
  };
  if (meta.clientInfo) sessionless[META.clientInfo] = meta.clientInfo;
  if (meta.logLevel) sessionless[META.logLevel] = meta.logLevel;
  return { ...params, _meta: sessionless };
}

/** RFC 5424 severities as MCP names them, least severe first. */
const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/**
 * 2026-07-28: with no `_meta` logLevel a server sends no `notifications/message` for the
 * request; with one, only messages at or above it.
 */
export function logMessageAllowed(message: JsonRpcMessage, requestLevel: string | undefined): boolean {
  if (!('method' in message) || message.method !== 'notifications/message') return true;
  if (requestLevel === undefined) return false;
  const level: JsonValue | undefined = message.params?.['level'];
  return typeof level === 'string' && LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(requestLevel);
}
