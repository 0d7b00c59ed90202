/**
 * @module protocol/jsonrpc
 * JSON-RPC 2.0 message shapes and the classification the session server routes on.
 */
import { SessiongateError } from './failures.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
export type RequestId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: JsonObject;
}
export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonObject;
}
export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: RequestId;
  result: JsonObject;
}
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: JsonValue;
}
export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: RequestId | null;
  error: JsonRpcErrorObject;
}
export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** `_meta` key carrying the protocol version on every 2026-07-28 request. */
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
/** SEP-2822 draft: the correlation id inside `_meta`. */
export const META_CLIENT_SESSION_ID = 'clientSessionId';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

export function isRequest(message: JsonRpcMessage): message is JsonRpcRequest {
  return 'method' in message && 'id' in message;
}
export function isNotification(message: JsonRpcMessage): message is JsonRpcNotification {
  return 'method' in message && !('id' in message);
}
export function isResponse(message: JsonRpcMessage): message is JsonRpcResponse {
  return !('method' in message);
}

/** Validates one decoded value as a JSON-RPC 2.0 message, or throws SG_INVALID_REQUEST. */
export function toMessage(value: unknown): JsonRpcMessage {
  const invalid = (why: string): never => {
    const id = isObject(value) && isRequestId(value['id']) ? value['id'] : null;
    throw new SessiongateError('SG_INVALID_REQUEST', `Invalid JSON-RPC message: ${why}`, { requestId: id });
  };
  if (!isObject(value)) return invalid('not an object');
  if (value['jsonrpc'] !== '2.0') return invalid('jsonrpc must be "2.0"');
  const hasId = 'id' in value;
  if ('method' in value) {
    if (typeof value['method'] !== 'string' || value['method'] === '') return invalid('method must be a non-empty string');
    if ('params' in value && !isObject(value['params'])) return invalid('params must be an object');
    if (hasId && !isRequestId(value['id'])) return invalid('id must be a string or number');
    return value as unknown as JsonRpcMessage;
  }
  if (!hasId || (value['id'] !== null && !isRequestId(value['id']))) return invalid('a response needs an id');
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (hasResult === hasError) return invalid('a response has exactly one of result and error');
  if (hasResult && !isObject(value['result'])) return invalid('result must be an object');
  if (hasError) {
    const error = value['error'];
    if (!isObject(error) || typeof error['code'] !== 'number' || typeof error['message'] !== 'string') {
      return invalid('error must have a numeric code and a message');
    }
  }
  return value as unknown as JsonRpcMessage;
}

/** What one POST body is, for routing. */
export type Classified =
  | { kind: 'initialize'; message: JsonRpcRequest }
  /** 2026-07-28 and later: a message that names its protocol version in `_meta` (no session). */
  | { kind: 'sessionless'; message: JsonRpcRequest | JsonRpcNotification }
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse }
  /** 2025-03-26 only (S8). */
  | { kind: 'batch'; messages: JsonRpcMessage[] };

/**
 * Whether a message is modern (2026-07-28 and later): its `_meta` names a protocol version,
 * whatever the value (an unsupported one is the modern error -32022, not a handshake-era 400).
 * Versioning: "a request carrying modern per-request `_meta` is served statelessly", so this
 * wins over `initialize` and over an `MCP-Session-Id` header.
 */
export function isModernMessage(message: JsonRpcMessage): boolean {
  if (!('method' in message) || !message.params) return false;
  const meta = message.params['_meta'];
  return isObject(meta) && meta[META_PROTOCOL_VERSION] !== undefined;
}

/**
 * Classifies an already-decoded POST body. Throws SG_INVALID_REQUEST for anything that is not
 * JSON-RPC, and SG_INVALID_REQUEST for a batch that is empty or carries `initialize` (S8).
 */
export function classify(body: unknown): Classified {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new SessiongateError('SG_INVALID_REQUEST', 'Invalid JSON-RPC message: empty batch');
    const messages = body.map(toMessage);
    if (messages.some((m) => 'method' in m && m.method === 'initialize')) {
      throw new SessiongateError('SG_INVALID_REQUEST', 'initialize must not be part of a batch');
    }
    return { kind: 'batch', messages };
  }
  const message = toMessage(body);
  if (isResponse(message)) return { kind: 'response', message };
  if (isModernMessage(message)) return { kind: 'sessionless', message };
  if (message.method === 'initialize') {
    if (!isRequest(message)) throw new SessiongateError('SG_INVALID_REQUEST', 'initialize must be a request');
    return { kind: 'initialize', message };
  }
  return isRequest(message) ? { kind: 'request', message } : { kind: 'notification', message };
}

/** Lifecycle: the params an `initialize` request must carry. */
export interface InitializeParams {
  protocolVersion: string;
  capabilities: JsonObject;
  clientInfo: JsonObject & { name: string; version: string };
  [key: string]: JsonValue;
}

export function initializeParams(request: JsonRpcRequest): InitializeParams {
  const params = request.params;
  const bad = (why: string): never => {
    throw new SessiongateError('SG_INVALID_PARAMS', `Invalid initialize params: ${why}`, { requestId: request.id });
  };
  if (!params) return bad('params are required');
  if (typeof params['protocolVersion'] !== 'string' || params['protocolVersion'] === '') return bad('protocolVersion must be a string');
  if (!isObject(params['capabilities'])) return bad('capabilities must be an object');
  const info = params['clientInfo'];
  if (!isObject(info) || typeof info['name'] !== 'string' || typeof info['version'] !== 'string') {
    return bad('clientInfo must have a name and a version');
  }
  return params as InitializeParams;
}

/** The correlation id a message carries in `params._meta.clientSessionId`, if any. */
export function metaClientSessionId(message: JsonRpcMessage): string | undefined {
  if (!('method' in message) || !message.params) return undefined;
  const meta = message.params['_meta'];
  const value = isObject(meta) ? meta[META_CLIENT_SESSION_ID] : undefined;
  return typeof value === 'string' ? value : undefined;
}
