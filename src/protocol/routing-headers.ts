/**
 * @module protocol/routing-headers
 * 2026-07-28 request metadata headers (Streamable HTTP, "Request Metadata"; SEP-2243): the
 * body's method and name mirrored into `Mcp-Method` and `Mcp-Name` so intermediaries can route
 * without parsing, values outside the header-safe set carried as `=?base64?...?=`, and the
 * server's duty to reject a request whose headers and body disagree (400, -32020).
 */
import { SessiongateError } from './failures.js';
import { MCP_METHOD, MCP_NAME } from './headers.js';
import type { JsonRpcMessage } from './jsonrpc.js';

/** Methods whose `Mcp-Name` is required, and the param it mirrors. */
const NAMED: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

const SENTINEL = /^=\?base64\?(.*)\?=$/s;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Visible ASCII and space, no leading or trailing whitespace: safe as a plain header value. */
const PLAIN = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

/** Value Encoding: plain when header-safe (and not sentinel-shaped), else Base64 of UTF-8. */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value) && !SENTINEL.test(value)) return value;
  return `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/**
 * The value a header carries: surrounding whitespace dropped (RFC 9110 5.5), a sentinel value
 * decoded. Invalid Base64 or characters outside the allowed set are a mismatch.
 */
export function decodeHeaderValue(raw: string, header: string): string {
  const value = raw.trim();
  if (/[^\t\x20-\x7e]/.test(value)) throw headerMismatch(`${header} header has invalid characters`);
  const sentinel = SENTINEL.exec(value);
  if (!sentinel) return value;
  const encoded = sentinel[1]!;
  if (!BASE64.test(encoded)) throw headerMismatch(`${header} header is not valid Base64`);
  return Buffer.from(encoded, 'base64').toString('utf8');
}

export function headerMismatch(detail: string): SessiongateError {
  return new SessiongateError('SG_HEADER_MISMATCH', `Header mismatch: ${detail}`);
}

/** The body value `Mcp-Name` mirrors, for the methods that have one. */
export function routingName(message: JsonRpcMessage): string | undefined {
  if (!('method' in message)) return undefined;
  const param = NAMED[message.method];
  const value = param === undefined ? undefined : message.params?.[param];
  return typeof value === 'string' ? value : undefined;
}

/** The headers a client sends with a sessionless request (lower-case names). */
export function routingHeaders(message: JsonRpcMessage): Record<string, string> {
  if (!('method' in message)) return {};
  const headers: Record<string, string> = { [MCP_METHOD]: message.method };
  const name = routingName(message);
  if (name !== undefined) headers[MCP_NAME] = encodeHeaderValue(name);
  return headers;
}

/**
 * Server Validation: `Mcp-Method` present and equal to the body's method (values are
 * case-sensitive); `Mcp-Name` present and equal (after decoding) where the method has a name.
 * Header notifications have no defined requirements in this revision, so only requests are held
 * to them.
 */
export function checkRoutingHeaders(header: (name: string) => string | undefined, message: JsonRpcMessage): void {
  if (!('method' in message) || !('id' in message)) return;
  const method = header(MCP_METHOD);
  if (method === undefined) throw headerMismatch('Mcp-Method header is required');
  const sentMethod = decodeHeaderValue(method, 'Mcp-Method');
  if (sentMethod !== message.method) throw headerMismatch(`Mcp-Method header value does not match body method '${message.method}'`);
  const param = NAMED[message.method];
  if (param === undefined) return;
  const bodyName = message.params?.[param];
  const name = header(MCP_NAME);
  if (name === undefined) {
    if (typeof bodyName === 'string') throw headerMismatch('Mcp-Name header is required');
    return;
  }
  if (decodeHeaderValue(name, 'Mcp-Name') !== bodyName) throw headerMismatch(`Mcp-Name header value does not match body params.${param}`);
}
