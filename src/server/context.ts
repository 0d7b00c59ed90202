/**
 * @module server/context
 * Builds what the application sees of a request: its session handle and request context.
 */
import { CLIENT_SESSION_ID } from '../protocol/headers.js';
import type { JsonObject, JsonRpcMessage } from '../protocol/jsonrpc.js';
import { metaClientSessionId } from '../protocol/jsonrpc.js';
import type { SessionManager } from '../session/session-manager.js';
import type { SessionRecord } from '../store/record.js';
import type { RequestContext, SessionHandle } from './application.js';
import type { Incoming } from './exchange.js';

export function sessionHandle(sessions: SessionManager, record: SessionRecord): SessionHandle {
  return {
    id: record.id,
    record,
    attach: (disposer) => sessions.live.attach(record.id, disposer),
    async setState(state: JsonObject) {
      await sessions.store.setState(record.id, state);
    },
  };
}

/** The correlation id: the header wins; `_meta.clientSessionId` is the fallback (SEP-2822). */
export function clientSessionIdOf(incoming: Incoming, message: JsonRpcMessage | undefined): string | undefined {
  return incoming.header(CLIENT_SESSION_ID) ?? (message ? metaClientSessionId(message) : undefined);
}

export function requestContext(
  incoming: Incoming,
  fields: { session: SessionHandle | undefined; protocolVersion: string; principal: string | null; clientSessionId: string | undefined },
): RequestContext {
  return {
    ...fields,
    header: (name) => incoming.header(name),
    signal: incoming.signal,
  };
}
