/**
 * @module gateway/upstreams/require-session
 * The two handshake-era upstream applications (http, stdio) serve sessions only; the era router
 * sends them nothing else (docs/PROTOCOL.md, section 6). Used without it, a sessionless request
 * gets the spec's -32022 with the versions they speak.
 */
import { SessiongateError } from '../../protocol/failures.js';
import { HANDSHAKE_REVISIONS } from '../../protocol/revisions.js';
import type { RequestContext, SessionHandle } from '../../server/application.js';

export function requireSession(context: RequestContext): SessionHandle {
  if (context.session) return context.session;
  throw new SessiongateError('SG_SESSIONLESS_UNSUPPORTED_VERSION', 'This gateway speaks MCP 2025-03-26 to 2025-11-25 only', {
    data: { requested: context.protocolVersion, supported: [...HANDSHAKE_REVISIONS] },
  });
}
