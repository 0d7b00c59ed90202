/**
 * @module client/session-core
 * The client's session logic, shared by the SDK transport and the standalone client:
 * - C1-C3: Accept headers, the session id from the initialize answer (never overwritten later),
 *   `MCP-Protocol-Version` on every request after initialize, no id for a stateless server;
 * - C4: on 404 to a request that carried the id, forget it, replay the recorded initialize and
 *   initialized, re-apply the session-scoped calls seen to succeed (logging/setLevel,
 *   resources/subscribe), and retry the request once; one recovery at a time however many
 *   requests hit the 404;
 * - the correlation id (SEP-2822 draft) on every request, surviving recoveries;
 * - C5: DELETE on close, bounded in time;
 * - with an `authProvider`, the SDK's OAuth flow on 401/403 and one more try (oauth-steps.ts).
 */
import { OptionError } from '../protocol/options.js';
import type { Abortable } from '../protocol/cancellation.js';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { CLIENT_SESSION_ID, PROTOCOL_VERSION, SESSION_ID } from '../protocol/headers.js';
import {
  isObject,
  isRequest,
  isRequestList,
  isWellFormedMessage,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  META_CLIENT_SESSION_ID,
  type RequestId,
} from '../protocol/jsonrpc.js';
import { hasVersionHeader } from '../protocol/revisions.js';
import { ScopedCalls } from '../protocol/session-scoped.js';
import { SessionClientError, SessionExpiredError } from './errors.js';
import { send } from './http.js';
import { checkClientOptions, DEFAULT_MAX_MESSAGE_BYTES, type SessionClientOptions } from './options.js';
import { OAuthSteps } from './oauth-steps.js';
import { NotFoundAnswer, post, type PostContext, resumeCall } from './post.js';
import { internalRequestId } from '../protocol/internal-ids.js';

const ACCEPT_BOTH = 'application/json, text/event-stream';

/** A session as JSON: enough to continue it elsewhere and to recover it there. */
export interface SessionSnapshot {
  sessionId: string;
  protocolVersion: string | undefined;
  initialize: JsonRpcRequest;
  /** Session-scoped calls to replay after a recovery (see `ScopedCalls`). */
  scoped: JsonRpcRequest[];
}

/** A snapshot as read back from storage (a session's state): checked, not trusted. */
export function isSessionSnapshot(value: unknown): value is SessionSnapshot {
  if (!isObject(value) || typeof value['sessionId'] !== 'string') return false;
  const version = value['protocolVersion'];
  const initialize = value['initialize'];
  return (
    (version === undefined || typeof version === 'string') &&
    isWellFormedMessage(initialize) &&
    isRequest(initialize) &&
    isRequestList(value['scoped'])
  );
}

/** Headers that carry nothing secret; every other header value is redacted from errors (C7). */
const PUBLIC_HEADERS = new Set(['accept', 'content-type', PROTOCOL_VERSION, CLIENT_SESSION_ID]);

function secretsOf(headers: Record<string, string>): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (PUBLIC_HEADERS.has(name)) continue;
    secrets.push(value);
    // A bearer token's value alone is a secret too, not just the whole header.
    if (/^\S+ \S+$/.test(value)) secrets.push(value.split(' ')[1]!);
  }
  return secrets;
}

export class SessionCore {
  readonly url: URL;
  readonly clientSessionId: string | undefined;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  recoveries = 0;
  readonly #options: SessionClientOptions;
  readonly #dispatcher: Dispatcher | undefined;
  #initialize: JsonRpcRequest | undefined;
  #scoped = new ScopedCalls();
  #recovering: Promise<void> | undefined;
  readonly #oauth: OAuthSteps | undefined;
  /** Called after a recovery, e.g. to reopen the GET stream. */
  onSessionReplaced: (() => void) | undefined;

  constructor(url: string | URL, options: SessionClientOptions = {}) {
    checkClientOptions(options);
    this.url = new URL(url);
    this.#options = options;
    this.#dispatcher = options.dispatcher;
    this.clientSessionId = options.clientSessionId === false ? undefined : (options.clientSessionId ?? randomUUID());
    this.#oauth = options.authProvider ? new OAuthSteps(options.authProvider, this.url) : undefined;
  }

