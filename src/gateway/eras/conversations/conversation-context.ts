/**
 * @module gateway/eras/conversations/conversation-context
 * The context the handshake-era upstream sees for a request in a conversation: the downstream
 * request's (principal, correlation id, signal, headers), with the conversation's session.
 */
import type { RequestContext, SessionHandle } from '../../../server/application.js';
import type { Identity } from '../../../server/application.js';

/** The context an upstream application sees for a conversation: the request's, with a session. */
export class ConversationContext implements RequestContext {
  readonly #request: RequestContext;
  readonly session: SessionHandle;
  readonly protocolVersion: string;

  constructor(request: RequestContext, session: SessionHandle) {
    this.#request = request;
    this.session = session;
    this.protocolVersion = session.record.protocolVersion;
  }
  get principal(): string | null {
    return this.#request.principal;
  }
  get clientSessionId(): string | undefined {
    return this.#request.clientSessionId;
  }
  get identity(): Identity | undefined {
    return this.#request.identity;
  }
  get signal(): AbortSignal {
    return this.#request.signal;
  }
  header(name: string): string | undefined {
    return this.#request.header(name);
  }
  headers(): Record<string, string | string[] | undefined> {
    return this.#request.headers();
  }
}
