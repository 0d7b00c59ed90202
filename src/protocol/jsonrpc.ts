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

export function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/**
 * JSON-RPC ids the gateway accepts: strings, and integers a double holds exactly. A fractional
 * id or one past 2^53 would not survive a round trip through JavaScript (docs/limits.md).
 */
function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || Number.isSafeInteger(value);
}

/** A request id as a map key: ids are strings or numbers, and 1 and "1" are different ids. */
export function requestKey(id: RequestId): string | number {
  return typeof id === 'number' ? id : `s:${id}`;
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

/** The longest method name accepted; MCP's own are under 40 characters (docs/limits.md). */
export const MAX_METHOD_LENGTH = 256;
/** The deepest nesting of objects and arrays accepted in a message (docs/limits.md). */
export const MAX_NESTING_DEPTH = 64;

const REQUEST_MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);
const RESPONSE_MEMBERS = new Set(['jsonrpc', 'id', 'result', 'error']);
const ERROR_MEMBERS = new Set(['code', 'message', 'data']);
/** The `_meta` key tying a request to a task (MCP's schema gives it a string `taskId`). */
const RELATED_TASK = 'io.modelcontextprotocol/related-task';

function unknownMember(value: JsonObject, allowed: ReadonlySet<string>): string | undefined {
  for (const key in value) if (!allowed.has(key)) return key;
  return undefined;
}

/**
 * What MCP's schema fixes about `_meta` in params and results (and the SDKs enforce, dropping a
 * message that breaks it): an object, whose `progressToken` is a string or an integer and whose
 * related-task entry names a string `taskId`.
 */
function metaProblem(holder: JsonValue | undefined): string | undefined {
  if (!isObject(holder) || !('_meta' in holder)) return undefined;
  const meta = holder['_meta'];
  if (!isObject(meta)) return '_meta must be an object';
  if ('progressToken' in meta && !isRequestId(meta['progressToken'])) return '_meta.progressToken must be a string or an integer';
  const task = meta[RELATED_TASK];
  if (task !== undefined && !(isObject(task) && typeof task['taskId'] === 'string'))
    return `_meta["${RELATED_TASK}"] needs a string taskId`;
  return undefined;
}

/**
 * Whether objects and arrays nest deeper than `limit`. Recursive, but never deeper than `limit`
 * (it stops there), so a deep value cannot overflow the stack; no allocation per node (this
 * runs on every request).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nestsDeeperThan(value[i], limit - 1)) return true;
    return false;
  }
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  return false;
}

/**
 * Why a decoded value is not a JSON-RPC 2.0 message, or undefined when it is one. `strict`
 * (what the gateway accepts from clients; docs/limits.md, "Messages") adds: no members
 * JSON-RPC does not define, method names of a sane length, `_meta` as MCP's schema fixes it.
 * What passes strictly is what every MCP SDK accepts, so nothing forwarded can be silently
 * dropped by the server behind (which would leave its request unanswered). Without `strict`
 * (what the client accepts from servers), the shape alone: a sloppy but readable server still
 * works, a broken one (`"method": 5`, `"result": 5`) is refused.
 */
export function messageProblem(value: unknown, strict: boolean): string | undefined {
  if (!isObject(value)) return 'not an object';
  if (value['jsonrpc'] !== '2.0') return 'jsonrpc must be "2.0"';
  const hasId = 'id' in value;
  if ('method' in value) {
    const method = value['method'];
    if (typeof method !== 'string' || method === '') return 'method must be a non-empty string';
    if ('params' in value && !isObject(value['params'])) return 'params must be an object';
    if (hasId && !isRequestId(value['id'])) return 'id must be a string or an integer (at most 2^53 - 1)';
    if (!strict) return undefined;
    if (method.length > MAX_METHOD_LENGTH) return `method is longer than ${MAX_METHOD_LENGTH} characters`;
    const extra = unknownMember(value, REQUEST_MEMBERS);
    if (extra !== undefined) return `unknown member "${extra.slice(0, 64)}"`;
    return metaProblem(value['params']);
  }
  if (!hasId || (value['id'] !== null && !isRequestId(value['id']))) return 'a response needs an id (a string or an integer)';
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (hasResult === hasError) return 'a response has exactly one of result and error';
  if (hasResult && !isObject(value['result'])) return 'result must be an object';
  if (hasError) {
    const error = value['error'];
    if (!isObject(error) || !Number.isInteger(error['code']) || typeof error['message'] !== 'string') {
      return 'error must have an integer code and a message';
    }
    if (strict && unknownMember(error, ERROR_MEMBERS) !== undefined) return 'error has a member other than code, message and data';
  }
  if (!strict) return undefined;
  const extra = unknownMember(value, RESPONSE_MEMBERS);
  if (extra !== undefined) return `unknown member "${extra.slice(0, 64)}"`;
  return metaProblem(value['result']);
}

/** Validates one decoded value as a JSON-RPC 2.0 message (strictly, see messageProblem), or throws SG_INVALID_REQUEST. */
export function toMessage(value: unknown): JsonRpcMessage {
  const why = messageProblem(value, true);
  if (why === undefined) return value as JsonRpcMessage;
  const id = isObject(value) && isRequestId(value['id']) ? value['id'] : null;
  throw new SessiongateError('SG_INVALID_REQUEST', `Invalid JSON-RPC message: ${why}`, { requestId: id });
}

/** A message from a server: its shape is JSON-RPC 2.0 (see messageProblem, not strict). */
export function isWellFormedMessage(value: unknown): value is JsonRpcMessage {
  return messageProblem(value, false) === undefined;
}

/** A list of requests as kept in a session's state (read back, so checked: see session/state-slot). */
export function isRequestList(value: unknown): value is JsonRpcRequest[] {
  return Array.isArray(value) && value.every((item) => isWellFormedMessage(item) && isRequest(item));
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
 * Whether a message is sessionless (2026-07-28 and later): its `_meta` names a protocol version,
 * whatever the value (an unsupported one is the sessionless error -32022, not a handshake-era 400).
 * Versioning (docs/PROTOCOL.md, section 4): a request whose `_meta` names a protocol version is served statelessly, so this
 * wins over `initialize` and over an `MCP-Session-Id` header.
 */
export function isSessionlessMessage(message: JsonRpcMessage): boolean {
  if (!('method' in message) || !message.params) return false;
  const meta = message.params['_meta'];
  return isObject(meta) && meta[META_PROTOCOL_VERSION] !== undefined;
}

/**
 * Classifies an already-decoded POST body. Throws SG_INVALID_REQUEST for anything that is not
 * JSON-RPC, and SG_INVALID_REQUEST for a batch that is empty or carries `initialize` (S8).
 */
export function classify(body: unknown): Classified {
  if (nestsDeeperThan(body, MAX_NESTING_DEPTH + 1)) {
    throw new SessiongateError('SG_INVALID_REQUEST', `Invalid JSON-RPC message: nested deeper than ${MAX_NESTING_DEPTH} levels`, {
      requestId: isObject(body) && isRequestId(body['id']) ? body['id'] : null,
    });
  }
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
  if (isSessionlessMessage(message)) return { kind: 'sessionless', message };
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
