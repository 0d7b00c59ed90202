/**
 * @module protocol/resource-uri
 * The one spelling of a resource URI that policy decides on, the audit names and the upstream
 * receives (docs/SECURITY.md, "Decided on the normal form"). An MCP server does not read the
 * URI as typed: the official SDK runs `new URL(uri)` before it looks anything up, so
 * `secret://vault/public/../private/key` reaches its handler as `secret://vault/private/key`.
 * A rule matched against the typed text would be walked around by any other spelling.
 *
 * The normal form is the WHATWG URL serialization (surrounding blanks and tabs dropped, scheme
 * lower case, dot segments removed, `file://localhost/` as `file:///`, a special scheme's host
 * folded), then, per RFC 3986 section 6.2.2, percent-encoded unreserved characters decoded, the
 * remaining escapes in upper case and a non-special host in lower case, repeated until it no
 * longer changes. A URI whose meaning still depends on the reader is refused, not guessed at:
 * one that does not parse as an absolute URI, and one whose path keeps a `.` or `..` segment
 * (opaque paths keep them), an empty segment (`//`), a backslash, or an encoded `/`, `\` or NUL.
 */

/** A URI in its normal form, or why it has none. */
export type NormalizedUri = { uri: string } | { refused: string };

/** RFC 3986 unreserved characters: decoding their escapes never changes what a URI means. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
/** Escapes that would make one path segment read as two (or end a C string) once a server decodes it. */
const AMBIGUOUS_ESCAPE = /%(2f|5c|00)/i;
const SPECIAL_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:']);

/** The normal form of `text`, or the reason it is refused (for a -32602 answer). */
export function normalizeResourceUri(text: string): NormalizedUri {
  let current = text;
  for (let round = 0; round < 4; round++) {
    const next = normalizeOnce(current);
    if (next === undefined) return { refused: 'not an absolute URI' };
    if (next === current) return ambiguity(next) ?? { uri: next };
    current = next;
  }
  return { refused: 'its spelling does not settle on one form' };
}

/** A resource pattern of a policy in the same form (globs kept); a pattern that is no URI stays as written. */
export function normalizeResourcePattern(pattern: string): string {
  const normal = normalizeResourceUri(pattern);
  return 'uri' in normal ? normal.uri : pattern;
}

/** A URI template (RFC 6570) is compared as written: its `{...}` are not URI characters. */
export function isUriTemplate(text: string): boolean {
  return text.includes('{');
}

function normalizeOnce(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (!SPECIAL_SCHEMES.has(url.protocol) && url.host !== '') url.host = url.host.toLowerCase();
  return url.href.replace(ESCAPE, (escape, hex: string) => {
    const character = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(character) ? character : escape.toUpperCase();
  });
}

/** Why a URI in WHATWG form is still read differently by different servers; undefined when it is not. */
function ambiguity(uri: string): NormalizedUri | undefined {
  const url = new URL(uri);
  const path = url.pathname;
  if (AMBIGUOUS_ESCAPE.test(path)) return { refused: 'its path holds an encoded "/", "\\" or NUL' };
  if (path.includes('\\')) return { refused: 'its path holds a backslash' };
  const segments = path.split('/');
  // A hierarchical path starts with '/', whose empty first segment is the root, not a '//'.
  const inner = path.startsWith('/') ? segments.slice(1) : segments;
  if (inner.slice(0, -1).includes('')) return { refused: 'its path holds an empty segment ("//")' };
  if (inner.some((segment) => segment === '.' || segment === '..')) return { refused: 'its path holds a "." or ".." segment' };
  return undefined;
}
