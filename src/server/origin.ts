/**
 * @module server/origin
 * S10: Origin validation (403 when present and not allowed) and the CORS headers a browser
 * client needs to see `MCP-Session-Id` at all.
 */
import { Display } from '../protocol/headers.js';

/** Host names of the loopback interface, as they appear in Host and Origin headers. */
export const LOCAL_HOSTNAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];
const LOCAL_HOSTS = new Set(LOCAL_HOSTNAMES);

/**
 * DNS rebinding: a hostile page whose name resolves to 127.0.0.1 sends its own name in both
 * Host and Origin, so "same host" alone proves nothing. A server listening on loopback must
 * check the Host header against its own names (GHSA-w48q-cv73-mx4w). Port is ignored.
 */
export function hostAllowed(host: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0]!;
  return allowed.includes(name.toLowerCase());
}

/**
 * Decides whether a request's Origin is allowed. With no list configured: same-host origins
 * (Origin host equals the Host header) and localhost origins. With a list: exactly those
 * origins, `*` meaning any. A request with no Origin (not a browser) is allowed.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (origin === undefined) return true;
  if (allowed !== undefined) return allowed.includes('*') || allowed.includes(origin);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null"
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return LOCAL_HOSTS.has(url.hostname) || (host !== undefined && url.host === host.toLowerCase());
}

const EXPOSED = [Display.sessionId, Display.protocolVersion].join(', ');
const ALLOWED_HEADERS = [
  'content-type',
  'accept',
  'authorization',
  'last-event-id',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-client-session-id',
  'mcp-method',
  'mcp-name',
].join(', ');

/** Headers for an actual response to an allowed cross-origin request. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSED,
    vary: 'Origin',
  };
}

/** Headers answering a CORS preflight. */
export function preflightHeaders(origin: string, requestedHeaders: string | undefined): Record<string, string> {
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    // Echo what was asked for (browsers send lower-case names) so custom auth headers pass.
    'access-control-allow-headers': requestedHeaders ?? ALLOWED_HEADERS,
    'access-control-max-age': '600',
  };
}
