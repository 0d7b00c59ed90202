/**
 * @module protocol/headers
 * Wire names of the HTTP headers MCP's Streamable HTTP transport uses. HTTP header names are
 * case-insensitive; these are the lower-case forms used for look-ups, and `Display` the
 * spelling the 2025-11-25 revision uses when we write them.
 */

/** S1: carries the server-assigned session id (2025-03/06 spell it `Mcp-Session-Id`). */
export const SESSION_ID = 'mcp-session-id';
/** S9: the negotiated protocol revision, sent by clients from 2025-06-18 on. */
export const PROTOCOL_VERSION = 'mcp-protocol-version';
/** SEP-2822 draft: a client-generated correlation id, lower-case UUID v4. */
export const CLIENT_SESSION_ID = 'mcp-client-session-id';
/**
 * A correlation id the gateway accepts and forwards: 1 to 128 visible ASCII characters
 * (docs/limits.md, "Messages"); it travels in an HTTP header, a log line and the record.
 */
export function isValidClientSessionId(value: string): boolean {
  return /^[\x21-\x7e]{1,128}$/.test(value);
}
/** 2026-07-28 routing headers, mirrored from the body. */
export const MCP_METHOD = 'mcp-method';
export const MCP_NAME = 'mcp-name';
/** S11: SSE resumption. */
export const LAST_EVENT_ID = 'last-event-id';

/** The spellings we emit (the value of `Access-Control-Expose-Headers` must match them). */
export const Display = {
  sessionId: 'MCP-Session-Id',
  protocolVersion: 'MCP-Protocol-Version',
  clientSessionId: 'Mcp-Client-Session-Id',
} as const;
