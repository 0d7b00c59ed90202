/**
 * @module gateway/require-session
 * Both upstream kinds need a downstream session. Sessionless (2026-07-28) traffic through the
 * gateway is a later step (issue "both protocol eras"); until then it gets the spec's -32022
 * with the versions this gateway speaks.
 */
import { SessiongateError } from '../protocol/failures.js';
import { HANDSHAKE_REVISIONS } from '../protocol/revisions.js';
import type { RequestContext, SessionHandle } from '../server/application.js';

export function requireSession(context: RequestContext): SessionHandle {
  if (context.session) return context.session;
  throw new SessiongateError('SG_SESSIONLESS_UNSUPPORTED_VERSION', 'This gateway speaks MCP 2025-03-26 to 2025-11-25 only', {
    data: { requested: context.protocolVersion, supported: [...HANDSHAKE_REVISIONS] },
  });
}
