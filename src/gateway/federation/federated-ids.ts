/**
 * @module gateway/federation/federated-ids
 * Ids the servers choose (their requests to the client: sampling, elicitation, roots; the
 * progress tokens of those requests) are rewritten downstream so two servers can never
 * collide (docs/FEDERATION.md, "Messages"): `NAME` + `:` + a type letter + the id. The
 * encoding is the whole table: stateless, so an answer reaches the right server after a
 * restart or on another replica.
 */
import { isObject, type JsonObject, type JsonRpcMessage, type RequestId } from '../../protocol/jsonrpc.js';
import { cursorOf, withCursor } from '../../server/resume/stream-cursor.js';
import { SERVER_NAME } from './names.js';

/** A server's id or token as the client sees it. */
export function federatedId(server: string, id: RequestId): string {
  return `${server}:${typeof id === 'number' ? 'n' : 's'}${id}`;
}

/** The server and its own id behind a downstream id; undefined for an id the gateway did not make. */
export function serverId(downstream: unknown): { server: string; id: RequestId } | undefined {
  if (typeof downstream !== 'string') return undefined;
  const colon = downstream.indexOf(':');
  const server = downstream.slice(0, colon);
  if (colon <= 0 || !SERVER_NAME.test(server)) return undefined;
  const kind = downstream[colon + 1];
  const text = downstream.slice(colon + 2);
  if (kind === 's') return { server, id: text };
  if (kind === 'n' && text !== '' && Number.isFinite(Number(text))) return { server, id: Number(text) };
  return undefined;
}

/**
 * A server's message on its way to the client: its requests' ids and progress tokens, and the
 * ids its cancellations name, made federated. The stream cursor it carries (the upstream's
 * event id) is prefixed with the server's name, so a call adopted after a crash finds its server.
 */
export function toClient(server: string, message: JsonRpcMessage): JsonRpcMessage {
  let out = message;
  if ('method' in message && message.params !== undefined) {
    if ('id' in message) {
      out = { ...message, id: federatedId(server, message.id), params: withFederatedToken(server, message.params) };
    } else if (message.method === 'notifications/cancelled' && isRequestId(message.params['requestId'])) {
      out = { ...message, params: { ...message.params, requestId: federatedId(server, message.params['requestId']) } };
    }
  } else if ('method' in message && 'id' in message) {
    out = { ...message, id: federatedId(server, message.id) };
  }
  const cursor = cursorOf(message);
  return cursor === undefined ? out : withCursor(out, `${server}:${cursor}`);
}

/**
 * Where a client message about a server's own request goes: its answer (by the federated id),
 * or its progress on it (by the federated token), with the server's own id or token back.
 * Undefined for anything else.
 */
export function fromClient(message: JsonRpcMessage): { server: string; message: JsonRpcMessage } | undefined {
  if (!('method' in message)) {
    const target = serverId(message.id);
    return target && { server: target.server, message: { ...message, id: target.id } };
  }
  if (message.method !== 'notifications/progress' || message.params === undefined) return undefined;
  const target = serverId(message.params['progressToken']);
  return target && { server: target.server, message: { ...message, params: { ...message.params, progressToken: target.id } } };
}

/** The server and its own cursor in a cursor `toClient` prefixed. */
export function serverCursor(cursor: string): { server: string; cursor: string } | undefined {
  const colon = cursor.indexOf(':');
  const server = cursor.slice(0, colon);
  return colon > 0 && SERVER_NAME.test(server) ? { server, cursor: cursor.slice(colon + 1) } : undefined;
}

function withFederatedToken(server: string, params: JsonObject): JsonObject {
  const meta = params['_meta'];
  if (!isObject(meta) || !isRequestId(meta['progressToken'])) return params;
  return { ...params, _meta: { ...meta, progressToken: federatedId(server, meta['progressToken']) } };
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || typeof value === 'number';
}
