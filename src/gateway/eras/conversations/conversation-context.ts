/**
 * @module gateway/eras/conversations/conversation-context
 * The context the handshake-era upstream sees for a request in a conversation: the downstream
 * request's (principal, correlation id, signal, headers), with the conversation's session and
 * its revision.
 */
import type { RequestContext, SessionHandle } from '../../../server/application.js';
import { SessionContext } from '../../session-context.js';

export class ConversationContext extends SessionContext {
  constructor(request: RequestContext, session: SessionHandle) {
    super(request, session, session.record.protocolVersion);
  }
}