  /** Headers common to every request: caller's, correlation id, session id and version (C2, C3). */
  async headers(message?: JsonRpcMessage): Promise<Record<string, string>> {
    const extra = typeof this.#options.headers === 'function' ? await this.#options.headers(message) : this.#options.headers;
    const headers: Record<string, string> = { ...extra };
    const authorization = await this.#oauth?.authorization();
    if (authorization !== undefined) headers['authorization'] = authorization;
    if (this.clientSessionId !== undefined) headers[CLIENT_SESSION_ID] = this.clientSessionId;
    if (this.sessionId !== undefined) headers[SESSION_ID] = this.sessionId;
    const initializing = message !== undefined && 'method' in message && message.method === 'initialize';
    if (this.protocolVersion !== undefined && !initializing && hasVersionHeader(this.protocolVersion))
      headers[PROTOCOL_VERSION] = this.protocolVersion;
    return headers;
  }

  /**
   * Sends one message. Every inbound message (the response included) goes to `deliver`.
   * Resolves with the response for a request, undefined otherwise.
   */
  async exchange(
    message: JsonRpcMessage,
    deliver: (message: JsonRpcMessage, eventId?: string) => void | Promise<void>,
    signal?: Abortable,
  ): Promise<JsonRpcResponse | undefined> {
    let response: JsonRpcResponse | undefined;
    try {
      response = await this.#exchangeRecovering(message, deliver, signal);
    } catch (error) {
      // A 401/403 means the server did not process the message (authorization comes first), so
      // it is sent once more after the OAuth flow got a token; the session id stays (docs/AUTH.md).
      if (!this.#oauth || !(await this.#oauth.answer(error))) throw error;
      response = await this.#exchangeRecovering(message, deliver, signal);
    }
    this.#oauth?.settled();
    return response;
  }

  /** Completes an OAuth flow the user authorized (the SDK transport's `finishAuth`). */
  async finishAuth(authorizationCode: string): Promise<void> {
    if (!this.#oauth) throw new OptionError('authProvider', 'sessiongate: finishAuth needs the authProvider option');
    await this.#oauth.finish(authorizationCode);
  }

  async #exchangeRecovering(
    message: JsonRpcMessage,
    deliver: (message: JsonRpcMessage, eventId?: string) => void | Promise<void>,
    signal?: Abortable,
  ): Promise<JsonRpcResponse | undefined> {
    const outbound = this.#withCorrelation(message);
    const sentWith = this.sessionId;
    try {
      return await this.#send(outbound, deliver, signal);
    } catch (error) {
      if (!(error instanceof NotFoundAnswer)) throw error;
      // C4: a 404 without a session id is an ordinary not-found, not an expiry (and a 400 an
      // ordinary bad request).
      if (sentWith === undefined) {
        if (error.status === 404) throw new SessionClientError('SG_CLIENT_NOT_FOUND', error.body ? 'HTTP 404' : undefined, { status: 404 });
        throw new SessionClientError('SG_CLIENT_HTTP_STATUS', `HTTP ${error.status}`, { status: error.status });
      }
      if (this.#options.recover === false || this.#initialize === undefined) {
        if (this.sessionId === sentWith) this.sessionId = undefined;
        throw new SessionExpiredError(this.#options.recover === false ? 'recovery is off' : 'no initialize to replay');
      }
      // The server says it does not know the session: it provably did not process this message.
      await this.#recover(sentWith);
      try {
        return await this.#send(outbound, deliver, signal);
      } catch (retryError) {
        if (retryError instanceof NotFoundAnswer) {
          this.sessionId = undefined;
          throw new SessionExpiredError('the new session was refused too');
        }
        throw retryError;
      }
    }
  }

  /** What a caller must keep to take the session over in another process (see `adopt`). */
  snapshot(): SessionSnapshot | undefined {
    if (this.sessionId === undefined || this.#initialize === undefined) return undefined;
    return {
      sessionId: this.sessionId,
      protocolVersion: this.protocolVersion,
      initialize: this.#initialize,
      scoped: this.#scoped.list(),
    };
  }

  /** Continues a session another process started (a gateway restart): id, version, replay data. */
  adopt(snapshot: SessionSnapshot): void {
    this.sessionId = snapshot.sessionId;
    this.protocolVersion = snapshot.protocolVersion;
    this.#initialize = snapshot.initialize;
    this.#scoped = ScopedCalls.from(snapshot.scoped);
  }

  /** C5: DELETE the session, bounded in time; 200, 204, 404 and 405 are all fine. */
  async terminate(): Promise<void> {
    if (this.sessionId === undefined) return;
    const headers = await this.headers();
    this.sessionId = undefined;
    try {
      const answer = await send(this.url, 'DELETE', headers, {
        signal: AbortSignal.timeout(this.#options.closeTimeoutMs ?? 2000),
        dispatcher: this.#dispatcher,
      });
      await answer.body.dump();
    } catch {
      // Best effort: the session expires on the server anyway.
    }
  }

  get dispatcher(): Dispatcher | undefined {
    return this.#dispatcher;
  }

  async #send(
    message: JsonRpcMessage,
    deliver: (message: JsonRpcMessage, eventId?: string) => void | Promise<void>,
    signal?: Abortable,
  ): Promise<JsonRpcResponse | undefined> {
    const isInitialize = 'method' in message && message.method === 'initialize';
    const headers = { ...(await this.headers(message)), accept: ACCEPT_BOTH, 'content-type': 'application/json' };
    let answeredId: string | undefined;
    const requestId = 'method' in message && 'id' in message ? message.id : undefined;
    // Session state is taken from the response before the caller sees it: the SDK Client sends
    // `initialized` the moment it has the initialize result, and that must carry the new id.
    const observe = (inbound: JsonRpcMessage, eventId?: string): void | Promise<void> => {
      if (requestId !== undefined && !('method' in inbound) && inbound.id === requestId && 'result' in inbound) {
        if (isInitialize) {
          // C2: the id comes from the initialize answer only; none means a stateless server.
          this.sessionId = answeredId;
          const version = inbound.result['protocolVersion'];
          if (typeof version === 'string') this.protocolVersion = version;
          this.#initialize = message as JsonRpcRequest;
        } else {
          this.#scoped.remember(message as JsonRpcRequest);
        }
      }
      return deliver(inbound, eventId);
    };
    const context = this.#postContext(headers, observe, signal);
    context.onHeaders = (id) => (answeredId = id);
    return (await post(context, message)).response;
  }

  /**
   * Picks up a call this session sent from another process (a gateway restarted): its stream
   * after `lastEventId`, until the response (client/post.ts, `resumeCall`).
   */
  async resumeCall(
    requestId: RequestId,
    lastEventId: string,
    deliver: (message: JsonRpcMessage, eventId?: string) => void | Promise<void>,
    signal?: Abortable,
  ): Promise<JsonRpcResponse> {
    const headers = { ...(await this.headers()), accept: ACCEPT_BOTH };
    return resumeCall(this.#postContext(headers, deliver, signal), requestId, lastEventId);
  }

  #postContext(
    headers: Record<string, string>,
    deliver: (message: JsonRpcMessage, eventId?: string) => void | Promise<void>,
    signal: Abortable | undefined,
  ): PostContext {
    return {
      url: this.url,
      headers,
      dispatcher: this.#dispatcher,
      deliver,
      resumeHeaders: () => {
        const { 'content-type': _post, ...rest } = headers;
        return rest;
      },
      // Only an error needs them: derived from the headers already built, not per request.
      secrets: () => secretsOf(headers),
      signal,
      maxMessageBytes: this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    };
  }

  /** One recovery at a time; a request that failed with an already replaced id just retries. */
  #recover(staleId: string): Promise<void> {
    if (this.sessionId !== staleId) return this.#recovering ?? Promise.resolve();
    this.#recovering ??= this.#reinitialize().finally(() => (this.#recovering = undefined));
    return this.#recovering;
  }

  async #reinitialize(): Promise<void> {
    this.sessionId = undefined; // C4: forget the dead id before anything else
    const ignore = (): void => {};
    try {
      const init = { ...this.#initialize!, id: this.#replayId() };
      const answer = await this.#send(init, ignore);
      if (!answer || 'error' in answer) throw new SessionExpiredError('the server refused the new initialize');
      await this.#send(this.#withCorrelation({ jsonrpc: '2.0', method: 'notifications/initialized' }), ignore);
      for (const call of this.#scoped.list()) await this.#send({ ...call, id: this.#replayId() }, ignore);
    } catch (error) {
      this.sessionId = undefined;
      throw error instanceof SessionExpiredError ? error : new SessionExpiredError('re-initialize failed', error);
    }
    this.recoveries++;
    this.#options.onRecovered?.({ recoveries: this.recoveries });
    this.onSessionReplaced?.();
  }

  #replayId(): string {
    return internalRequestId('replay');
  }

  /** SEP-2822 draft: the correlation id also rides in `params._meta.clientSessionId`. */
  #withCorrelation(message: JsonRpcMessage): JsonRpcMessage {
    if (this.clientSessionId === undefined || !('method' in message)) return message;
    const params: JsonObject = message.params ?? {};
    const meta = isObject(params['_meta']) ? params['_meta'] : {};
    return { ...message, params: { ...params, _meta: { ...meta, [META_CLIENT_SESSION_ID]: this.clientSessionId } } };
  }
}
