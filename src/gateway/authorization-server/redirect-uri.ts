/**
 * @module gateway/authorization-server/redirect-uri
 * Which redirect URIs a client may register, and when one presented matches one registered:
 * exactly, character for character (OAuth 2.1 section 2.3.1; MCP authorization, "Open
 * Redirection"), except that a loopback redirect's port may differ, since a native app takes
 * whatever port is free when it runs (RFC 8252 section 7.3).
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why `uri` cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || uri.length > 2000) return 'a redirect URI must be a string of at most 2000 characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `redirect URI ${JSON.stringify(uri)} is not an absolute URL`;
  }
  if (url.hash !== '' || uri.includes('#')) return `redirect URI ${uri} has a fragment`;
  if (url.username !== '' || url.password !== '') return `redirect URI ${uri} carries credentials`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return isLoopback(url) ? undefined : `redirect URI ${uri} is http and not loopback (https or a loopback address)`;
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(url.protocol)) return `redirect URI ${uri} has a forbidden scheme`;
  // A private-use scheme of a native app (RFC 8252 section 7.1), such as cursor:// or vscode://.
  return /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$|^[a-z][a-z0-9+.-]*:$/.test(url.protocol)
    ? undefined
    : `redirect URI ${uri} has an invalid scheme`;
}

/** Whether `presented` is one of `registered` (RFC 8252: a loopback's port may vary). */
export function redirectUriMatches(presented: string, registered: readonly string[]): boolean {
  if (registered.includes(presented)) return true;
  const url = parsed(presented);
  if (!url || url.protocol !== 'http:' || !isLoopback(url)) return false;
  const withoutPort = portless(url);
  return registered.some((uri) => {
    const known = parsed(uri);
    return known !== undefined && known.protocol === 'http:' && isLoopback(known) && portless(known) === withoutPort;
  });
}

function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

function portless(url: URL): string {
  return `${url.protocol}//${url.hostname}${url.pathname}${url.search}`;
}

function parsed(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}
