/**
 * @module protocol/revisions
 * The protocol revisions Sessiongate speaks and how a version is negotiated (docs/PROTOCOL.md, section 3).
 */
import { OptionError } from './options.js';

/** Handshake-era revisions, oldest first. */
export const HANDSHAKE_REVISIONS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;
export type HandshakeRevision = (typeof HANDSHAKE_REVISIONS)[number];

/** The first revision without sessions or `initialize` (SEP-2567, SEP-2575). */
export const SESSIONLESS_REVISION = '2026-07-28';

/** S9: with no `MCP-Protocol-Version` header and nothing else to tell, assume this one. */
export const DEFAULT_NEGOTIATED_REVISION: HandshakeRevision = '2025-03-26';

export const LATEST_HANDSHAKE_REVISION: HandshakeRevision = '2025-11-25';

const handshake: ReadonlySet<string> = new Set(HANDSHAKE_REVISIONS);

export function isHandshakeRevision(version: string): version is HandshakeRevision {
  return handshake.has(version);
}

/**
 * Revisions are dates; anything shaped `YYYY-MM-DD` at or after 2026-07-28 is sessionless.
 * Lexical order of ISO dates is chronological order.
 */
export function isSessionlessRevision(version: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= SESSIONLESS_REVISION;
}

/**
 * Lifecycle: the server answers with the requested version when it supports it, else with the
 * latest it supports; the client decides whether it can live with that.
 */
export function negotiateRevision(requested: string, supported: readonly string[] = HANDSHAKE_REVISIONS): string {
  // Our own copy of the string, not the request's: a record keeps it as long as the session lives.
  const known = supported.indexOf(requested);
  if (known >= 0) return supported[known]!;
  const latest = supported[supported.length - 1];
  if (latest === undefined) throw new OptionError('revisions', 'negotiateRevision: no supported revisions');
  return latest;
}

/** C3: the `MCP-Protocol-Version` header exists from 2025-06-18 on. */
export function hasVersionHeader(version: string): boolean {
  return version !== '2025-03-26';
}

/** S8: JSON-RPC batches exist only in 2025-03-26. */
export function allowsBatch(version: string): boolean {
  return version === '2025-03-26';
}

/** S11: from 2025-11-25 on, a server primes each SSE stream with an event id and `retry`. */
export function isPrimedRevision(version: string): boolean {
  return version === '2025-11-25';
}
