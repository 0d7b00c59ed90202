/**
 * @module server/session-gate
 * The checks every non-initialize request passes: identity, the protocol version header (S9),
 * and the session id (S3 missing -> 400, S4 unknown/expired/foreign -> 404).
 */
import { SessiongateError } from '../protocol/failures.js';
import { PROTOCOL_VERSION, SESSION_ID } from '../protocol/headers.js';
import { isHandshakeRevision, isSessionlessRevision } from '../protocol/revisions.js';
import type { SessionRecord } from '../store/record.js';
import type { Incoming } from './exchange.js';
import type { Identity } from './application.js';
import type { ServerCore } from './server-core.js';

/**
 * The caller's principal; synchronous (no promise) when no `authenticate` is configured. An
 * `Identity` leaves its claims on the request for the application (`context.identity`).
 */
export function identityOf(core: ServerCore, incoming: Incoming): string | undefined | Promise<string | undefined> {
  if (!core.authenticate) return undefined;
  const started = core.recordTimings ? performance.now() : 0;
  const found = core.authenticate(incoming);
  if (!isThenable(found)) {
    if (core.recordTimings) (incoming.timings ??= {}).authenticated = [started, performance.now()];
    return principalOf(incoming, found);
  }
  return Promise.resolve(found).then((identity) => {
    if (core.recordTimings) (incoming.timings ??= {}).authenticated = [started, performance.now()];
    return principalOf(incoming, identity);
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The principal of what `authenticate` returned; null from plain JavaScript counts as anonymous. */
function principalOf(incoming: Incoming, identity: string | Identity | undefined | null): string | undefined {
  if (identity === null || typeof identity !== 'object') return identity ?? undefined;
  incoming.identity = identity;
  return identity.principal;
}

/**
 * S9: a present but unsupported `MCP-Protocol-Version` (the header's value) is a 400. Absent is fine: the
 * session's negotiated version (or 2025-03-26, when nothing else tells) applies.
 */
export function checkVersionHeader(version: string | undefined): void {
  if (version !== undefined && !isHandshakeRevision(version)) {
    throw new SessiongateError('SG_UNSUPPORTED_PROTOCOL_VERSION', `Bad Request: unsupported MCP-Protocol-Version "${printable(version)}"`);
  }
}

/**
 * GET and DELETE exist only with sessions. 2026-07-28 (Backward Compatibility): a sessionless
 * request, or one that names neither a session nor a handshake-era version, gets 405 with
 * `Allow: POST`. With a handshake-era version header and no id it is S3's 400 instead.
 */
export function refuseWithoutSession(incoming: Incoming): void {
  const version = incoming.header(PROTOCOL_VERSION);
  const sessionless = version !== undefined && isSessionlessRevision(version);
  if (sessionless || (version === undefined && incoming.header(SESSION_ID) === undefined)) {
    throw new SessiongateError('SG_METHOD_NOT_ALLOWED', undefined, { headers: { allow: 'POST' } });
  }
}

/** The live session the request names; the header is required (S3). */
export function requireSession(core: ServerCore, incoming: Incoming, identity: string | undefined): Promise<SessionRecord> {
  const id = incoming.header(SESSION_ID);
  if (id === undefined || id === '') return Promise.reject(new SessiongateError('SG_SESSION_ID_MISSING'));
  if (!core.recordTimings) return core.sessions.resolve(id, identity);
  const started = performance.now();
  return core.sessions.resolve(id, identity).then((record) => {
    (incoming.timings ??= {}).sessionFound = [started, performance.now()];
    return record;
  });
}

/** Echoes client-supplied text in an error safely: short, visible ASCII only. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}
